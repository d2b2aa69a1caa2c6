"""The lists beside a dashboard's figures: renewals due, clients at risk, SLA breaches, overdue invoices and the
receivables aging, each from the selector its own page uses, at most ``limit`` rows with the full count."""

from django.db.models import Count, QuerySet, Window
from django.utils import timezone

from accounts.models import User
from contracts.models import Contract

LIST_LIMIT = 10


def with_total(rows: QuerySet, limit: int = LIST_LIMIT) -> tuple[list, int]:
    """The first ``limit`` rows and how many there are in all, in one query (a window count)."""
    page = list(rows.annotate(total_rows=Window(Count("pk")))[:limit])
    return page, (page[0].total_rows if page else 0)


def renewals_due(*, user: User, owner: User | None = None, limit: int = LIST_LIMIT) -> tuple[list[Contract], int]:
    """Active contracts whose notice deadline is within 90 days (``Contract.objects.expiring()``), soonest first."""
    from contracts.selectors import expiring_contracts

    contracts = expiring_contracts(user=user)
    if owner is not None:
        contracts = contracts.filter(owner=owner)
    return with_total(contracts, limit)


def at_risk_clients(*, user: User, owner: User | None = None, limit: int = LIST_LIMIT) -> tuple[list, int]:
    """Clients under the health threshold, the least healthy first (the clients list's own score)."""
    from clients.health import AT_RISK_BELOW
    from clients.selectors import client_list

    # The list's tags are not shown here: no prefetch.
    clients = client_list(user=user, ordering="health").filter(health_score__lt=AT_RISK_BELOW).prefetch_related(None)
    if owner is not None:
        clients = clients.filter(owner=owner)
    return with_total(clients, limit)


def sla_breaches(*, user: User, limit: int = LIST_LIMIT, now=None) -> tuple[list, int]:
    """Open requests past their SLA, the longest overdue first."""
    from clients.models import Request

    requests = Request.objects.visible_to(user).open().breached(now or timezone.now())
    return with_total(requests.select_related("client", "owner").order_by("sla_due_at", "pk"), limit)


def overdue_invoices(*, user: User, owner: User, limit: int = LIST_LIMIT) -> tuple[list, int, list[dict]]:
    """Open invoices past due on the owner's contracts, the oldest due first, and their totals per currency."""
    from contracts.billing.selectors import invoice_list, totals_by_currency

    invoices = invoice_list(user=user).overdue().filter(contract__owner=owner)
    rows, total = with_total(invoices.order_by("due_date", "pk"), limit)
    return rows, total, totals_by_currency(invoices)


def receivables_aging(*, user: User) -> list[dict]:
    """The aging of what is owed today, one row per currency (contracts.billing.selectors.aging)."""
    from contracts.billing.selectors import aging, invoice_list

    return aging(invoice_list(user=user), by="currency")
