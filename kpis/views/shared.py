"""What the dashboards share: the period picker, the currency toggle, figures as text, drill-down links, and the
tables a page shows and exports as CSV."""

import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.http import Http404, HttpRequest
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.permissions import has_role
from core.money import Currency, format_money, round_money
from kpis import metrics
from kpis.currency import Converter, month_of
from kpis.metrics import Scope
from kpis.models import Metric, ScopeKind
from kpis.periods import Period, PeriodKind, current_period
from kpis.scorecard import format_attainment, format_figure, sees_all_scopes
from kpis.selectors import Cell
from kpis.selectors.drilldown import DRILLDOWN_METRICS

CONVERT_TO = Currency.VND
# The agency's dashboard: directors and admins, and finance (who sees every invoice and contract anyway).
DIRECTOR_DASHBOARD_ROLES = (Role.DIRECTOR, Role.ADMIN, Role.FINANCE)
SALES_DASHBOARD_ROLES = (Role.SALES, Role.DIRECTOR, Role.ADMIN)


def period_from(request: HttpRequest) -> Period:
    """?period=2026-11 / 2026-Q4 / 2026, or ?kind=quarter for the current one; this month by default. A period
    that does not parse is a 404, not a guess."""
    key = request.GET.get("period", "").strip()
    if key:
        try:
            return Period.parse(key)
        except ValueError:
            raise Http404 from None
    kind = request.GET.get("kind", PeriodKind.MONTH)
    return current_period(kind if kind in PeriodKind.values else PeriodKind.MONTH)


