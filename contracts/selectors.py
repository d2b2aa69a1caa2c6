"""Reads for contracts. The board, the list, the export, the API and the dashboards start here."""

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from functools import cached_property
from typing import TypeVar

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from contracts.models import PIPELINE_STAGES, Contract, CostEntry, Phase, Stage, StageChange
from core.history import HistorySource
from core.money import Currency

# A column shows its 25 deals closing soonest (two screens of cards), then links to the rest in the contract list.
BOARD_CARDS_PER_COLUMN = 25
MONEY = DecimalField(max_digits=20, decimal_places=2)
T = TypeVar("T")


def contract_list(*, user: User) -> QuerySet[Contract]:
    """Contracts the user may see, with client, owner and team for lists and cards."""
    return Contract.objects.visible_to(user).select_related("client", "owner", "owner__team")


def attach_renewal_links(contracts: list[Contract], *, user: User) -> list[Contract]:
    """Set ``renewal_of_visible`` and ``visible_successor_id`` on a page of contracts: which of the contracts before
    and after each one (renewals) the user may open too, so a link never reveals a hidden contract. One query for
    the page, after it is cut: as an annotation of the whole list, PostgreSQL checked every visible contract (a
    hashed scan of all of them) before taking the first 25."""
    pages = {contract.pk for contract in contracts}
    earlier = {contract.renewal_of_id for contract in contracts if contract.renewal_of_id}
    seen, successors = set(), {}
    if pages:
        rows = (
            Contract.objects.visible_to(user)
            .filter(Q(pk__in=earlier) | Q(renewal_of__in=pages))
            .order_by()
            .values_list("pk", "renewal_of_id")
        )
        for pk, renewal_of in rows:
            seen.add(pk)
            if renewal_of in pages:
                successors[renewal_of] = pk  # renewal_of is one-to-one: at most one successor
    for contract in contracts:
        contract.renewal_of_visible = contract.renewal_of_id in seen
        contract.visible_successor_id = successors.get(contract.pk)
    return contracts


def contract_detail(*, user: User) -> QuerySet[Contract]:
    """One contract with everything its page shows, in a fixed number of queries."""
    costs = CostEntry.objects.select_related("department", "partner", "phase", "recorded_by")
    phases = Phase.objects.annotate(spent=Coalesce(Sum("costs__amount"), Value(Decimal("0")), output_field=MONEY))
    spent = (
        CostEntry.objects.filter(contract=OuterRef("pk")).order_by().values("contract").annotate(total=Sum("amount"))
    )
    return (
        contract_list(user=user)
        .select_related("renewal_of", "client__owner")
        .annotate(costs_spent=Coalesce(Subquery(spent.values("total"), output_field=MONEY), Value(Decimal("0"))))
        .prefetch_related(
            Prefetch("rounds"),
            Prefetch("phases", queryset=phases),
            Prefetch("costs", queryset=costs),
            Prefetch("stage_changes", queryset=StageChange.objects.select_related("actor")),
        )
    )


def cached_until_contracts_change(name: str, queryset: QuerySet, compute: Callable[[], T]) -> T:
    """``compute()`` over ``queryset`` (a count, the board's sums), kept in the cache under the query's own SQL (the
    user's visibility and the filters are in it) until a contract or an invoice changes (``kpis.cache``: the same
    revision as the dashboards, one index look-up). A client handed to another account manager changes what they
    see without touching a contract: ``kpis.cache.TIMEOUT`` bounds how long such a figure lags."""
    from kpis import cache as kpi_cache

    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # .none(): nothing to look up
        return compute()
    return kpi_cache.cached(name, (sql, params), compute)


class ContractPaginator(Paginator):
    """Pages of contracts whose count (every contract the user sees, 50k for an account manager) comes from the
    cache until a contract changes."""

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by()
        if counted.model is not Contract:  # a contract's rounds, phases or costs (the API's actions): counted live
            return counted.count()
        return cached_until_contracts_change("contract-count", counted, counted.count)


def weighted_value_expression():
    return ExpressionWrapper(F("value") * F("probability") / Value(Decimal(100)), output_field=MONEY)


def pipeline_columns(contracts: QuerySet[Contract], *, cards: int = BOARD_CARDS_PER_COLUMN) -> list[dict]:
    """The board's columns: per pipeline stage, the count, and total and weighted value per currency (in SQL),
    and the first ``cards`` deals by expected close. Three queries per column at most, whatever the row count."""
    open_deals = contracts.filter(stage__in=PIPELINE_STAGES)
    totals = defaultdict(dict)
    counts = {}
    grouped = (
        open_deals.order_by()
        .values("stage", "currency")
        .annotate(n=Count("pk"), total=Sum("value"), weighted=Sum(weighted_value_expression()))
    )
    for row in cached_until_contracts_change("pipeline-totals", grouped, lambda: list(grouped)):
        totals[row["stage"]][row["currency"]] = {"total": row["total"], "weighted": row["weighted"]}
        counts[row["stage"]] = counts.get(row["stage"], 0) + row["n"]
    columns = []
    for stage in PIPELINE_STAGES:
        deals = list(open_deals.filter(stage=stage).order_by(F("expected_close").asc(nulls_last=True), "pk")[:cards])
        columns.append(
            {
                "stage": stage,
                "label": Stage(stage).label,
                "count": counts.get(stage, 0),
                "totals": [
                    {"currency": currency, **totals[stage][currency]}
                    for currency in Currency.values
                    if currency in totals[stage]
                ],
                "deals": deals,
            }
        )
    return columns


def is_idle(contract: Contract, now=None) -> bool:
    """Untouched in its pipeline stage for longer than the stage allows (settings.ACCORD_PIPELINE_IDLE_DAYS)."""
    from contracts.services import idle_days_allowed

    now = now or timezone.now()
    return contract.stage in PIPELINE_STAGES and now - contract.stage_changed_at > timedelta(
        days=idle_days_allowed(contract.stage)
    )


def budget_summary(contract: Contract) -> dict:
    """Budget against actual costs, margin (value − costs) and ROI (margin ÷ costs), from prefetched costs."""
    spent = getattr(contract, "costs_spent", None)
    if spent is None:  # a contract not loaded through contract_detail
        spent = contract.costs.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    margin = contract.value - spent
    return {
        "budget": contract.budget,
        "spent": spent,
        "remaining": contract.budget - spent,
        "used_percent": int(spent * 100 / contract.budget) if contract.budget else None,
        "margin": margin,
        "roi_percent": (margin * 100 / spent).quantize(Decimal("0.1")) if spent else None,
        "warning": "over"
        if contract.budget and spent >= contract.budget
        else ("near" if contract.budget and spent * 100 >= contract.budget * 80 else None),
    }


def expiring_contracts(*, user: User, within_days: int = 90) -> QuerySet[Contract]:
    """Active contracts whose notice deadline is within ``within_days``, soonest first, with renewal status."""
    return (
        contract_list(user=user)
        .expiring(within_days=within_days)
        .select_related("successor")
        .order_by("notice_deadline", "pk")
    )


def contract_history_sources(*, contract: Contract) -> list[HistorySource]:
    """What a contract's history shows: its own changes, money in its currency."""
    return [HistorySource(Contract, Q(id=contract.pk), currency="currency")]
