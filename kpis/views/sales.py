"""The sales dashboard: the pipeline funnel by stage, the weighted forecast by expected-close month, the win rate
and the idle deals.

Salespeople see the shared pipeline (every open deal) or only theirs (``?user=`` their own id), and their own
win rate. Directors and admins see the agency or anyone's (``?user=``).
"""

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.permissions import role_required
from core.money import format_money
from core.replica import reads_from_replica
from kpis import cache as kpi_cache
from kpis import charts, selectors
from kpis.metrics import Scope
from kpis.models import Metric
from kpis.scorecard import format_figure, sees_all_scopes
from kpis.selectors.board import currency_order

from .shared import (
    SALES_DASHBOARD_ROLES,
    Table,
    currencies_from,
    dashboard_context,
    drilldown_url,
    export_urls,
    may_drill_down,
    money_value,
    period_from,
    query_string,
)


def scopes_from(request: HttpRequest) -> tuple[Scope, Scope, User | None]:
    """(the pipeline's scope, the win rate's scope, the chosen person): ``?user=`` narrows both to a person —
    oneself for a salesperson, anyone who owns deals for a director. A salesperson's win rate is their own."""
    viewer = request.user
    wanted = request.GET.get("user", "")
    person = None
    if wanted:
        if not wanted.isdigit() or (not sees_all_scopes(viewer) and int(wanted) != viewer.pk):
            raise Http404
        person = User.objects.select_related("team").filter(pk=int(wanted), is_active=True).first()
        if person is None or person.role not in (Role.SALES, Role.ACCOUNT_MANAGER, Role.DIRECTOR):
            raise Http404
    pipeline = Scope.of_user(person) if person else Scope.agency()
    win = pipeline if sees_all_scopes(viewer) else Scope.of_user(viewer)
    return pipeline, win, person


def _deals(count: int) -> str:
    return ngettext("%(count)d deal", "%(count)d deals", count) % {"count": count}


def funnel_view(scope: Scope, period, user, currencies, revision_now: str | None = None) -> dict:
    stages = kpi_cache.cached(
        "funnel", (scope.key, get_language()), lambda: selectors.funnel(scope), revision_now=revision_now
    )
    for stage in stages:
        stage["rows"] = [
            {
                "currency": currency,
                "total": format_money(figures["total"], currency),
                "weighted": format_money(figures["weighted"], currency),
                "figures": figures,
            }
            for currency, figures in stage["amounts"].items()
        ]
        stage["url"] = (
            drilldown_url(Metric.PIPELINE_WEIGHTED, scope, period, stage=stage["stage"])
            if may_drill_down(user, scope, Metric.PIPELINE_WEIGHTED)
            else None
        )
    svg = charts.funnel(
        [
            charts.FunnelStage(
                str(stage["label"]),
                stage["count"],
                ", ".join([_deals(stage["count"]), *[row["total"] for row in stage["rows"]]]),
            )
            for stage in stages
        ],
        chart_id="funnel",
        title=_("Open deals by stage"),
        description=_("Each stage's width is its number of deals; its deals and value are written above it."),
    )
    table = Table("funnel", _("Pipeline by stage"), [_("Stage"), _("Deals"), _("Currency"), _("Value"), _("Weighted")])
    for stage in stages:
        for row in stage["rows"] or [{"currency": "", "figures": {"total": None, "weighted": None}}]:
            currency = row["currency"]
            table.rows.append(
                [
                    str(stage["label"]),
                    stage["count"],
                    currency,
                    money_value(row["figures"]["total"], currency) if currency else "",
                    money_value(row["figures"]["weighted"], currency) if currency else "",
                ]
            )
    return {"stages": stages, "svg": svg, "table": table}


