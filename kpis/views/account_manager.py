"""An account manager's dashboard: their figures against their targets beside their team's totals, their trend,
and their accounts' clients at risk, renewals due and overdue invoices.

An account manager sees their own; directors, admins and finance pick anyone with ``?user=``. Another account
manager's dashboard does not exist for an account manager (404).
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.models import Role, User
from core.money import format_money
from core.replica import reads_from_replica
from kpis import charts, selectors
from kpis.metrics import Scope
from kpis.models import Metric
from kpis.scorecard import sees_all_scopes
from kpis.selectors.board import currency_order

from .director import RETENTION, headline, headline_table, lists_view
from .shared import Table, currencies_from, dashboard_context, drilldown_url, export_urls, money_value, period_from


def subject_from(request: HttpRequest) -> User | None:
    """Whose dashboard: ``?user=`` (any account manager for those who see everything, only oneself otherwise);
    oneself by default; None when a director has not chosen yet. Anything else is a 404."""
    viewer = request.user
    wanted = request.GET.get("user", "")
    if not wanted:
        if viewer.role == Role.ACCOUNT_MANAGER:
            return viewer
        if sees_all_scopes(viewer):
            return None
        raise Http404
    if not wanted.isdigit():
        raise Http404
    if not sees_all_scopes(viewer) and int(wanted) != viewer.pk:
        raise Http404
    subject = User.objects.select_related("team").filter(pk=int(wanted), role=Role.ACCOUNT_MANAGER).first()
    if subject is None:
        raise Http404
    return subject


def trend_charts(board, scope: Scope, currencies) -> list[dict]:
    """The account manager's signed revenue in each of the last 12 periods, one bar chart per currency."""
    points = board.trend_amounts(scope)
    if currencies.converted:
        series = {currencies.converter.to: [currencies.converter.convert(point) for point in points]}
    else:
        names = sorted({currency for point in points for currency in point}, key=currency_order)
        series = {name: [point.get(name, 0) for point in points] for name in names}
    return [
        {
            "currency": currency,
            "rows": list(zip(board.trend, values, strict=True)),
            "texts": [format_money(value, currency) for value in values],
            "svg": charts.bar_chart(
                [
                    charts.Bar(period.label, value, format_money(value, currency))
                    for period, value in zip(board.trend, values, strict=True)
                ],
                chart_id=f"my-trend-{currency}",
                title=_("Signed revenue per period, %(currency)s") % {"currency": currency},
                description=_("One bar per period, oldest first; the table has the same figures."),
            ),
        }
        for currency, values in series.items()
    ]


def account_manager_context(request: HttpRequest, subject: User) -> dict:
    """The board covers the subject's team (for the team's totals) and computes revenue retention for the subject;
    every list is limited to the subject's accounts. A bounded number of queries."""
    viewer = request.user
    period = period_from(request)
    currencies = currencies_from(request, period)
    mine = Scope.of_user(subject)
    team = Scope.of_team(subject.team) if subject.team_id else None
    board = selectors.build_board(team or mine, period, retention_scope=mine)
    own = headline(board, mine, currencies, viewer)
    team_items = headline(board, team, currencies, viewer, metrics=_team_metrics()) if team else []
    lists = lists_view(viewer, owner=subject, revision_now=board.revision)
    overdue, overdue_total, overdue_totals = selectors.overdue_invoices(
        user=viewer, owner=subject, revision_now=board.revision
    )
    trend = trend_charts(board, mine, currencies)
    overdue_table = Table(
        "overdue",
        _("Overdue invoices"),
        [_("Invoice"), _("Client"), _("Due"), _("Outstanding"), _("Currency")],
        [
            [
                invoice.number,
                invoice.client.name,
                invoice.due_date.isoformat(),
                money_value(invoice.outstanding, invoice.currency),
                invoice.currency,
            ]
            for invoice in overdue
        ],
    )
    trend_table = Table("trend", _("Signed revenue, last 12 periods"), [_("Period"), _("Currency"), _("Signed")])
    for chart in trend:
        trend_table.rows += [
            [period.key, chart["currency"], money_value(value, chart["currency"])] for period, value in chart["rows"]
        ]
    tables = [
        headline_table(own, "headline", _("Your figures"), who=subject.full_name),
        *([headline_table(team_items, "team", _("Team totals"), who=subject.team.name)] if team else []),
        trend_table,
        *lists["tables"],
        overdue_table,
    ]
    return {
        **dashboard_context(request, period, currencies),
        "subject": subject,
        "is_self": subject.pk == viewer.pk,
        "headline": own,
        "team_headline": team_items,
        "team": subject.team,
        "trend": trend,
        "trend_rows": [
            {
                "label": period.label,
                "texts": [chart["texts"][index] for chart in trend],
                "url": drilldown_url(Metric.SIGNED_REVENUE, mine, period),
            }
            for index, period in enumerate(board.trend)
        ],
        "lists": lists,
        "overdue": {"rows": overdue, "total": overdue_total, "totals": overdue_totals},
        "tables": {table.key: table for table in tables},
        "export": export_urls("am", tables, request),
    }


def _team_metrics() -> tuple:
    return tuple(metric for metric in selectors.HEADLINE_METRICS if metric not in RETENTION)


def chooser_context(request: HttpRequest) -> dict:
    people = User.objects.filter(role=Role.ACCOUNT_MANAGER, is_active=True).select_related("team").order_by("full_name")
    return {"people": people, "period_key": request.GET.get("period", "")}


@login_required
@reads_from_replica
def account_manager(request: HttpRequest) -> HttpResponse:
    if request.user.role not in (Role.ACCOUNT_MANAGER,) and not sees_all_scopes(request.user):
        raise Http404
    subject = subject_from(request)
    if subject is None:
        return render(request, "kpis/am_chooser.html", chooser_context(request))
    return render(request, "kpis/am.html", account_manager_context(request, subject))
