"""The dashboards' figures from grouped queries.

A dashboard shows one figure per metric for the agency, every team and every account manager, and a 12-period
trend. Calling ``metrics.compute`` for each would cost a query per metric, scope and period; instead a ``Board``
runs one GROUPED query per record set of ``kpis.metrics`` (contracts signed, lost, ending; the open pipeline;
invoices issued; payments; costs; new clients; receivables), grouped by owner and currency (and period for the
trend), and adds the owners' rows up to a team or the agency. So a dashboard runs the same number of queries
for 2 account managers or 200, and its figures equal ``metrics.compute`` (tests/kpis/test_selectors.py).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from accounts.models import Role, Team, User
from contracts.models import Contract, ContractKind, Stage
from kpis import cache as kpi_cache
from kpis import ledger, metrics
from kpis.currency import Converter
from kpis.metrics import (
    DAYS_TO_CLOSE,
    TIMED,
    WEIGHTED,
    ZERO,
    Figure,
    Scope,
    _ratio,
    _retention,
    billed_months,
    costs_incurred,
    invoices_issued,
    lost_contracts,
    open_pipeline,
    owed_totals,
    payments_received,
    signed_contracts,
)
from kpis.models import KpiTarget, Metric, ScopeKind, SignedMonth
from kpis.periods import Period

TREND_PERIODS = 12
RENEWED = Q(stage=Stage.RENEWED) | Q(successor__signed_at__isnull=False)
# The headline figures, in the order the dashboards show them.
HEADLINE_METRICS = (
    Metric.SIGNED_REVENUE,
    Metric.UPSELL_REVENUE,
    Metric.INVOICED_REVENUE,
    Metric.CASH_COLLECTED,
    Metric.GROSS_MARGIN,
    Metric.NEW_CLIENTS,
    Metric.WIN_RATE,
    Metric.RENEWAL_RATE,
    Metric.PIPELINE_WEIGHTED,
    Metric.PIPELINE_COVERAGE,
    Metric.OVERDUE_RECEIVABLES,
    Metric.DSO,
    Metric.NET_REVENUE_RETENTION,
    Metric.GROSS_REVENUE_RETENTION,
    Metric.AVERAGE_DAYS_TO_CLOSE,
)

Key = tuple[int, str]  # (owner id, currency)


def trend_span(period: Period, count: int = TREND_PERIODS) -> tuple[list[Period], Period]:
    """The ``count`` periods ending with ``period`` (oldest first), and one Period spanning them all."""
    periods = period.last(count)
    return periods, Period(period.kind, periods[0].start, period.end)


def period_start_of(moment: datetime | date, kind: str) -> date:
    """The first day of the ``kind`` period holding ``moment`` (a truncated aware datetime, in local time)."""
    if isinstance(moment, datetime):
        moment = timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()
    return Period.containing(kind, moment).start


def _sum(rows: dict[Key, Decimal], owners: set[int] | None) -> dict[str, Decimal]:
    """{currency: Σ} of the owners' grouped rows (every row when ``owners`` is None), currencies in order."""
    totals: dict[str, Decimal] = {}
    for (owner, currency), amount in rows.items():
        if owners is None or owner in owners:
            totals[currency] = totals.get(currency, Decimal("0")) + amount
    return dict(sorted(totals.items()))


def _count(rows: dict[int, int], owners: set[int] | None) -> int:
    return sum(n for owner, n in rows.items() if owners is None or owner in owners)


@dataclass(frozen=True)
class Person:
    id: int
    full_name: str
    role: str
    is_active: bool
    team_id: int | None
    team_name: str


class Members:
    """Every user with their team (one query): adds owners' rows up to a team, and lists the account managers."""

    def __init__(self, people: list[Person]):
        self.people = people
        self.by_id = {person.id: person for person in people}

    @classmethod
    def load(cls) -> "Members":
        rows = User.objects.order_by("full_name", "pk").values_list(
            "pk", "full_name", "role", "is_active", "team_id", "team__name"
        )
        return cls(
            [Person(pk, name, role, active, team, team_name or "") for pk, name, role, active, team, team_name in rows]
        )

    def owners(self, scope: Scope) -> set[int] | None:
        """The owners whose rows make up ``scope`` (None: every row, the agency)."""
        if scope.kind == ScopeKind.USER:
            return {scope.user.pk}
        if scope.kind == ScopeKind.TEAM:
            return {person.id for person in self.people if person.team_id == scope.team.pk}
        return None

    def teams_key(self) -> str:
        """Who is in which team: a team's figures are its members', so a move makes other figures."""
        return ",".join(f"{person.id}:{person.team_id}" for person in sorted(self.people, key=lambda p: p.id))

    def account_managers(self) -> list[Person]:
        return [person for person in self.people if person.role == Role.ACCOUNT_MANAGER and person.is_active]

    def teams(self) -> list[Team]:
        """The teams that have members, by name (unsaved Team objects carrying id and name)."""
        teams = {person.team_id: person.team_name for person in self.people if person.team_id}
        return [Team(pk=pk, name=name) for pk, name in sorted(teams.items(), key=lambda item: (item[1], item[0]))]


