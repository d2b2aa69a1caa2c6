"""Drill-down: the records behind a dashboard's figure, in sections whose totals give the figure back."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db.models import Avg, Case, Count, DurationField, QuerySet, Sum, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from kpis import cache as kpi_cache
from kpis.metrics import (
    DAYS_TO_CLOSE,
    TIMED,
    WEIGHTED,
    ZERO,
    Figure,
    Scope,
    _ratio,
    contracts_ending,
    costs_incurred,
    invoices_issued,
    lost_contracts,
    new_client_records,
    open_pipeline,
    overdue_receivable_records,
    payments_received,
    receivables_on,
    signed_contracts,
    upsell_contracts,
)
from kpis.models import KpiTarget, Metric
from kpis.periods import Period

from .sales import forecast_records


@dataclass
class Section:
    """One list of records behind a figure: ``amount`` is summed per ``currency`` (None: the rows are counted)."""

    key: str
    title: str
    kind: str  # contract, invoice, payment, client, cost
    records: QuerySet
    amount: str | None = None
    currency: str = "currency"

    def listed(self) -> QuerySet:
        """The records in the order a page and a CSV list them (newest first; deals and debts soonest first)."""
        return self.records.order_by(*ORDERINGS[self.kind])

    def totals(self) -> dict:
        """{"count": n, "amounts": {currency: Σ amount}} in one query; for contracts, invoices and payments kept in
        the cache under the query's SQL until one of them changes (``kpis.cache``: the dashboards' revision)."""
        rows = self.records.order_by()
        if self.kind not in REVISION_KINDS:  # costs and clients are read live, as the dashboards read them
            return self._totals(rows)
        try:
            sql, params = rows.query.sql_with_params()
        except EmptyResultSet:
            return self._totals(rows)
        parts = (self.amount, self.currency, sql, params)
        return kpi_cache.cached("drilldown-totals", parts, lambda: self._totals(rows))

    def _totals(self, rows: QuerySet) -> dict:
        if self.amount is None:
            return {"count": rows.count(), "amounts": {}}
        grouped = rows.values(self.currency).annotate(n=Count("pk"), total=Coalesce(Sum(self.amount), ZERO))
        amounts, count = {}, 0
        for row in grouped.order_by(self.currency):
            amounts[row[self.currency]] = row["total"]
            count += row["n"]
        return {"count": count, "amounts": amounts}


ORDERINGS = {
    "contract": ("-signed_at", "-pk"),
    "deal": ("expected_close", "pk"),
    "invoice": ("-issue_date", "-pk"),
    "receivable": ("due_date", "pk"),
    "payment": ("-received_on", "-pk"),
    "client": ("name", "pk"),
    "cost": ("-incurred_on", "-pk"),
}
# The records whose changes move ``kpis.cache.revision`` (a payment changes its invoice).
REVISION_KINDS = frozenset({"contract", "deal", "invoice", "receivable", "payment"})
# Every metric has its records except revenue retention (a per-client comparison of two years of invoices).
DRILLDOWN_METRICS = frozenset(Metric) - {Metric.NET_REVENUE_RETENTION, Metric.GROSS_REVENUE_RETENTION}


def drilldown_sections(metric: str, scope: Scope, period: Period, *, stage: str = "", close: str = "") -> list[Section]:
    """The records behind ``metric`` for ``scope`` and ``period`` (``metrics.METRICS[metric].records``), as the
    sections a drill-down page lists; their totals give back the dashboard's figure. ``stage`` and ``close``
    narrow the open pipeline to one stage or one forecast bucket. Raises KeyError for a metric without records."""
    signed = Section("signed", str(_("Contracts signed")), "contract", signed_contracts(scope, period), "value")
    signed.records = signed.records.select_related("client", "owner")
    if metric == Metric.SIGNED_REVENUE:
        return [signed]
    if metric == Metric.UPSELL_REVENUE:
        records = upsell_contracts(scope, period).select_related("client", "owner")
        return [Section("upsell", str(_("Upsells signed")), "contract", records, "value")]
    if metric in (Metric.INVOICED_REVENUE, Metric.GROSS_MARGIN):
        invoices = invoices_issued(scope, period).select_related("client", "contract__owner")
        sections = [Section("invoiced", str(_("Invoices issued")), "invoice", invoices, "net_amount", "currency")]
        if metric == Metric.GROSS_MARGIN:
            costs = costs_incurred(scope, period).select_related(
                "contract__client", "contract__owner", "partner", "department"
            )
            sections.append(Section("costs", str(_("Costs incurred")), "cost", costs, "amount", "contract__currency"))
        return sections
    if metric == Metric.CASH_COLLECTED:
        payments = payments_received(scope, period).select_related("invoice__client", "invoice__contract__owner")
        return [Section("payments", str(_("Payments received")), "payment", payments, "amount", "invoice__currency")]
    if metric == Metric.NEW_CLIENTS:
        clients = new_client_records(scope, period).select_related("owner")
        return [Section("clients", str(_("New clients")), "client", clients)]
    if metric == Metric.WIN_RATE:
        signed.amount = None
        signed.title = str(_("Won (signed)"))
        lost = lost_contracts(scope, period).select_related("client", "owner")
        return [signed, Section("lost", str(_("Lost")), "contract", lost)]
    if metric == Metric.RENEWAL_RATE:
        ending = contracts_ending(scope, period).select_related("client", "owner")
        return [Section("ending", str(_("Signed contracts ending in the period")), "contract", ending)]
    if metric in (Metric.PIPELINE_WEIGHTED, Metric.PIPELINE_COVERAGE):
        deals = forecast_records(scope, close) if close else open_pipeline(scope)
        if stage:
            deals = deals.filter(stage=stage)
        deals = deals.select_related("client", "owner").annotate(weighted=WEIGHTED)
        sections = [Section("pipeline", str(_("Open deals")), "deal", deals, "weighted")]
        if metric == Metric.PIPELINE_COVERAGE:
            sections.append(signed)
        return sections
    if metric == Metric.OVERDUE_RECEIVABLES:
        invoices = overdue_receivable_records(scope, period).select_related("client", "contract__owner")
        return [Section("overdue", str(_("Invoices past due")), "receivable", invoices, "owed")]
    if metric == Metric.DSO:
        owed = receivables_on(scope, period.end).select_related("client", "contract__owner")
        issued = invoices_issued(scope, period).select_related("client", "contract__owner")
        return [
            Section("outstanding", str(_("Owed on the period's last day")), "receivable", owed, "owed"),
            Section("issued", str(_("Invoices issued in the period (gross)")), "invoice", issued, "gross_amount"),
        ]
    if metric == Metric.AVERAGE_DAYS_TO_CLOSE:
        signed.amount = None
        # None for a contract recorded after its signature: it has no time to close (``metrics.TIMED``).
        timed = Case(When(TIMED, then=DAYS_TO_CLOSE), default=None, output_field=DurationField())
        signed.records = signed.records.annotate(days_to_close=timed)
        return [signed]
    raise KeyError(metric)


def average_days_to_close_of(section: Section) -> Decimal | None:
    """The average of the listed contracts' days to close, as ``metrics.average_days_to_close`` computes it."""
    average = section.records.order_by().filter(TIMED).aggregate(average=Avg(DAYS_TO_CLOSE))["average"]
    return None if average is None else Decimal(average.total_seconds() / 86400).quantize(Decimal("0.1"))


