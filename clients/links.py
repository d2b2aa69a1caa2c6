"""Other apps' links on the client page (statement of account, invoices), registered in AppConfig.ready(), so
the clients app shows them without importing the apps that own them."""

from collections.abc import Callable
from dataclasses import dataclass


def anyone_who_opens_the_client(user, client) -> bool:
    return True


@dataclass(frozen=True)
class ClientLink:
    label: object  # a lazy translation
    icon: str  # a Bootstrap icon name
    url: Callable  # (client) -> str
    test_id: str = ""
    # (user, client) -> bool; the client page is only shown to who may open the client. Keep it free of queries.
    visible: Callable = anyone_who_opens_the_client


LINKS: list[ClientLink] = []


def register_client_link(link: ClientLink) -> None:
    LINKS.append(link)


def links_for(user, client) -> list[dict]:
    return [
        {"label": link.label, "icon": link.icon, "url": link.url(client), "test_id": link.test_id}
        for link in LINKS
        if link.visible(user, client)
    ]