@dataclass
class Board:
    """The grouped facts of one period (and the trend of the periods before it) for a base scope.

    Figures for the base scope or any scope inside it (a team's members, one owner) follow without another query.
    """

    base: Scope
    period: Period
    trend: list[Period]
    members: Members
    signed: dict[tuple[int, str, date], Decimal] = field(default_factory=dict)
    upsell: dict[Key, Decimal] = field(default_factory=dict)
    won: dict[int, int] = field(default_factory=dict)
    to_close: dict[int, tuple[timedelta, int]] = field(default_factory=dict)
    lost: dict[int, int] = field(default_factory=dict)
    ending: dict[int, int] = field(default_factory=dict)
    renewed: dict[int, int] = field(default_factory=dict)
    weighted: dict[Key, Decimal] = field(default_factory=dict)
    invoiced_net: dict[Key, Decimal] = field(default_factory=dict)
    invoiced_gross: dict[Key, Decimal] = field(default_factory=dict)
    cash: dict[Key, Decimal] = field(default_factory=dict)
    costs: dict[Key, Decimal] = field(default_factory=dict)
    new_clients: dict[int, int] = field(default_factory=dict)
    outstanding: dict[Key, Decimal] = field(default_factory=dict)
    overdue: dict[Key, Decimal] = field(default_factory=dict)
    targets: list[dict] = field(default_factory=list)
    retention: dict[str, tuple[Decimal, Decimal, Decimal]] | None = None
    retention_scope: Scope | None = None  # retention needs its own queries: computed for one scope only
    revision: str = ""  # the data's revision the facts were read at (kpis.cache)
    _signed_by_period: dict[date, dict[Key, Decimal]] | None = field(default=None, repr=False)

    # --- Figures ------------------------------------------------------------------------------------------

    def _owners(self, scope: Scope) -> set[int] | None:
        if scope != self.base and self.base.kind != ScopeKind.AGENCY:
            allowed = self.members.owners(self.base)
            wanted = self.members.owners(scope)
            if wanted is None or not wanted <= allowed:
                raise ValueError(f"{scope.label} is outside this board's {self.base.label}")
        return self.members.owners(scope)

    def signed_amounts(self, scope: Scope, start: date | None = None) -> dict[str, Decimal]:
        owners, start = self._owners(scope), start or self.period.start
        return _sum(self._signed_in(start), owners)

    def _signed_in(self, start: date) -> dict[Key, Decimal]:
        """The signed rows of the period starting on ``start``, grouped once (a leaderboard asks for every
        account manager's twelve periods)."""
        if self._signed_by_period is None:
            self._signed_by_period = {}
            for (owner, currency, begins), amount in self.signed.items():
                self._signed_by_period.setdefault(begins, {})[(owner, currency)] = amount
        return self._signed_by_period.get(start, {})

    def trend_amounts(self, scope: Scope) -> list[dict[str, Decimal]]:
        """Signed revenue per currency in each of the trend's periods, oldest first."""
        return [self.signed_amounts(scope, period.start) for period in self.trend]

    def figure(self, metric: str, scope: Scope) -> Figure:
        """The metric for ``scope`` (this board's base or a scope inside it), equal to ``metrics.compute``."""
        owners = self._owners(scope)
        builder = getattr(self, f"_{metric}")
        return builder(scope, owners)

    def _signed_revenue(self, scope, owners) -> Figure:
        return Figure(Metric.SIGNED_REVENUE, self.signed_amounts(scope))

    def _upsell_revenue(self, scope, owners) -> Figure:
        return Figure(Metric.UPSELL_REVENUE, _sum(self.upsell, owners))

    def _invoiced_revenue(self, scope, owners) -> Figure:
        return Figure(Metric.INVOICED_REVENUE, _sum(self.invoiced_net, owners))

    def _cash_collected(self, scope, owners) -> Figure:
        return Figure(Metric.CASH_COLLECTED, _sum(self.cash, owners))

    def _gross_margin(self, scope, owners) -> Figure:
        revenue, costs = _sum(self.invoiced_net, owners), _sum(self.costs, owners)
        currencies = sorted(set(revenue) | set(costs))
        zero = Decimal("0")
        return Figure(Metric.GROSS_MARGIN, {c: revenue.get(c, zero) - costs.get(c, zero) for c in currencies})

    def _new_clients(self, scope, owners) -> Figure:
        return Figure(Metric.NEW_CLIENTS, value=Decimal(_count(self.new_clients, owners)))

    def _win_rate(self, scope, owners) -> Figure:
        won, lost = _count(self.won, owners), _count(self.lost, owners)
        return Figure(Metric.WIN_RATE, value=_ratio(won, won + lost))

    def _renewal_rate(self, scope, owners) -> Figure:
        return Figure(Metric.RENEWAL_RATE, value=_ratio(_count(self.renewed, owners), _count(self.ending, owners)))

    def _pipeline_weighted(self, scope, owners) -> Figure:
        return Figure(Metric.PIPELINE_WEIGHTED, _sum(self.weighted, owners))

    def _pipeline_coverage(self, scope, owners) -> Figure:
        weighted, signed = _sum(self.weighted, owners), self.signed_amounts(scope)
        coverage = {}
        for currency, target in sorted(self.targets_of(Metric.SIGNED_REVENUE, scope).items()):
            remaining = target - signed.get(currency, Decimal("0"))
            if remaining > 0:
                coverage[currency] = (weighted.get(currency, Decimal("0")) / remaining).quantize(Decimal("0.01"))
        return Figure(Metric.PIPELINE_COVERAGE, coverage)

    def _overdue_receivables(self, scope, owners) -> Figure:
        # Every overdue record owes more than 0, so a currency with a zero sum had none.
        return Figure(Metric.OVERDUE_RECEIVABLES, {c: a for c, a in _sum(self.overdue, owners).items() if a})

    def _dso(self, scope, owners) -> Figure:
        outstanding, issued = _sum(self.outstanding, owners), _sum(self.invoiced_gross, owners)
        days = self.period.days
        return Figure(
            Metric.DSO,
            {
                currency: (outstanding.get(currency, Decimal("0")) / issued[currency] * days).quantize(Decimal("0.1"))
                for currency in sorted(issued)
                if issued[currency]
            },
        )

    def _retention_of(self, scope) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        if self.retention is None or scope != self.retention_scope:
            raise ValueError(f"this board computed no revenue retention for {scope.label}")
        return self.retention

    def _net_revenue_retention(self, scope, owners) -> Figure:
        rows = self._retention_of(scope)
        return Figure(
            Metric.NET_REVENUE_RETENTION, {c: _ratio(current, prior) for c, (prior, current, _) in rows.items()}
        )

    def _gross_revenue_retention(self, scope, owners) -> Figure:
        rows = self._retention_of(scope)
        return Figure(Metric.GROSS_REVENUE_RETENTION, {c: _ratio(kept, prior) for c, (prior, _, kept) in rows.items()})

    def _average_days_to_close(self, scope, owners) -> Figure:
        total, count = timedelta(0), 0
        for owner, (duration, n) in self.to_close.items():
            if owners is None or owner in owners:
                total, count = total + duration, count + n
        days = None if not count else Decimal((total / count).total_seconds() / 86400).quantize(Decimal("0.1"))
        return Figure(Metric.AVERAGE_DAYS_TO_CLOSE, value=days)

    # --- Converted figures --------------------------------------------------------------------------------

    def converted(self, metric: str, scope: Scope, converter: Converter) -> Decimal | None:
        """A per-currency metric as one number in ``converter.to``: money converted and added; DSO, coverage and
        retention recomputed from their converted parts (not an average of per-currency ratios). Raises
        MissingRate. None when the figure is undefined (nothing to divide by)."""
        owners = self._owners(scope)
        if metric == Metric.DSO:
            issued = converter.convert(_sum(self.invoiced_gross, owners))
            outstanding = converter.convert(_sum(self.outstanding, owners))
            return (outstanding / issued * self.period.days).quantize(Decimal("0.1")) if issued else None
        if metric == Metric.PIPELINE_COVERAGE:
            targets = self.targets_of(Metric.SIGNED_REVENUE, scope)
            if not targets:
                return None
            remaining = converter.convert(targets) - converter.convert(self.signed_amounts(scope))
            weighted = converter.convert(_sum(self.weighted, owners))
            return (weighted / remaining).quantize(Decimal("0.01")) if remaining > 0 else None
        if metric in (Metric.NET_REVENUE_RETENTION, Metric.GROSS_REVENUE_RETENTION):
            rows = self._retention_of(scope)
            prior = converter.convert({c: row[0] for c, row in rows.items()})
            part = 1 if metric == Metric.NET_REVENUE_RETENTION else 2
            return _ratio(converter.convert({c: row[part] for c, row in rows.items()}), prior)
        return converter.convert(self.figure(metric, scope).amounts)

    # --- Targets ------------------------------------------------------------------------------------------

    def targets_of(self, metric: str, scope: Scope) -> dict[str, Decimal]:
        """The period's targets of ``metric`` for ``scope``: {currency: value} ('' for a metric without money)."""
        match = {ScopeKind.USER: "user_id", ScopeKind.TEAM: "team_id"}.get(scope.kind)
        wanted = {ScopeKind.USER: getattr(scope.user, "pk", None), ScopeKind.TEAM: getattr(scope.team, "pk", None)}
        return {
            row["currency"]: row["value"]
            for row in self.targets
            if row["metric"] == metric
            and row["scope"] == scope.kind
            and (match is None or row[match] == wanted[scope.kind])
        }