def forecast_view(scope: Scope, period, user, currencies, revision_now: str | None = None) -> dict:
    today = timezone.localdate()
    buckets = kpi_cache.cached(
        "forecast",
        (scope.key, today, get_language()),
        lambda: selectors.forecast(scope, today),
        revision_now=revision_now,
    )
    converter = currencies.converter
    can_drill = may_drill_down(user, scope, Metric.PIPELINE_WEIGHTED)
    rows = []
    for bucket in buckets:
        amounts = (
            {converter.to: converter.convert(bucket.weighted)} if converter and bucket.weighted else bucket.weighted
        )
        rows.append(
            {
                "bucket": bucket,
                "amounts": [(currency, format_money(amount, currency), amount) for currency, amount in amounts.items()],
                "url": drilldown_url(Metric.PIPELINE_WEIGHTED, scope, period, close=bucket.key)
                if can_drill and bucket.count
                else None,
            }
        )
    currencies_seen = sorted(
        {currency for row in rows for currency, _text, _amount in row["amounts"]}, key=currency_order
    )
    chart_list = []
    for currency in currencies_seen:
        bars = []
        for row in rows:
            amount = next((value for name, _text, value in row["amounts"] if name == currency), Decimal("0"))
            bars.append(charts.Bar(row["bucket"].label, amount, format_money(amount, currency)))
        chart_list.append(
            {
                "currency": currency,
                "svg": charts.bar_chart(
                    bars,
                    chart_id=f"forecast-{currency}",
                    title=_("Weighted forecast by expected close, %(currency)s") % {"currency": currency},
                    description=_("Value × probability of the open deals expected to close in each month."),
                ),
            }
        )
    table = Table("forecast", _("Weighted forecast"), [_("Expected close"), _("Deals"), _("Currency"), _("Weighted")])
    for row in rows:
        for currency, _text, amount in row["amounts"] or [("", "", None)]:
            table.rows.append(
                [row["bucket"].label, row["bucket"].count, currency, money_value(amount, currency) if currency else ""]
            )
    return {"rows": rows, "charts": chart_list, "table": table}


def idle_view(scope: Scope) -> dict:
    deals, total = selectors.idle_deals(scope)
    now = timezone.now()
    rows = [{"deal": deal, "idle_days": (now - deal.stage_changed_at).days} for deal in deals]
    table = Table(
        "idle",
        _("Idle deals"),
        [_("Deal"), _("Client"), _("Owner"), _("Stage"), _("Days in stage"), _("Value"), _("Currency")],
        [
            [
                row["deal"].number,
                row["deal"].client.name,
                row["deal"].owner.full_name,
                row["deal"].get_stage_display(),
                row["idle_days"],
                money_value(row["deal"].value, row["deal"].currency),
                row["deal"].currency,
            ]
            for row in rows
        ],
    )
    return {"rows": rows, "total": total, "table": table}


def sales_context(request: HttpRequest) -> dict:
    """Funnel and forecast (the data's revision, and two queries unless cached), idle deals and the win rate (two),
    with the header's three."""
    period = period_from(request)
    currencies = currencies_from(request, period)
    pipeline, win_scope, person = scopes_from(request)
    user = request.user
    win = selectors.win_loss(win_scope, period)
    win["text"] = format_figure(win["rate"], Metric.WIN_RATE)
    win["scope"] = win_scope
    win["url"] = (
        drilldown_url(Metric.WIN_RATE, win_scope, period) if may_drill_down(user, win_scope, Metric.WIN_RATE) else None
    )
    # The open pipeline's funnel and forecast add up every open deal: from the cache while no contract changes.
    revision_now = kpi_cache.revision()
    funnel = funnel_view(pipeline, period, user, currencies, revision_now)
    forecast = forecast_view(pipeline, period, user, currencies, revision_now)
    idle = idle_view(pipeline)
    win_table = Table("win_rate", _("Win rate"), [_("Period"), _("Won"), _("Lost"), _("Win rate (%)")])
    win_table.rows = [[period.key, win["won"], win["lost"], "" if win["rate"] is None else win["rate"]]]
    tables = [funnel["table"], forecast["table"], win_table, idle["table"]]
    return {
        **dashboard_context(request, period, currencies),
        "person": person,
        "pipeline_scope": pipeline,
        "mine_url": query_string(request, user=str(user.pk)),
        "everyone_url": query_string(request, user=None),
        "win": win,
        "funnel": funnel,
        "forecast": forecast,
        "idle": idle,
        "tables": {table.key: table for table in tables},
        "export": export_urls("sales", tables, request),
    }


@login_required
@role_required(*SALES_DASHBOARD_ROLES)
@reads_from_replica
def sales(request: HttpRequest) -> HttpResponse:
    return render(request, "kpis/sales.html", sales_context(request))
