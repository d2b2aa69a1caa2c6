"""The lists beside a dashboard's figures: renewals due, clients at risk, SLA breaches, overdue invoices and the
receivables aging, each from the selector its own page uses, at most ``limit`` rows with the full count."""

from functools import partial

from django.db.models import F, Func, IntegerField, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from contracts.models import Contract
from kpis import cache as kpi_cache

LIST_LIMIT = 10


def with_total(rows: QuerySet, limit: int = LIST_LIMIT) -> tuple[list, int]:
    """The first ``limit`` rows and how many there are in all, in one query. The count is an uncorrelated
    subquery, computed once without the page's joins: a window count would join every row before keeping ten."""
    count = rows.order_by().values(n=Func(F("pk"), function="COUNT"))
    page = list(rows.annotate(total_rows=Subquery(count, output_field=IntegerField()))[:limit])
    return page, (page[0].total_rows if page else 0)


def renewals_due(*, user: User, owner: User | None = None, limit: int = LIST_LIMIT) -> tuple[list[Contract], int]:
    """Active contracts whose notice deadline is within 90 days, soonest first: the rows of
    ``contracts.selectors.expiring_contracts`` (the same visibility and filter), without the list page's
    annotations on which renewals the user may open (for everyone-seeing roles, a look-up in every contract)."""
    contracts = (
        Contract.objects.visible_to(user)
        .expiring()
        .select_related("client", "owner", "successor")
        .order_by("notice_deadline", "pk")
    )
    if owner is not None:
        contracts = contracts.filter(owner=owner)
    return with_total(contracts, limit)


def at_risk_clients(
    *, user: User, owner: User | None = None, limit: int = LIST_LIMIT, revision_now: str | None = None
) -> tuple[list, int]:
    """Active clients under the health threshold, the least healthy first (the clients list's own score, computed
    once per client). Active as the at-risk sweep (``clients.tasks``) counts them: status active or at risk; a
    prospect or a churned account is not a client the agency is about to lose."""
    from clients.health import least_healthy
    from clients.models import Client, ClientStatus

    clients = Client.objects.visible_to(user).filter(status__in=[ClientStatus.ACTIVE, ClientStatus.AT_RISK])
    if owner is not None:
        clients = clients.filter(owner=owner)
    # Every active client's score is computed to find the ten lowest: cached while none of its inputs changes
    # (``kpis.cache``). The score also moves with time alone (days without activity, a notice deadline or a due
    # date coming closer): the day is part of the key, and ``kpis.cache.TIMEOUT`` bounds the rest.
    parts = (user.pk, user.role, user.team_id, getattr(owner, "pk", None), limit)
    return kpi_cache.cached_until_clients_change(
        "at-risk", parts, lambda: least_healthy(clients, limit=limit), revision_now=revision_now
    )


def sla_breaches(*, user: User, limit: int = LIST_LIMIT, now=None) -> tuple[list, int]:
    """Open requests past their SLA, the longest overdue first."""
    from clients.models import Request

    requests = Request.objects.visible_to(user).open().breached(now or timezone.now())
    return with_total(requests.select_related("client", "owner").order_by("sla_due_at", "pk"), limit)


def overdue_invoices(
    *, user: User, owner: User, limit: int = LIST_LIMIT, revision_now: str | None = None
) -> tuple[list, int, list[dict]]:
    """Open invoices past due on the owner's contracts, the oldest due first, and their totals per currency (from
    the billing cache while no invoice changes; ``revision_now`` as ``receivables_aging`` takes it)."""
    from contracts.billing.cache import cached
    from contracts.billing.selectors import invoice_list, totals_by_currency

    invoices = invoice_list(user=user).overdue().filter(contract__owner=owner)
    # The page and its count too (90–140 ms over an account manager's 15k contracts), until an invoice changes.
    rows, total = cached(
        invoices.order_by("due_date", "pk"), partial(with_total, limit=limit), revision_now=revision_now
    )
    return rows, total, cached(invoices.order_by(), totals_by_currency, revision_now=revision_now)


def receivables_aging(*, user: User, revision_now: str | None = None) -> list[dict]:
    """The aging of what is owed today, one row per currency (``contracts.billing.selectors.aging``): from the
    pre-summed invoice totals on PostgreSQL, else from the billing cache while no invoice changes (``revision_now``:
    the data's revision a board read, ``kpis.cache``, which moves whenever billing's does)."""
    from contracts.billing import totals as summed
    from contracts.billing.selectors import cached_aging_totals, invoice_list

    today = timezone.localdate()
    presummed = summed.aging_totals(user, today=today)
    if presummed is not None:
        return presummed
    return cached_aging_totals(invoice_list(user=user), today=today, revision_now=revision_now)
