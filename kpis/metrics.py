"""Every KPI, computed in SQL from the live data for any scope (an AM, a team, the agency) and calendar period.

One function per metric (DOMAIN.md, "KPIs and dashboards"). Each returns a ``Figure``: money metrics give one
amount per currency (never added across currencies), counts, ratios and days a single ``value``. Each metric's
``records(scope, period)`` is the queryset behind the figure, so a dashboard's drill-down list sums to the number
it came from. A contract's figures belong to its owner; a team's are its members'.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least

from accounts.models import Team, User
from clients.models import Client
from contracts.models import (
    OPEN_STATUSES,
    PIPELINE_STAGES,
    Contract,
    ContractKind,
    CostEntry,
    Invoice,
    InvoiceStatus,
    Payment,
    Stage,
    StageChange,
)
from core.money import Currency

from . import cache as kpi_cache
from . import ledger
from .models import BillingMonth, ClientRevenue, KpiTarget, Metric, ScopeKind
from .periods import Period

MONEY = DecimalField(max_digits=20, decimal_places=2)
ZERO = Value(Decimal("0"), output_field=MONEY)
# Invoices that count as revenue once issued (a void one never happened; drafts were never sent).
REVENUE_EXCLUDED = (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
# Invoices that can be owed on a given day (void and written-off ones are excluded from receivables).
RECEIVABLE_STATUSES = (*OPEN_STATUSES, InvoiceStatus.PAID)
RETENTION_MONTHS = 12


@dataclass(frozen=True)
class Scope:
    kind: str
    user: User | None = None
    team: Team | None = None

    @classmethod
    def agency(cls) -> "Scope":
        return cls(ScopeKind.AGENCY)

    @classmethod
    def of_user(cls, user: User) -> "Scope":
        return cls(ScopeKind.USER, user=user)

    @classmethod
    def of_team(cls, team: Team) -> "Scope":
        return cls(ScopeKind.TEAM, team=team)

    @property
    def label(self) -> str:
        if self.kind == ScopeKind.USER:
            return str(self.user)
        if self.kind == ScopeKind.TEAM:
            return str(self.team)
        return str(ScopeKind.AGENCY.label)

    @property
    def key(self) -> str:
        """'agency', 'team:3' or 'user:12'."""
        if self.kind == ScopeKind.USER:
            return f"user:{self.user.pk}"
        if self.kind == ScopeKind.TEAM:
            return f"team:{self.team.pk}"
        return str(ScopeKind.AGENCY)

    def owned(self, owner_path: str) -> Q:
        """Rows whose owner (at ``owner_path``) is in this scope."""
        if self.kind == ScopeKind.USER:
            return Q(**{owner_path: self.user})
        if self.kind == ScopeKind.TEAM:
            return Q(**{f"{owner_path}__team": self.team})
        return Q()

    def targets(self) -> Q:
        if self.kind == ScopeKind.USER:
            return Q(scope=ScopeKind.USER, user=self.user)
        if self.kind == ScopeKind.TEAM:
            return Q(scope=ScopeKind.TEAM, team=self.team)
        return Q(scope=ScopeKind.AGENCY)


@dataclass
class Figure:
    """A metric's actual: ``amounts`` per currency for money, ``value`` otherwise (None: not defined, e.g. a
    rate with nothing to divide by)."""

    metric: str
    amounts: dict[str, Decimal] = field(default_factory=dict)
    value: Decimal | None = None

    @property
    def is_money(self) -> bool:
        return METRICS[self.metric].unit == "money"


@dataclass(frozen=True)
class MetricDefinition:
    key: str
    unit: str  # money, count, percent, days, ratio
    compute: Callable[[Scope, Period], Figure]
    records: Callable[[Scope, Period], QuerySet] | None
    higher_is_better: bool = True


def _per_currency(rows: QuerySet, currency: str, amount) -> dict[str, Decimal]:
    """{currency: Σ amount} in one query, currencies in a stable order."""
    totals = rows.order_by().values(currency).annotate(total=Coalesce(Sum(amount), ZERO)).order_by(currency)
    return {row[currency]: row["total"] for row in totals}


def _ratio(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"))


# --- Contracts ------------------------------------------------------------------------------------------------


def signed_in(period: Period) -> Q:
    return Q(signed_at__gte=period.starts_at, signed_at__lt=period.ends_before)


def signed_contracts(scope: Scope, period: Period) -> QuerySet[Contract]:
    return Contract.objects.filter(scope.owned("owner"), signed_in(period))


def signed_revenue(scope: Scope, period: Period) -> Figure:
    """Σ value of contracts signed in the period."""
    return Figure(Metric.SIGNED_REVENUE, _per_currency(signed_contracts(scope, period), "currency", "value"))


def upsell_contracts(scope: Scope, period: Period) -> QuerySet[Contract]:
    return signed_contracts(scope, period).filter(kind=ContractKind.UPSELL)


def upsell_revenue(scope: Scope, period: Period) -> Figure:
    return Figure(Metric.UPSELL_REVENUE, _per_currency(upsell_contracts(scope, period), "currency", "value"))


def lost_contracts(scope: Scope, period: Period) -> QuerySet[Contract]:
    """Deals marked lost in the period (the stage change's time, not the deal's creation)."""
    lost = StageChange.objects.filter(
        target=Stage.LOST, changed_at__gte=period.starts_at, changed_at__lt=period.ends_before
    )
    return Contract.objects.filter(scope.owned("owner"), stage=Stage.LOST, pk__in=lost.values("contract_id"))


def win_rate(scope: Scope, period: Period) -> Figure:
    """Won ÷ (won + lost), in %: won = signed in the period (renewals included), lost = marked lost in it."""
    won = signed_contracts(scope, period).count()
    lost = lost_contracts(scope, period).count()
    return Figure(Metric.WIN_RATE, value=_ratio(won, won + lost))


def contracts_ending(scope: Scope, period: Period) -> QuerySet[Contract]:
    """Signed contracts whose end date falls in the period, each marked ``was_renewed``."""
    return Contract.objects.filter(
        scope.owned("owner"), signed_at__isnull=False, end_date__gte=period.start, end_date__lte=period.end
    ).annotate(
        was_renewed=Count("pk", filter=Q(stage=Stage.RENEWED) | Q(successor__signed_at__isnull=False)),
    )


def renewal_rate(scope: Scope, period: Period) -> Figure:
    """Renewed ÷ signed contracts whose end date fell in the period, in %."""
    totals = (
        Contract.objects.filter(
            scope.owned("owner"), signed_at__isnull=False, end_date__gte=period.start, end_date__lte=period.end
        )
        .order_by()
        .aggregate(
            ending=Count("pk"),
            renewed=Count("pk", filter=Q(stage=Stage.RENEWED) | Q(successor__signed_at__isnull=False)),
        )
    )
    return Figure(Metric.RENEWAL_RATE, value=_ratio(totals["renewed"], totals["ending"]))


OPEN_DEAL = Q(stage__in=PIPELINE_STAGES)


def open_pipeline(scope: Scope, period: Period | None = None) -> QuerySet[Contract]:
    """Deals open now (draft, negotiation, awaiting signature): the pipeline has no period."""
    return Contract.objects.filter(scope.owned("owner"), OPEN_DEAL)


WEIGHTED = ExpressionWrapper(F("value") * F("probability") / Decimal(100), output_field=MONEY)


def pipeline_weighted(scope: Scope, period: Period | None = None) -> Figure:
    """Σ value × probability of the deals open now, per currency (rounded to the currency's unit on display)."""
    return Figure(Metric.PIPELINE_WEIGHTED, _per_currency(open_pipeline(scope), "currency", WEIGHTED))


def pipeline_coverage(scope: Scope, period: Period) -> Figure:
    """Open weighted pipeline ÷ what is left of the period's signed-revenue target, per currency, as a ratio
    (1.0 = the pipeline would just cover it). Undefined without a target or once the target is met."""
    weighted = pipeline_weighted(scope).amounts
    signed = signed_revenue(scope, period).amounts
    targets = KpiTarget.objects.filter(
        scope.targets(), metric=Metric.SIGNED_REVENUE, period_kind=period.kind, period_start=period.start
    ).values_list("currency", "value")
    coverage = {}
    for currency, target in targets:
        remaining = target - signed.get(currency, Decimal("0"))
        if remaining > 0:
            coverage[currency] = (weighted.get(currency, Decimal("0")) / remaining).quantize(Decimal("0.01"))
    return Figure(Metric.PIPELINE_COVERAGE, coverage)


# A contract recorded before it was signed: one entered in Accord after its signature (an import, a deal closed
# elsewhere) has no time to close to measure, and would count negative days.
TIMED = Q(created_at__lte=F("signed_at"))
DAYS_TO_CLOSE = ExpressionWrapper(F("signed_at") - F("created_at"), output_field=DurationField())


def average_days_to_close(scope: Scope, period: Period) -> Figure:
    """Average days from a deal's creation to its signature, over the contracts signed in the period that were
    recorded before they were signed (``TIMED``)."""
    timed = signed_contracts(scope, period).filter(TIMED)
    average = timed.aggregate(average=Avg(DAYS_TO_CLOSE))["average"]
    days = None if average is None else Decimal(average.total_seconds() / 86400).quantize(Decimal("0.1"))
    return Figure(Metric.AVERAGE_DAYS_TO_CLOSE, value=days)


def new_client_records(scope: Scope, period: Period) -> QuerySet[Client]:
    """Clients whose first contract was signed in the period; the first contract's owner decides the scope."""
    first = Contract.objects.filter(client=OuterRef("pk"), signed_at__isnull=False).order_by("signed_at", "pk")
    clients = Client.objects.annotate(
        first_signed_at=Subquery(first.values("signed_at")[:1]),
        first_contract_owner=Subquery(first.values("owner")[:1]),
    ).filter(first_signed_at__gte=period.starts_at, first_signed_at__lt=period.ends_before)
    if scope.kind == ScopeKind.USER:
        clients = clients.filter(first_contract_owner=scope.user.pk)
    elif scope.kind == ScopeKind.TEAM:
        clients = clients.filter(first_contract_owner__in=User.objects.filter(team=scope.team).values("pk"))
    return clients


def new_clients(scope: Scope, period: Period) -> Figure:
    return Figure(Metric.NEW_CLIENTS, value=Decimal(new_client_records(scope, period).count()))


# --- Invoices, payments and costs --------------------------------------------------------------------------


def invoices_issued(scope: Scope, period: Period) -> QuerySet[Invoice]:
    return Invoice.objects.filter(
        scope.owned("contract__owner"), issue_date__gte=period.start, issue_date__lte=period.end
    ).exclude(status__in=REVENUE_EXCLUDED)


def billed_months(scope: Scope, period: Period) -> QuerySet[BillingMonth] | None:
    """The period's pre-summed invoices and payments of the scope's owners (``kpis.ledger``), or None when they
    cannot give its figures (SQLite, or a period that is not whole months): then add up the records."""
    if not ledger.covers(period.start, period.end):
        return None
    return BillingMonth.objects.filter(scope.owned("owner"), month__gte=period.start, month__lte=period.end)


def _billed(scope: Scope, period: Period, column: str) -> dict[str, Decimal] | None:
    """{currency: Σ column} of the period's billed months, currencies with nothing left out (every invoice's net
    and gross and every payment is above 0, so the records' sums have no zero either); None as ``billed_months``."""
    months = billed_months(scope, period)
    if months is None:
        return None
    return {currency: total for currency, total in _per_currency(months, "currency", column).items() if total}


def invoiced_revenue(scope: Scope, period: Period) -> Figure:
    """Σ net of the invoices issued in the period (void ones excluded)."""
    billed = _billed(scope, period, "invoiced_net")
    if billed is not None:
        return Figure(Metric.INVOICED_REVENUE, billed)
    return Figure(Metric.INVOICED_REVENUE, _per_currency(invoices_issued(scope, period), "currency", "net_amount"))


def payments_received(scope: Scope, period: Period) -> QuerySet[Payment]:
    return Payment.objects.filter(
        scope.owned("invoice__contract__owner"), received_on__gte=period.start, received_on__lte=period.end
    )


def cash_collected(scope: Scope, period: Period) -> Figure:
    """Σ payments received in the period, per the invoice's currency."""
    billed = _billed(scope, period, "received")
    if billed is not None:
        return Figure(Metric.CASH_COLLECTED, billed)
    return Figure(Metric.CASH_COLLECTED, _per_currency(payments_received(scope, period), "invoice__currency", "amount"))


def costs_incurred(scope: Scope, period: Period) -> QuerySet[CostEntry]:
    return CostEntry.objects.filter(
        scope.owned("contract__owner"), incurred_on__gte=period.start, incurred_on__lte=period.end
    )


def gross_margin(scope: Scope, period: Period) -> Figure:
    """Invoiced revenue − costs incurred in the period, per currency."""
    revenue = invoiced_revenue(scope, period).amounts
    costs = _per_currency(costs_incurred(scope, period), "contract__currency", "amount")
    currencies = sorted(set(revenue) | set(costs))
    return Figure(
        Metric.GROSS_MARGIN,
        {currency: revenue.get(currency, Decimal("0")) - costs.get(currency, Decimal("0")) for currency in currencies},
    )


def _may_owe_on(scope: Scope, day: date) -> QuerySet[Invoice]:
    """Invoices issued by ``day`` that may still have been owed at its end: open ones, and paid ones settled after
    it (void and written-off invoices excluded; one paid in full by then owes nothing on it). The open invoices'
    partial index and the paid_on index serve it."""
    paid_after = Q(paid_on__gt=day) | Q(paid_on__isnull=True)
    may_owe = Q(status__in=OPEN_STATUSES) | Q(status=InvoiceStatus.PAID) & paid_after
    return Invoice.objects.filter(may_owe, scope.owned("contract__owner"), issue_date__lte=day)


def receivables_on(scope: Scope, day: date) -> QuerySet[Invoice]:
    """Invoices issued by ``day`` with something still owed at the end of that day (payments after it not
    counted), annotated ``owed``; void and written-off invoices excluded. The records behind the figures, which
    ``owed_totals`` sums the same way without a look-up per invoice.

    What an invoice owed at the end of ``day`` is its gross less what was paid by then: gross − paid_amount (every
    payment so far) + the payments received after the day: a look-up only for invoices with a payment, and one
    that finds nothing for most of them."""
    paid_later = (
        Payment.objects.filter(invoice=OuterRef("pk"), received_on__gt=day)
        .order_by()
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    unpaid = ExpressionWrapper(F("gross_amount") - F("paid_amount"), output_field=MONEY)
    owed = Case(
        # Nothing paid yet (most open invoices): no payment to look up.
        When(paid_amount=0, then=F("gross_amount")),
        default=unpaid + Coalesce(Subquery(paid_later, output_field=MONEY), ZERO),
        output_field=MONEY,
    )
    return _may_owe_on(scope, day).annotate(owed=owed).filter(owed__gt=0)


@dataclass(frozen=True)
class Owed:
    owner: int
    currency: str
    past_due: bool  # due before the day
    amount: Decimal


def owed_totals(scope: Scope, day: date) -> list[Owed]:
    """What ``receivables_on`` owes, summed per owner, currency and whether it was past due on ``day``, in one
    query that looks up no payment per invoice: Σ (gross − paid_amount) of the invoices that may owe, plus the
    payments received after the day on them. Nothing is ever overpaid, so an invoice that owed nothing adds 0 and
    the totals equal the records' sums. On a month's last day, from the pre-summed months (``kpis.ledger``): what
    was owed and past due at its end is the sum of their changes up to it."""
    if ledger.covers(day.replace(day=1), day):
        return _owed_from_ledger(scope, day)
    invoices = _may_owe_on(scope, day).order_by()
    unpaid = invoices.values(
        grouped_owner=F("contract__owner"),
        grouped_currency=F("currency"),
        past_due=ExpressionWrapper(Q(due_date__lt=day), output_field=BooleanField()),
    ).annotate(total=Sum(ExpressionWrapper(F("gross_amount") - F("paid_amount"), output_field=MONEY)))
    paid_later = (
        Payment.objects.filter(received_on__gt=day, invoice__in=invoices.values("pk"))
        .order_by()
        .values(
            grouped_owner=F("invoice__contract__owner"),
            grouped_currency=F("invoice__currency"),
            past_due=ExpressionWrapper(Q(invoice__due_date__lt=day), output_field=BooleanField()),
        )
        .annotate(total=Sum("amount"))
    )
    totals: dict[tuple, Decimal] = {}
    for row in unpaid.union(paid_later, all=True):
        key = (row["grouped_owner"], row["grouped_currency"], bool(row["past_due"]))
        totals[key] = totals.get(key, Decimal("0")) + Decimal(row["total"])
    return [Owed(*key, amount) for key, amount in sorted(totals.items())]


def _owed_from_ledger(scope: Scope, day: date) -> list[Owed]:
    rows = (
        BillingMonth.objects.filter(scope.owned("owner"), month__lte=day)
        .order_by()
        .values("owner", "currency")
        .annotate(owed=Coalesce(Sum("owed_change"), ZERO), past_due=Coalesce(Sum("overdue_change"), ZERO))
    )
    owed = []
    for row in rows:
        key = (row["owner"], row["currency"])
        owed += [Owed(*key, False, row["owed"] - row["past_due"]), Owed(*key, True, row["past_due"])]
    return sorted((row for row in owed if row.amount), key=lambda row: (row.owner, row.currency, row.past_due))


def _owed_per_currency(scope: Scope, day: date, *, past_due_only: bool) -> dict[str, Decimal]:
    amounts: dict[str, Decimal] = {}
    for row in owed_totals(scope, day):
        if row.past_due or not past_due_only:
            amounts[row.currency] = amounts.get(row.currency, Decimal("0")) + row.amount
    return {currency: amount for currency, amount in sorted(amounts.items()) if amount}


def overdue_receivable_records(scope: Scope, period: Period) -> QuerySet[Invoice]:
    return receivables_on(scope, period.end).filter(due_date__lt=period.end)


def overdue_receivables(scope: Scope, period: Period) -> Figure:
    """Σ outstanding gross past due on the period's last day."""
    return Figure(Metric.OVERDUE_RECEIVABLES, _owed_per_currency(scope, period.end, past_due_only=True))


def dso(scope: Scope, period: Period) -> Figure:
    """Days sales outstanding per currency: outstanding gross on the last day ÷ gross issued in the period × days."""
    outstanding = _owed_per_currency(scope, period.end, past_due_only=False)
    issued = _billed(scope, period, "invoiced_gross")
    if issued is None:
        issued = _per_currency(invoices_issued(scope, period), "currency", "gross_amount")
    return Figure(
        Metric.DSO,
        {
            currency: (outstanding.get(currency, Decimal("0")) / issued[currency] * period.days).quantize(
                Decimal("0.1")
            )
            for currency in sorted(issued)
            if issued[currency]
        },
    )


def _retention(scope: Scope, period: Period) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """Per currency: (revenue of the 12 months before the last 12, from the clients that had some; those
    clients' revenue in the last 12 months; the same capped per client at what it was). One query: the invoices
    of the 24 months summed per client and currency, then added up per currency (a currency billed in the earlier
    12 months has a prior total above 0: every invoice's net is). For windows of whole months (every calendar
    period's), from the clients' pre-summed revenue instead."""
    end = period.end
    current_start = _months_before(end, RETENTION_MONTHS)
    prior_start = _months_before(end, 2 * RETENTION_MONTHS)
    if ledger.covers(end.replace(day=1), end) and all(map(ledger.is_month_end, (current_start, prior_start))):
        return _retention_from_ledger(scope, end.replace(day=1), current_start.replace(day=1))
    per_client = (
        Invoice.objects.filter(scope.owned("contract__owner"), issue_date__gt=prior_start, issue_date__lte=end)
        .exclude(status__in=REVENUE_EXCLUDED)
        .order_by()
        .values("client", "currency")
        .annotate(
            prior=Coalesce(Sum("net_amount", filter=Q(issue_date__lte=current_start)), ZERO),
            current=Coalesce(Sum("net_amount", filter=Q(issue_date__gt=current_start)), ZERO),
        )
        .filter(prior__gt=0)
    )
    return _retention_sums(per_client)


def _retention_from_ledger(scope: Scope, month: date, year_before: date) -> dict[str, tuple]:
    """``_retention`` from the clients' pre-summed 12-month revenue (``kpis.ledger``): the months ending with
    ``month`` against those ending with ``year_before``, two rows per client instead of two years of invoices."""
    per_client = (
        ClientRevenue.objects.filter(scope.owned("owner"), month__in=(year_before, month))
        .order_by()
        .values("client", "currency")
        .annotate(
            prior=Coalesce(Sum("net_12_months", filter=Q(month=year_before)), ZERO),
            current=Coalesce(Sum("net_12_months", filter=Q(month=month)), ZERO),
        )
        .filter(prior__gt=0)
    )
    return _retention_sums(per_client)


def _retention_sums(per_client: QuerySet) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """Per currency: Σ prior, Σ current and Σ min(current, prior) over ``per_client``'s rows."""
    sums = {}
    for currency in Currency.values:
        only = Q(currency=currency)
        sums[f"{currency}_prior"] = Coalesce(Sum("prior", filter=only), ZERO)
        sums[f"{currency}_current"] = Coalesce(Sum("current", filter=only), ZERO)
        sums[f"{currency}_kept"] = Coalesce(Sum(Least("current", "prior"), filter=only), ZERO)
    row = per_client.aggregate(**sums)
    return {
        currency: (row[f"{currency}_prior"], row[f"{currency}_current"], row[f"{currency}_kept"])
        for currency in sorted(Currency.values)
        if row[f"{currency}_prior"]
    }


def net_revenue_retention(scope: Scope, period: Period) -> Figure:
    """Revenue of the last 12 months from the clients billed in the 12 months before ÷ their revenue then, in %."""
    return Figure(
        Metric.NET_REVENUE_RETENTION,
        {currency: _ratio(current, prior) for currency, (prior, current, _kept) in _retention(scope, period).items()},
    )


def gross_revenue_retention(scope: Scope, period: Period) -> Figure:
    """As net retention, but each client's revenue capped at its earlier level (growth ignored, losses counted)."""
    return Figure(
        Metric.GROSS_REVENUE_RETENTION,
        {currency: _ratio(kept, prior) for currency, (prior, _current, kept) in _retention(scope, period).items()},
    )


def _months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (clamped to the month's end): the start of a trailing window."""
    index = day.year * 12 + day.month - 1 - months
    year, month = index // 12, index % 12 + 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    return min(date(year, month, 1) + timedelta(days=day.day - 1), next_month - timedelta(days=1))


METRICS: dict[str, MetricDefinition] = {
    Metric.SIGNED_REVENUE: MetricDefinition(Metric.SIGNED_REVENUE, "money", signed_revenue, signed_contracts),
    Metric.UPSELL_REVENUE: MetricDefinition(Metric.UPSELL_REVENUE, "money", upsell_revenue, upsell_contracts),
    Metric.INVOICED_REVENUE: MetricDefinition(Metric.INVOICED_REVENUE, "money", invoiced_revenue, invoices_issued),
    Metric.CASH_COLLECTED: MetricDefinition(Metric.CASH_COLLECTED, "money", cash_collected, payments_received),
    Metric.GROSS_MARGIN: MetricDefinition(Metric.GROSS_MARGIN, "money", gross_margin, invoices_issued),
    Metric.NEW_CLIENTS: MetricDefinition(Metric.NEW_CLIENTS, "count", new_clients, new_client_records),
    Metric.WIN_RATE: MetricDefinition(Metric.WIN_RATE, "percent", win_rate, signed_contracts),
    Metric.RENEWAL_RATE: MetricDefinition(Metric.RENEWAL_RATE, "percent", renewal_rate, contracts_ending),
    Metric.PIPELINE_WEIGHTED: MetricDefinition(Metric.PIPELINE_WEIGHTED, "money", pipeline_weighted, open_pipeline),
    Metric.OVERDUE_RECEIVABLES: MetricDefinition(
        Metric.OVERDUE_RECEIVABLES, "money", overdue_receivables, overdue_receivable_records, higher_is_better=False
    ),
    Metric.DSO: MetricDefinition(Metric.DSO, "days", dso, None, higher_is_better=False),
    Metric.NET_REVENUE_RETENTION: MetricDefinition(
        Metric.NET_REVENUE_RETENTION, "percent", net_revenue_retention, None
    ),
    Metric.GROSS_REVENUE_RETENTION: MetricDefinition(
        Metric.GROSS_REVENUE_RETENTION, "percent", gross_revenue_retention, None
    ),
    Metric.PIPELINE_COVERAGE: MetricDefinition(Metric.PIPELINE_COVERAGE, "ratio", pipeline_coverage, open_pipeline),
    Metric.AVERAGE_DAYS_TO_CLOSE: MetricDefinition(
        Metric.AVERAGE_DAYS_TO_CLOSE, "days", average_days_to_close, signed_contracts, higher_is_better=False
    ),
}


def month_at_a_glance(scope: Scope, period: Period) -> dict[str, Figure]:
    """Signed revenue, the weighted pipeline, cash collected and overdue receivables (the home page's four), in two
    queries where the pre-summed months give the period's figures (one over the contracts, one over the months):
    the same figures as each metric's own function, which computes them otherwise (SQLite, a period that is not
    whole months)."""
    together = (Metric.SIGNED_REVENUE, Metric.PIPELINE_WEIGHTED, Metric.CASH_COLLECTED, Metric.OVERDUE_RECEIVABLES)
    if not ledger.covers(period.start, period.end):
        return {metric: METRICS[metric].compute(scope, period) for metric in together}
    signed, figures = signed_in(period), {metric: {} for metric in together}
    for row in (
        Contract.objects.filter(scope.owned("owner"), signed | OPEN_DEAL)
        .order_by()
        .values("currency")
        .annotate(
            signed=Count("pk", filter=signed),
            signed_value=Coalesce(Sum("value", filter=signed), ZERO),
            open=Count("pk", filter=OPEN_DEAL),
            weighted=Coalesce(Sum(WEIGHTED, filter=OPEN_DEAL), ZERO),
        )
        .order_by("currency")
    ):
        if row["signed"]:
            figures[Metric.SIGNED_REVENUE][row["currency"]] = row["signed_value"]
        if row["open"]:
            figures[Metric.PIPELINE_WEIGHTED][row["currency"]] = row["weighted"]
    # What was owed past due at the period's end is the sum of the months' changes up to it (``_owed_from_ledger``).
    for row in (
        BillingMonth.objects.filter(scope.owned("owner"), month__lte=period.end)
        .order_by()
        .values("currency")
        .annotate(
            received=Coalesce(Sum("received", filter=Q(month__gte=period.start)), ZERO),
            past_due=Coalesce(Sum("overdue_change"), ZERO),
        )
        .order_by("currency")
    ):
        for metric, amount in ((Metric.CASH_COLLECTED, row["received"]), (Metric.OVERDUE_RECEIVABLES, row["past_due"])):
            if amount:
                figures[metric][row["currency"]] = amount
    return {metric: Figure(metric, amounts) for metric, amounts in figures.items()}


# The metrics that add up every open invoice, a period's payments or two years of invoices: read from the cache
# while no contract or invoice changes (``kpis.cache``); the others are one indexed query.
CACHED_METRICS = frozenset(
    {
        Metric.CASH_COLLECTED,
        Metric.OVERDUE_RECEIVABLES,
        Metric.DSO,
        Metric.NET_REVENUE_RETENTION,
        Metric.GROSS_REVENUE_RETENTION,
    }
)


def compute(metric: str, scope: Scope, period: Period, *, revision_now: str | None = None) -> Figure:
    """The metric's actual for ``scope`` and ``period`` (``revision_now``: the data's revision if already read)."""
    definition = METRICS[Metric(metric)]
    if metric not in CACHED_METRICS:
        return definition.compute(scope, period)
    parts = (str(metric), scope.key, period)
    return kpi_cache.cached("metric", parts, lambda: definition.compute(scope, period), revision_now=revision_now)
