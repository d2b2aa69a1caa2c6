"""The records behind a dashboard's figure: /kpis/records/?metric=&scope=&id=&period= (and &stage= or &close= for
one stage or forecast month of the pipeline). The list's totals give the figure back, and the page says so.

Those who see everything open any scope's records; others their own, and salespeople the shared pipeline.
A scope one may not open is a 404.
"""

from dataclasses import dataclass
from functools import cached_property

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, Team, User
from contracts.models import PIPELINE_STAGES, Stage
from core.replica import reads_from_replica
from kpis import metrics
from kpis.metrics import Scope
from kpis.models import Metric, ScopeKind
from kpis.periods import Period
from kpis.scorecard import format_figure, sees_all_scopes
from kpis.selectors import Section, drilldown_sections
from kpis.selectors.drilldown import DRILLDOWN_METRICS, drilldown_result
from kpis.selectors.sales import forecast_records

from .director import DESCRIPTIONS
from .shared import Table, export_urls, may_drill_down, money_value, period_from

PAGE_SIZE = 50


@dataclass(frozen=True)
class Columns:
    date: str
    amount: str


COLUMNS = {
    "contract": Columns(gettext_lazy("Signed"), gettext_lazy("Value")),
    "deal": Columns(gettext_lazy("Expected close"), gettext_lazy("Weighted")),
    "invoice": Columns(gettext_lazy("Issued"), gettext_lazy("Amount")),
    "receivable": Columns(gettext_lazy("Due"), gettext_lazy("Owed")),
    "payment": Columns(gettext_lazy("Received"), gettext_lazy("Amount")),
    "client": Columns(gettext_lazy("First contract signed"), ""),
    "cost": Columns(gettext_lazy("Incurred"), gettext_lazy("Amount")),
}


