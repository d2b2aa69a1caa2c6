"""The sales dashboard: the funnel by stage, the weighted forecast by expected-close month, idle deals, win rate."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.models import PIPELINE_STAGES, Contract, Stage
from contracts.services import idle_days_allowed
from kpis.metrics import WEIGHTED, ZERO, Scope, _ratio, lost_contracts, open_pipeline, signed_contracts
from kpis.periods import Period

from .lists import with_total

FORECAST_MONTHS = 6


def funnel(scope: Scope) -> list[dict]:
    """Per pipeline stage: how many deals, and their value and weighted value per currency. One query."""
    rows = (
        open_pipeline(scope)
        .order_by()
        .values("stage", "currency")
        .annotate(n=Count("pk"), total=Coalesce(Sum("value"), ZERO), weighted=Coalesce(Sum(WEIGHTED), ZERO))
    )
    stages = {
        stage: {"stage": stage, "label": Stage(stage).label, "count": 0, "amounts": {}} for stage in PIPELINE_STAGES
    }
    for row in rows:
        stage = stages[row["stage"]]
        stage["count"] += row["n"]
        stage["amounts"][row["currency"]] = {"total": row["total"], "weighted": row["weighted"]}
    for stage in stages.values():
        stage["amounts"] = dict(sorted(stage["amounts"].items()))
    return list(stages.values())


@dataclass
class ForecastMonth:
    key: str  # "overdue", "2026-12", "later", "undated"
    label: str
    start: date | None
    count: int = 0
    weighted: dict[str, Decimal] = field(default_factory=dict)


def forecast(scope: Scope, today: date | None = None, months: int = FORECAST_MONTHS) -> list[ForecastMonth]:
    """The open pipeline's weighted value by expected-close month: deals whose date has passed, this month and
    the next ``months − 1``, later, and deals without a date. The buckets add up to the weighted pipeline.
    One query."""
    today = today or timezone.localdate()
    this_month = Period.containing("month", today)
    upcoming = [this_month]
    while len(upcoming) < months:
        upcoming.append(upcoming[-1].next())
    buckets = {"overdue": ForecastMonth("overdue", str(_("Expected before this month")), None)}
    for period in upcoming:
        buckets[period.key] = ForecastMonth(period.key, period.label, period.start)
    buckets["later"] = ForecastMonth("later", str(_("Later")), None)
    buckets["undated"] = ForecastMonth("undated", str(_("No expected close")), None)
    rows = (
        open_pipeline(scope)
        .order_by()
        .values("currency", month=TruncMonth("expected_close"))
        .annotate(n=Count("pk"), weighted=Coalesce(Sum(WEIGHTED), ZERO))
    )
    for row in rows:
        bucket = buckets[_forecast_key(row["month"], this_month, upcoming[-1])]
        bucket.count += row["n"]
        bucket.weighted[row["currency"]] = bucket.weighted.get(row["currency"], Decimal("0")) + row["weighted"]
    for bucket in buckets.values():
        bucket.weighted = dict(sorted(bucket.weighted.items()))
    return list(buckets.values())


def _forecast_key(month, first: Period, last: Period) -> str:
    if month is None:
        return "undated"
    if isinstance(month, datetime):
        month = month.date()
    if month < first.start:
        return "overdue"
    if month > last.end:
        return "later"
    return Period.containing("month", month).key


def forecast_records(scope: Scope, key: str, today: date | None = None) -> QuerySet[Contract]:
    """The open deals of one forecast bucket (the drill-down of a forecast figure)."""
    today = today or timezone.localdate()
    first = Period.containing("month", today)
    deals = open_pipeline(scope)
    if key == "undated":
        return deals.filter(expected_close__isnull=True)
    if key == "overdue":
        return deals.filter(expected_close__lt=first.start)
    last = first
    for _step in range(FORECAST_MONTHS - 1):
        last = last.next()
    if key == "later":
        return deals.filter(expected_close__gt=last.end)
    month = Period.parse(key)
    if month.kind != "month" or not first.start <= month.start <= last.start:
        raise ValueError(key)
    return deals.filter(expected_close__gte=month.start, expected_close__lte=month.end)


def idle_filter(now=None) -> Q:
    """Deals untouched in their pipeline stage for longer than the stage allows (ACCORD_PIPELINE_IDLE_DAYS)."""
    now = now or timezone.now()
    condition = Q(pk__in=[])
    for stage in PIPELINE_STAGES:
        condition |= Q(stage=stage, stage_changed_at__lt=now - timedelta(days=idle_days_allowed(stage)))
    return condition


def idle_deals(scope: Scope, limit: int = 20, now=None) -> tuple[list[Contract], int]:
    """Idle open deals, the longest untouched first, with client and owner."""
    deals = open_pipeline(scope).filter(idle_filter(now)).select_related("client", "owner")
    return with_total(deals.order_by("stage_changed_at", "pk"), limit)


def win_loss(scope: Scope, period: Period) -> dict:
    """Deals won (signed) and lost in the period and the win rate (``metrics.win_rate``), in two queries."""
    won = signed_contracts(scope, period).count()
    lost = lost_contracts(scope, period).count()
    return {"won": won, "lost": lost, "rate": _ratio(won, won + lost)}
