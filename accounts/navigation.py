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

    @property
    def prefix_slice(self) -> str:
        """For the template's ``request.path|slice:item.prefix_slice == item.active_prefix``: the path starts with
        the prefix (``in`` would also match /contracts/5/invoices/new/ for /invoices/)."""
        return f":{len(self.active_prefix)}"


@dataclass(frozen=True)
class NavGroup:
    """A dropdown of entries under one label (the bar has no room for each of them on a laptop)."""

    label: Promise
    icon: str
    children: tuple[NavItem, ...]
    test_id: str = ""

    @property
    def roles(self) -> frozenset[str]:
        return frozenset().union(*(child.roles for child in self.children))

    def for_role(self, role: str) -> "NavGroup":
        return NavGroup(
            self.label, self.icon, tuple(child for child in self.children if role in child.roles), self.test_id
        )


BILLING_ROLES = frozenset({Role.FINANCE, Role.DIRECTOR, Role.ADMIN})
KPI_AGENCY_ROLES = frozenset({Role.DIRECTOR, Role.ADMIN, Role.FINANCE})
KPI_SALES_ROLES = frozenset({Role.SALES, Role.DIRECTOR, Role.ADMIN})

NAVIGATION: tuple[NavItem | NavGroup, ...] = (
    NavItem(_("Home"), "home", "house"),
    NavItem(_("Clients"), "clients:list", "buildings", active_prefix="/clients/"),
    NavGroup(
        _("Deals"),
        "kanban",
        (
            NavItem(_("Pipeline"), "contracts:pipeline", "kanban", active_prefix="/pipeline/"),
            NavItem(_("Contracts"), "contracts:list", "file-earmark-text", active_prefix="/contracts/"),
            NavItem(_("Proposals"), "proposals:list", "file-earmark-richtext", active_prefix="/proposals/"),
        ),
        test_id="nav-deals",
    ),
    NavGroup(
        _("Billing"),
        "receipt",
        (
            NavItem(_("Invoices"), "contracts:invoices", "receipt", active_prefix="/invoices/"),
            NavItem(_("Receivables"), "contracts:receivables", "hourglass-split", active_prefix="/receivables/"),
            NavItem(_("Collections"), "contracts:collections", "cash-stack", BILLING_ROLES, "/collections/"),
        ),
        test_id="nav-billing",
    ),
    NavGroup(
        _("KPIs"),
        "graph-up-arrow",
        (
            NavItem(_("Agency dashboard"), "kpis:director", "speedometer2", KPI_AGENCY_ROLES, "/kpis/"),
            NavItem(_("My dashboard"), "kpis:am", "person-badge", frozenset({Role.ACCOUNT_MANAGER}), "/kpis/am/"),
            NavItem(_("Sales dashboard"), "kpis:sales", "funnel", KPI_SALES_ROLES, "/kpis/sales/"),
            NavItem(_("Targets"), "kpis:targets", "bullseye", active_prefix="/kpis/targets/"),
        ),
        test_id="nav-kpis",
    ),
    NavItem(_("Requests"), "clients:requests", "inbox", active_prefix="/requests/"),
    NavItem(_("Partners"), "clients:partners", "diagram-3", active_prefix="/partners/"),
    NavItem(_("People"), "accounts:people", "people", active_prefix="/people/"),
    NavGroup(
        _("Settings"),
        "gear",
        (
            NavItem(
                _("Webhooks"), "integrations:endpoints", "broadcast", frozenset({Role.ADMIN}), "/settings/webhooks/"
            ),
            NavItem(_("Administration"), "admin:index", "gear", frozenset({Role.ADMIN}), active_prefix="/admin/"),
        ),
        test_id="nav-settings",
    ),
)


def navigation_for(user) -> list[NavItem | NavGroup]:
    if not user.is_authenticated:
        return []
    items = [item for item in NAVIGATION if user.role in item.roles]
    return [item.for_role(user.role) if isinstance(item, NavGroup) else item for item in items]