# The board's facts that come from contracts, invoices and payments: cached together (``kpis.cache``).
CACHED_FACTS = (
    "signed",
    "upsell",
    "won",
    "to_close",
    "lost",
    "ending",
    "renewed",
    "weighted",
    "invoiced_net",
    "invoiced_gross",
    "cash",
    "new_clients",
    "outstanding",
    "overdue",
    "retention",
)


def build_board(
    base: Scope, period: Period, *, with_retention: bool = True, retention_scope: Scope | None = None
) -> Board:
    """Every grouped fact a dashboard needs for ``base`` and ``period``. The facts from contracts, invoices and
    payments come from the cache while neither changes (``kpis.cache``: one query for the revision), else from
    nine grouped queries and one more for net and gross revenue retention of ``retention_scope`` (the base unless
    given); the people, the costs and the targets are read live. As many queries whatever the number of owners,
    teams and rows: 4 from the cache, 13 otherwise."""
    trend, span = trend_span(period)
    board = Board(base=base, period=period, trend=trend, members=Members.load())
    if with_retention:
        board.retention_scope = retention_scope or base
    board.revision = kpi_cache.revision()
    key = (base.key, period, board.retention_scope and board.retention_scope.key, board.members.teams_key())
    facts = kpi_cache.cached("board", key, lambda: _load_facts(board, span), revision_now=board.revision)
    for name, value in facts.items():
        setattr(board, name, value)
    board.costs = _amounts(costs_incurred(base, period), "contract__owner", "contract__currency", "amount")
    board.targets = list(
        KpiTarget.objects.for_period(period).values("metric", "scope", "user_id", "team_id", "currency", "value")
    )
    return board


