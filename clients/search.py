"""Other apps' groups in the header search (contracts, proposals, invoices), registered in AppConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SearchHit:
    url: str
    title: str
    subtitle: str = ""


@dataclass(frozen=True)
class SearchGroup:
    label: object  # a lazy translation
    icon: str
    search: Callable  # (user, query, limit) -> list[SearchHit], within what the user may see


GROUPS: list[SearchGroup] = []


def register_search_group(group: SearchGroup) -> None:
    GROUPS.append(group)
