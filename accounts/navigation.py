"""The main navigation, per role. Each app adds its entries here as it gains pages."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Role

EVERYONE = frozenset(Role.values)


@dataclass(frozen=True)
class NavItem:
    label: Promise
    url_name: str
    icon: str
    roles: frozenset[str] = EVERYONE
    active_prefix: str = ""

    @property
    def url(self) -> str:
        return reverse(self.url_name)


NAVIGATION: tuple[NavItem, ...] = (
    NavItem(_("Home"), "home", "house"),
    NavItem(_("Clients"), "clients:list", "buildings", active_prefix="/clients/"),
    NavItem(_("Pipeline"), "contracts:pipeline", "kanban", active_prefix="/pipeline/"),
    NavItem(_("Contracts"), "contracts:list", "file-earmark-text", active_prefix="/contracts/"),
    NavItem(_("Requests"), "clients:requests", "inbox", active_prefix="/requests/"),
    NavItem(_("Partners"), "clients:partners", "diagram-3", active_prefix="/partners/"),
    NavItem(_("People"), "accounts:people", "people", active_prefix="/people/"),
    NavItem(_("Administration"), "admin:index", "gear", frozenset({Role.ADMIN}), active_prefix="/admin/"),
)


def navigation_for(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return [item for item in NAVIGATION if user.role in item.roles]