def _load_facts(board: Board, span: Period) -> dict:
    base, period = board.base, board.period
    _load_signed(board, span)
    board.lost = _counts(lost_contracts(base, period), "owner")
    _load_endings(board)
    board.weighted = _amounts(open_pipeline(base), "owner", "currency", WEIGHTED)
    _load_invoiced(board)
    _load_cash(board)
    board.new_clients = _counts(first_contracts(base, period), "owner")
    _load_receivables(board)
    if board.retention_scope is not None:
        board.retention = _retention(board.retention_scope, period)
    return {name: getattr(board, name) for name in CACHED_FACTS}


def _amounts(rows: QuerySet, owner: str, currency: str, amount) -> dict[Key, Decimal]:
    grouped = rows.order_by().values(owner, currency).annotate(total=Coalesce(Sum(amount), ZERO))
    return {(row[owner], row[currency]): row["total"] for row in grouped}


def _counts(rows: QuerySet, owner: str) -> dict[int, int]:
    return {row[owner]: row["n"] for row in rows.order_by().values(owner).annotate(n=Count("pk"))}


def first_contracts(scope: Scope, period: Period) -> QuerySet[Contract]:
    """The contracts signed in the period that are their client's first signed contract (earliest signature, then
    lowest id, as ``metrics.new_client_records`` orders them): one per new client, owned by whoever the new client
    counts for. Probes only the period's signatures, where ``new_client_records`` looks at every client."""
    earlier = Contract.objects.filter(client=OuterRef("client"), signed_at__isnull=False).filter(
        Q(signed_at__lt=OuterRef("signed_at")) | Q(signed_at=OuterRef("signed_at"), pk__lt=OuterRef("pk"))
    )
    return signed_contracts(scope, period).filter(~Exists(earlier))