def _day(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        value = timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value.isoformat()


def record_row(section: Section, record) -> dict:
    """One record as the page and the CSV show it: reference (and its page), description, client, owner, the
    date that put it in the period, the amount the section adds up, its currency, and a detail."""
    kind = section.kind
    amount = getattr(record, section.amount) if section.amount else None
    if kind in ("contract", "deal"):
        detail = f"{record.get_stage_display()} · {record.get_kind_display()}"
        if kind == "deal":
            detail = (
                f"{record.get_stage_display()} · {record.probability} % · {money_value(record.value, record.currency)}"
            )
        elif getattr(record, "days_to_close", None) is not None:
            detail = _("%(days)s days to close") % {"days": round(record.days_to_close.total_seconds() / 86400, 1)}
        elif hasattr(record, "was_renewed"):
            detail = _("Renewed") if record.was_renewed else _("Not renewed")
        return _row(
            record.number,
            record.get_absolute_url(),
            record.title,
            record.client.name,
            record.owner,
            record.expected_close if kind == "deal" else record.signed_at,
            amount,
            record.currency,
            detail,
        )
    if kind in ("invoice", "receivable"):
        day = record.due_date if kind == "receivable" else record.issue_date
        return _row(
            record.number,
            record.get_absolute_url(),
            record.description,
            record.client.name,
            record.contract.owner,
            day,
            amount,
            record.currency,
            record.get_status_display(),
        )
    if kind == "payment":
        invoice = record.invoice
        return _row(
            invoice.number,
            invoice.get_absolute_url(),
            record.reference or record.get_method_display(),
            invoice.client.name,
            invoice.contract.owner,
            record.received_on,
            amount,
            invoice.currency,
            "",
        )
    if kind == "cost":
        contract = record.contract
        payee = record.partner or record.department
        return _row(
            contract.number,
            contract.get_absolute_url(),
            record.description,
            contract.client.name,
            contract.owner,
            record.incurred_on,
            amount,
            contract.currency,
            str(payee or ""),
        )
    return _row(
        record.name,
        reverse("clients:detail", args=[record.pk]),
        "",
        record.name,
        record.owner,
        record.first_signed_at,
        None,
        "",
        "",
    )


def _row(reference, url, description, client, owner, day, amount, currency, detail) -> dict:
    return {
        "reference": reference or "",
        "url": url,
        "description": description,
        "client": client,
        "owner": owner.full_name if owner else "",
        "day": _day(day),
        "amount": amount,
        "currency": currency,
        "detail": detail,
    }


def _scope_from(request: HttpRequest) -> Scope:
    """The scope of the query string (agency, or a team or user by id); one that does not exist is a 404. Who may
    open its records is ``may_drill_down``'s to say."""
    kind, pk = request.GET.get("scope", ""), request.GET.get("id", "")
    if kind == ScopeKind.AGENCY:
        return Scope.agency()
    if not pk.isdigit() or int(pk) > 2**31 - 1:
        raise Http404
    if kind == ScopeKind.USER:
        return Scope.of_user(get_object_or_404(User.objects.select_related("team"), pk=int(pk)))
    if kind == ScopeKind.TEAM:
        return Scope.of_team(get_object_or_404(Team, pk=int(pk)))
    raise Http404


def _narrowing(request: HttpRequest, metric: str, scope: Scope) -> tuple[str, str]:
    """``stage`` and ``close`` narrow the open pipeline (the sales dashboard's funnel and forecast)."""
    stage, close = request.GET.get("stage", ""), request.GET.get("close", "")
    if (stage or close) and metric != Metric.PIPELINE_WEIGHTED:
        raise Http404
    if stage and stage not in PIPELINE_STAGES:
        raise Http404
    if close:
        try:
            forecast_records(scope, close)
        except ValueError:
            raise Http404 from None
    return stage, close


@dataclass
class Drilldown:
    metric: str
    scope: Scope
    period: Period
    stage: str
    close: str
    sections: list[Section]
    totals: list[dict]


def drilldown_from(request: HttpRequest) -> Drilldown:
    metric = request.GET.get("metric", "")
    if metric not in DRILLDOWN_METRICS:
        raise Http404
    scope = _scope_from(request)
    if not may_drill_down(request.user, scope, metric):
        raise Http404
    period = period_from(request)
    stage, close = _narrowing(request, metric, scope)
    sections = drilldown_sections(metric, scope, period, stage=stage, close=close)
    return Drilldown(metric, scope, period, stage, close, sections, [section.totals() for section in sections])


def records_table(drilldown: Drilldown) -> Table:
    table = Table(
        "records",
        str(Metric(drilldown.metric).label),
        [
            _("List"),
            _("Reference"),
            _("Description"),
            _("Client"),
            _("Owner"),
            _("Date"),
            _("Amount"),
            _("Currency"),
            _("Detail"),
        ],
    )
    for section in drilldown.sections:
        for record in section.listed().iterator(chunk_size=2000):
            row = record_row(section, record)
            amount = money_value(row["amount"], row["currency"]) if row["amount"] is not None else ""
            table.rows.append(
                [
                    section.title,
                    row["reference"],
                    row["description"],
                    row["client"],
                    row["owner"],
                    row["day"],
                    amount,
                    row["currency"],
                    row["detail"],
                ]
            )
    return table


class SectionPaginator(Paginator):
    """A section's pages in two queries: its count is the totals' (counted already), and a page's rows are found
    by id first, then read with their client and owner: ordering tens of thousands of joined rows to keep fifty
    costs far more than ordering their ids."""

    def __init__(self, section: Section, count: int, per_page: int):
        super().__init__(section.listed(), per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ids = list(self.object_list.values_list("pk", flat=True)[bottom : bottom + self.per_page])
        rows = {row.pk: row for row in self.object_list.filter(pk__in=ids)}
        return self._get_page([rows[pk] for pk in ids], number, self)


@login_required
@reads_from_replica
def drilldown(request: HttpRequest) -> HttpResponse:
    found = drilldown_from(request)
    result = drilldown_result(found.metric, found.sections, found.totals, found.scope, found.period)
    narrowed = bool(found.stage or found.close)
    figure = None if narrowed else metrics.compute(found.metric, found.scope, found.period)
    sections = []
    for section, totals in zip(found.sections, found.totals, strict=True):
        param = f"page-{section.key}"
        page = SectionPaginator(section, totals["count"], PAGE_SIZE).get_page(request.GET.get(param))
        sections.append(
            {
                "section": section,
                "columns": COLUMNS[section.kind],
                "page": page,
                "previous_url": _page_url(request, param, page.previous_page_number()) if page.has_previous() else "",
                "next_url": _page_url(request, param, page.next_page_number()) if page.has_next() else "",
                "rows": [record_row(section, record) for record in page.object_list],
                "totals": totals,
            }
        )
    context = {
        "drilldown": found,
        "label": Metric(found.metric).label,
        "description": DESCRIPTIONS[found.metric],
        "unit": metrics.METRICS[found.metric].unit,
        "sections": sections,
        "result": _figure_texts(result),
        "figure": _figure_texts(figure) if figure is not None else None,
        "agrees": figure is None or _same(result, figure),
        "stage_label": Stage(found.stage).label if found.stage else "",
        "close_label": _close_label(found.close),
        "back_url": _back_url(request, found),
        "export": export_urls("records", [Table("records", "", [])], request)["records"],
    }
    return render(request, "kpis/drilldown.html", context)


def _page_url(request: HttpRequest, param: str, number: int) -> str:
    params = request.GET.copy()
    params[param] = number
    return f"?{params.urlencode()}"


def _close_label(key: str) -> str:
    """A forecast bucket's name (the key was checked by ``forecast_records``)."""
    labels = {"overdue": _("Expected before this month"), "later": _("Later"), "undated": _("No expected close")}
    if not key:
        return ""
    return labels[key] if key in labels else Period.parse(key).label


def _back_url(request: HttpRequest, found: Drilldown) -> str:
    """The dashboard the figure came from: the pipeline's for a narrowed list, one's own for one's own records."""
    query = urlencode({"period": found.period.key})
    if found.stage or found.close:
        return f"{reverse('kpis:sales')}?{query}"
    if found.scope.kind == ScopeKind.USER and not sees_all_scopes(request.user):
        name = "kpis:am" if request.user.role == Role.ACCOUNT_MANAGER else "kpis:sales"
        return f"{reverse(name)}?{query}"
    if found.scope.kind == ScopeKind.USER and found.scope.user.role == Role.ACCOUNT_MANAGER:
        return f"{reverse('kpis:am')}?{urlencode({'user': found.scope.user.pk, 'period': found.period.key})}"
    return f"{reverse('kpis:director')}?{query}"


def _same(one: metrics.Figure, other: metrics.Figure) -> bool:
    return one.amounts == other.amounts and one.value == other.value


def _figure_texts(figure: metrics.Figure) -> list[dict]:
    """The figure as text, per currency when it has amounts ('—' for nothing at all)."""
    if figure.amounts:
        return [
            {"currency": currency, "text": format_figure(value, figure.metric, currency)}
            for currency, value in figure.amounts.items()
        ]
    return [{"currency": "", "text": format_figure(figure.value, figure.metric)}]
