"""Panels on the home page. Accounts knows no domain app: each app registers its panels in AppConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class HomePanel:
    template: str
    roles: frozenset[str]
    context: Callable  # (user) -> dict, merged into the page's context
    order: int = 50


PANELS: list[HomePanel] = []


def register_home_panel(*, template: str, roles, context: Callable, order: int = 50) -> None:
    PANELS.append(HomePanel(template=template, roles=frozenset(roles), context=context, order=order))
    PANELS.sort(key=lambda panel: panel.order)


def panels_for(user) -> tuple[list[str], dict]:
    """The templates to include for this user's role, and the context they need."""
    templates, context = [], {}
    for panel in PANELS:
        if user.role in panel.roles:
            templates.append(panel.template)
            context.update(panel.context(user))
    return templates, context