def drilldown_result(metric: str, sections: list[Section], totals: list[dict], scope: Scope, period: Period) -> Figure:
    """The figure the listed records add up to (``totals``: each section's ``totals()``), by the metric's own
    formula: the page shows it beside the dashboard's figure, and the tests check that the two are equal."""
    first = totals[0]
    if metric == Metric.GROSS_MARGIN:
        revenue, costs = first["amounts"], totals[1]["amounts"]
        zero = Decimal("0")
        margin = {c: revenue.get(c, zero) - costs.get(c, zero) for c in sorted(set(revenue) | set(costs))}
        return Figure(metric, margin)
    if metric == Metric.NEW_CLIENTS:
        return Figure(metric, value=Decimal(first["count"]))
    if metric == Metric.WIN_RATE:
        won, lost = first["count"], totals[1]["count"]
        return Figure(metric, value=_ratio(won, won + lost))
    if metric == Metric.RENEWAL_RATE:
        renewed = sections[0].records.order_by().filter(was_renewed__gt=0).count()
        return Figure(metric, value=_ratio(renewed, first["count"]))
    if metric == Metric.PIPELINE_COVERAGE:
        return Figure(metric, _coverage(first["amounts"], totals[1]["amounts"], scope, period))
    if metric == Metric.DSO:
        owed, issued = first["amounts"], totals[1]["amounts"]
        days = {
            c: (owed.get(c, Decimal("0")) / issued[c] * period.days).quantize(Decimal("0.1"))
            for c in sorted(issued)
            if issued[c]
        }
        return Figure(metric, days)
    if metric == Metric.AVERAGE_DAYS_TO_CLOSE:
        return Figure(metric, value=average_days_to_close_of(sections[0]))
    return Figure(metric, first["amounts"])


def _coverage(weighted: dict, signed: dict, scope: Scope, period: Period) -> dict[str, Decimal]:
    targets = KpiTarget.objects.for_period(period).filter(scope.targets(), metric=Metric.SIGNED_REVENUE)
    coverage = {}
    for currency, target in sorted(targets.values_list("currency", "value")):
        remaining = target - signed.get(currency, Decimal("0"))
        if remaining > 0:
            coverage[currency] = (weighted.get(currency, Decimal("0")) / remaining).quantize(Decimal("0.01"))
    return coverage