def _load_signed(board: Board, span: Period) -> None:
    """Contracts signed in the trend's periods, per owner, currency and period; upsells, deals won and days to
    close come from the same rows: the months pre-summed by the database (``kpis.ledger``), else the contracts."""
    rows = _signed_months(board, span) if ledger.signed_months_kept() else _signed_contracts(board, span)
    for row in rows:
        begins = period_start_of(row["bucket"], board.period.kind)
        key = (row["owner"], row["currency"], begins)
        board.signed[key] = board.signed.get(key, Decimal("0")) + row["total"]
        if begins != board.period.start:
            continue
        owner = row["owner"]
        board.won[owner] = board.won.get(owner, 0) + row["won"]
        if row["upsells"]:
            key = (owner, row["currency"])
            board.upsell[key] = board.upsell.get(key, Decimal("0")) + row["upsell"]
        duration, count = board.to_close.get(owner, (timedelta(0), 0))
        board.to_close[owner] = (duration + (row["to_close"] or timedelta(0)), count + row["timed"])


def _signed_contracts(board: Board, span: Period) -> QuerySet:
    """The signed contracts grouped per owner, currency and period (``bucket``: the period's first moment)."""
    bucket = Trunc("signed_at", board.period.kind, output_field=DateTimeField(), tzinfo=timezone.get_current_timezone())
    return (
        signed_contracts(board.base, span)
        .order_by()
        .values("owner", "currency", bucket=bucket)
        .annotate(
            total=Coalesce(Sum("value"), ZERO),
            won=Count("pk"),
            upsells=Count("pk", filter=Q(kind=ContractKind.UPSELL)),
            upsell=Coalesce(Sum("value", filter=Q(kind=ContractKind.UPSELL)), ZERO),
            to_close=Sum(DAYS_TO_CLOSE, filter=TIMED),
            timed=Count("pk", filter=TIMED),
        )
    )


def _signed_months(board: Board, span: Period) -> QuerySet:
    """The same rows from the pre-summed months (``bucket``: the month; several make up a quarter or a year)."""
    upsells = Q(kind=ContractKind.UPSELL)
    return (
        SignedMonth.objects.filter(board.base.owned("owner"), month__gte=span.start, month__lte=span.end)
        .order_by()
        .values("owner", "currency", bucket=F("month"))
        .annotate(
            total=Coalesce(Sum("value"), ZERO),
            won=Sum("signed"),
            upsells=Coalesce(Sum("signed", filter=upsells), 0),
            upsell=Coalesce(Sum("value", filter=upsells), ZERO),
            to_close=Sum("days_to_close"),
            timed=Sum("timed"),
        )
    )


def _load_endings(board: Board) -> None:
    """Signed contracts whose end date falls in the period, and how many of them were renewed (as
    ``metrics.renewal_rate`` counts them)."""
    period = board.period
    rows = (
        Contract.objects.filter(
            board.base.owned("owner"), signed_at__isnull=False, end_date__gte=period.start, end_date__lte=period.end
        )
        .order_by()
        .values("owner")
        .annotate(ending=Count("pk"), renewed=Count("pk", filter=RENEWED))
    )
    for row in rows:
        board.ending[row["owner"]] = row["ending"]
        board.renewed[row["owner"]] = row["renewed"]


def _billed(board: Board, column: str) -> dict[Key, Decimal] | None:
    """{(owner, currency): Σ column} of the period's pre-summed months (``kpis.ledger``), zero sums left out (the
    records never sum to zero: every amount is above 0); None when the months cannot give the period's figures."""
    months = billed_months(board.base, board.period)
    if months is None:
        return None
    return {key: amount for key, amount in _amounts(months, "owner", "currency", column).items() if amount}