def query_string(request: HttpRequest, **changes) -> str:
    params = request.GET.copy()
    for key in ("page", "kind"):
        params.pop(key, None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return f"?{params.urlencode()}" if params else "?"


def period_picker(request: HttpRequest, period: Period) -> dict:
    """Month, quarter or year, and the previous and next period, keeping the page's other choices."""
    today = timezone.localdate()
    return {
        "period": period,
        "kinds": [
            {
                "label": label,
                "url": query_string(request, period=Period.containing(kind, min(period.end, today)).key),
                "active": kind == period.kind,
            }
            for kind, label in PeriodKind.choices
        ],
        "previous_url": query_string(request, period=period.previous().key),
        "next_url": query_string(request, period=period.next().key),
        "current_url": query_string(request, period=current_period(period.kind).key),
        "is_current": period == current_period(period.kind),
    }


@dataclass
class Currencies:
    """How the page shows money: per currency, or converted to VND at one month's rate (and which)."""

    requested: bool
    converter: Converter | None  # set only when converting (the rate exists)
    month: date
    rate: Decimal | None
    toggle_url: str

    @property
    def converted(self) -> bool:
        return self.converter is not None

    @property
    def missing(self) -> bool:
        return self.requested and self.converter is None

    @property
    def rate_text(self) -> str:
        return format_money(self.rate, Currency.VND) if self.rate is not None else ""


def currencies_from(request: HttpRequest, period: Period) -> Currencies:
    """?convert=VND converts at the rate of the period's last month (this month for the current period); with no
    rate for it, the page stays per currency and says so. One query when converting, none otherwise."""
    month = month_of(min(period.end, timezone.localdate()))
    requested = request.GET.get("convert", "").upper() == CONVERT_TO
    converter = Converter.for_month(CONVERT_TO, month) if requested else None
    usable = converter if converter is not None and converter.available else None
    return Currencies(
        requested=requested,
        converter=usable,
        month=month,
        rate=converter.vnd_per_usd if converter is not None else None,
        toggle_url=query_string(request, convert=None if requested else CONVERT_TO),
    )


# --- Figures as text ------------------------------------------------------------------------------------------


def status_text(cell: Cell, higher_is_better: bool = True) -> str:
    """Whether the target is met, in words (the page never relies on colour alone)."""
    if cell.met is None:
        return _("no target") if cell.target is None else _("nothing to compare yet")
    if cell.met:
        return _("on target") if higher_is_better else _("within target")
    return _("behind target") if higher_is_better else _("above target")


def cell_view(cell: Cell, metric: str) -> dict:
    better = metrics.METRICS[metric].higher_is_better
    return {
        "currency": cell.currency,
        # A ratio kept per currency (DSO, coverage, retention) names its currency; money already does.
        "tag": cell.currency if metrics.METRICS[metric].unit != "money" else "",
        "actual": format_figure(cell.actual, metric, cell.currency),
        "target": format_figure(cell.target, metric, cell.currency) if cell.target is not None else "",
        "attainment": format_attainment(cell),
        "meter": min(cell.attainment, Decimal("150")) if cell.attainment is not None else None,
        "met": cell.met,
        "status": status_text(cell, better),
        "cell": cell,
    }


def money_text(amounts: dict[str, Decimal]) -> list[str]:
    return [format_money(amount, currency) for currency, amount in amounts.items()]


# --- Drill-down links -----------------------------------------------------------------------------------------


def scope_params(scope: Scope) -> dict:
    if scope.kind == ScopeKind.USER:
        return {"scope": ScopeKind.USER, "id": scope.user.pk}
    if scope.kind == ScopeKind.TEAM:
        return {"scope": ScopeKind.TEAM, "id": scope.team.pk}
    return {"scope": ScopeKind.AGENCY}


def drilldown_url(metric: str, scope: Scope, period: Period, **extra) -> str | None:
    """The list of records behind a figure; None for a metric without one (revenue retention)."""
    if metric not in DRILLDOWN_METRICS:
        return None
    query = {"metric": metric, **scope_params(scope), "period": period.key, **extra}
    return f"{_drilldown_path(get_script_prefix())}?{urlencode(query)}"


@functools.lru_cache(maxsize=8)
def _drilldown_path(script_prefix: str) -> str:
    """The drill-down page's path, reversed once per script prefix: a leaderboard links hundreds of figures."""
    return reverse("kpis:drilldown")


def may_drill_down(user, scope: Scope, metric: str) -> bool:
    """The records behind a figure: every scope for those who see everything; otherwise one's own records, and
    the shared pipeline for sales. (An account manager sees the team's totals, not its records.)"""
    if sees_all_scopes(user):
        return True
    if scope.kind == ScopeKind.USER and scope.user.pk == user.pk:
        return True
    return has_role(user, Role.SALES) and scope.kind == ScopeKind.AGENCY and metric == Metric.PIPELINE_WEIGHTED


# --- Tables shown and exported --------------------------------------------------------------------------------


@dataclass
class Table:
    """A dashboard table as plain values: the CSV export writes it as the page shows it."""

    key: str
    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)


def money_value(amount: Decimal | None, currency: str):
    """An amount for a CSV cell: rounded to the currency's unit, empty when there is none."""
    return "" if amount is None else round_money(amount, currency)


def figure_value(value: Decimal | None, metric: str, currency: str):
    if value is None:
        return ""
    return money_value(value, currency) if metrics.METRICS[metric].unit == "money" and currency else value


def export_urls(dashboard: str, tables: list[Table], request: HttpRequest) -> dict[str, str]:
    """Each table's CSV link: the export rebuilds the page from the same query string and writes that table."""
    urls = {}
    for table in tables:
        params = request.GET.copy()
        for key in list(params):
            if key.startswith("page"):
                params.pop(key)
        params["dashboard"], params["table"] = dashboard, table.key
        urls[table.key] = f"{reverse('kpis:export')}?{params.urlencode()}"
    return urls


def dashboard_context(request: HttpRequest, period: Period, currencies: Currencies) -> dict:
    return {
        "picker": period_picker(request, period),
        "currencies": currencies,
        "period": period,
        "sees_all": sees_all_scopes(request.user),
    }