def _load_cash(board: Board) -> None:
    cash = _billed(board, "received")
    if cash is None:
        cash = _amounts(
            payments_received(board.base, board.period), "invoice__contract__owner", "invoice__currency", "amount"
        )
    board.cash = cash


def _load_invoiced(board: Board) -> None:
    months = billed_months(board.base, board.period)
    if months is not None:
        rows = (
            months.order_by()
            .values("owner", "currency")
            .annotate(net=Coalesce(Sum("invoiced_net"), ZERO), gross=Coalesce(Sum("invoiced_gross"), ZERO))
        )
        for row in rows:
            if row["net"] or row["gross"]:
                key = (row["owner"], row["currency"])
                board.invoiced_net[key], board.invoiced_gross[key] = row["net"], row["gross"]
        return
    rows = (
        invoices_issued(board.base, board.period)
        .order_by()
        .values("contract__owner", "currency")
        .annotate(net=Coalesce(Sum("net_amount"), ZERO), gross=Coalesce(Sum("gross_amount"), ZERO))
    )
    for row in rows:
        key = (row["contract__owner"], row["currency"])
        board.invoiced_net[key], board.invoiced_gross[key] = row["net"], row["gross"]


def _load_receivables(board: Board) -> None:
    """What was owed at the end of the period's last day, and what of it was past due (``metrics.owed_totals``:
    one query, no look-up per invoice)."""
    for row in owed_totals(board.base, board.period.end):
        key = (row.owner, row.currency)
        board.outstanding[key] = board.outstanding.get(key, Decimal("0")) + row.amount
        if row.past_due:
            board.overdue[key] = board.overdue.get(key, Decimal("0")) + row.amount


# --- Attainment ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One figure against its target: ``currency`` is '' for counts and rates, or the money's currency."""

    currency: str
    actual: Decimal | None
    target: Decimal | None
    attainment: Decimal | None  # % of the target reached (for lower-is-better metrics: target ÷ actual)
    met: bool | None  # None without a target or an actual


def attainment(actual: Decimal | None, target: Decimal | None, higher_is_better: bool = True) -> Decimal | None:
    """Actual ÷ target in % (target ÷ actual when lower is better); None when either is missing or 0."""
    if actual is None or not target:
        return None
    if higher_is_better:
        return (Decimal(actual) * 100 / target).quantize(Decimal("0.1"))
    if not actual:
        return None
    return (Decimal(target) * 100 / Decimal(actual)).quantize(Decimal("0.1"))


def make_cell(currency: str, actual, target, higher_is_better: bool = True) -> Cell:
    met = None
    if actual is not None and target is not None:
        met = actual >= target if higher_is_better else actual <= target
    return Cell(currency, actual, target, attainment(actual, target, higher_is_better), met)


def currency_order(currency: str) -> tuple[bool, str]:
    """The agency's own currency first, then the others by code."""
    return (currency != settings.ACCORD_DEFAULT_CURRENCY, currency)


VALUE_METRICS = (Metric.NEW_CLIENTS, Metric.WIN_RATE, Metric.RENEWAL_RATE, Metric.AVERAGE_DAYS_TO_CLOSE)


def cells(board: Board, metric: str, scope: Scope, converter: Converter | None = None) -> list[Cell]:
    """The metric for ``scope`` against its targets: one cell for counts and rates; for money and the ratios kept
    per currency (DSO, coverage, retention) one cell per currency, or one converted cell when ``converter`` is
    given (money targets converted too). No cell: nothing to show. Raises MissingRate."""
    definition = metrics.METRICS[metric]
    targets = board.targets_of(metric, scope)
    better = definition.higher_is_better
    if metric in VALUE_METRICS:
        return [make_cell("", board.figure(metric, scope).value, targets.get(""), better)]
    is_money = definition.unit == "money"
    if converter is not None:
        target = (converter.convert(targets) if targets else None) if is_money else targets.get("")
        actual = board.converted(metric, scope, converter)
        return [make_cell(converter.to if is_money else "", actual, target, better)]
    amounts = board.figure(metric, scope).amounts
    if not is_money:
        return [make_cell(c, amounts[c], targets.get(""), better) for c in sorted(amounts, key=currency_order)]
    currencies = sorted(set(amounts) | set(targets), key=currency_order)
    zero = Decimal("0")
    return [make_cell(currency, amounts.get(currency, zero), targets.get(currency), better) for currency in currencies]
