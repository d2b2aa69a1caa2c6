"""The director's dashboard: the agency's figures against targets, the account managers' leaderboard with a
12-period trend, the teams side by side, receivables aging, renewals due, clients at risk and SLA breaches.

Every figure comes from one ``Board`` (grouped queries), so the page runs the same number of queries for any
number of account managers, teams, periods and rows; every number links to the records behind it.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.permissions import role_required
from contracts.billing.selectors import BUCKETS
from contracts.billing.views.receivables import _with_links
from core.money import format_money
from core.replica import reads_from_replica
from kpis import charts, selectors
from kpis.metrics import Scope
from kpis.models import Metric
from kpis.selectors import Board, Cell, make_cell
from kpis.selectors.board import Person, currency_order

from .shared import (
    DIRECTOR_DASHBOARD_ROLES,
    Currencies,
    Table,
    cell_view,
    currencies_from,
    dashboard_context,
    drilldown_url,
    export_urls,
    figure_value,
    may_drill_down,
    money_value,
    period_from,
)

# What each headline figure means, under its name (DOMAIN.md, "KPIs and dashboards").
DESCRIPTIONS = {
    Metric.SIGNED_REVENUE: gettext_lazy("Value of the contracts signed in the period."),
    Metric.UPSELL_REVENUE: gettext_lazy("Signed upsells."),
    Metric.INVOICED_REVENUE: gettext_lazy("Net of the invoices issued, void ones excluded."),
    Metric.CASH_COLLECTED: gettext_lazy("Payments received."),
    Metric.GROSS_MARGIN: gettext_lazy("Invoiced revenue less the costs of the period."),
    Metric.NEW_CLIENTS: gettext_lazy("Clients whose first contract was signed."),
    Metric.WIN_RATE: gettext_lazy("Won ÷ (won + lost)."),
    Metric.RENEWAL_RATE: gettext_lazy("Renewed ÷ signed contracts ending in the period."),
    Metric.PIPELINE_WEIGHTED: gettext_lazy("Open deals now, value × probability."),
    Metric.PIPELINE_COVERAGE: gettext_lazy("Weighted pipeline ÷ what is left of the signed-revenue target."),
    Metric.OVERDUE_RECEIVABLES: gettext_lazy("Owed and past due on the period's last day."),
    Metric.DSO: gettext_lazy("Owed on the last day ÷ gross invoiced × days."),
    Metric.NET_REVENUE_RETENTION: gettext_lazy("Last 12 months' revenue from the clients billed the year before."),
    Metric.GROSS_REVENUE_RETENTION: gettext_lazy("The same, each client capped at its earlier revenue."),
    Metric.AVERAGE_DAYS_TO_CLOSE: gettext_lazy("From a deal's creation to its signature."),
}
RETENTION = (Metric.NET_REVENUE_RETENTION, Metric.GROSS_REVENUE_RETENTION)


def headline(board: Board, scope: Scope, currencies: Currencies, user, metrics=selectors.HEADLINE_METRICS) -> list:
    """The scope's figures against their targets, each with the link to its records."""
    items = []
    for metric in metrics:
        cells = selectors.cells(board, metric, scope, currencies.converter)
        link = drilldown_url(metric, scope, board.period) if may_drill_down(user, scope, metric) else None
        items.append(
            {
                "metric": metric,
                "label": Metric(metric).label,
                "description": DESCRIPTIONS[metric],
                "cells": [cell_view(cell, metric) for cell in cells],
                "url": link,
            }
        )
    return items


def headline_table(items: list[dict], key: str, title: str, who: str = "") -> Table:
    table = Table(key, title, [_("Metric"), _("Currency"), _("Actual"), _("Target"), _("Attainment (%)")])
    if who:
        table.header.insert(0, _("For"))
    for item in items:
        for view in item["cells"] or [{"cell": Cell("", None, None, None, None)}]:
            cell = view["cell"]
            row = [
                item["label"],
                cell.currency,
                figure_value(cell.actual, item["metric"], cell.currency),
                figure_value(cell.target, item["metric"], cell.currency),
                "" if cell.attainment is None else cell.attainment,
            ]
            table.rows.append([who, *row] if who else row)
    return table


# --- The leaderboard --------------------------------------------------------------------------------------


def person_scope(person: Person) -> Scope:
    return Scope.of_user(User(pk=person.id, full_name=person.full_name, team_id=person.team_id))


def _series(board: Board, scope: Scope, currencies: Currencies) -> dict[str, list[Decimal]]:
    """Signed revenue in each of the trend's periods: per currency, or converted at the page's rate."""
    points = board.trend_amounts(scope)
    if currencies.converted:
        return {currencies.converter.to: [currencies.converter.convert(point) for point in points]}
    names = sorted({currency for point in points for currency in point}, key=currency_order)
    return {currency: [point.get(currency, Decimal("0")) for point in points] for currency in names}


def _with_trend_currencies(cells: list[Cell], series: dict) -> list[Cell]:
    """The period's cells, plus a zero cell for a currency signed earlier in the trend but not this period (and
    one in the agency's currency for someone with no figure at all: they still have a row)."""
    have = {cell.currency for cell in cells}
    extra = [make_cell(currency, Decimal("0"), None) for currency in series if currency not in have]
    if not cells and not extra:
        extra = [make_cell(settings.ACCORD_DEFAULT_CURRENCY, Decimal("0"), None)]
    return sorted(cells + extra, key=lambda cell: currency_order(cell.currency))


def _rank_key(cells: list[Cell]) -> Decimal:
    """Ranked by attainment in the agency's currency (or the converted one); no target ranks last."""
    preferred = [cell for cell in cells if cell.currency == settings.ACCORD_DEFAULT_CURRENCY] or cells
    attained = [cell.attainment for cell in preferred if cell.attainment is not None]
    return max(attained) if attained else Decimal("-1")


def _leader_cell(board: Board, person: Person, scope: Scope, cell: Cell, points: list[Decimal]) -> dict:
    """One currency of an account manager's row: the figure against its target, the sparkline of the trend
    (its title says what it shows) and the trend's figures, each opening its period's contracts."""
    view = cell_view(cell, Metric.SIGNED_REVENUE)
    first, last = board.trend[0].label, board.trend[-1].label
    view["sparkline"] = charts.sparkline(
        points,
        chart_id=f"trend-{person.id}-{cell.currency}",
        title=_("%(name)s: signed revenue in %(currency)s, %(first)s to %(last)s, from %(start)s to %(end)s")
        % {
            "name": person.full_name,
            "currency": cell.currency,
            "first": first,
            "last": last,
            "start": format_money(points[0], cell.currency),
            "end": format_money(points[-1], cell.currency),
        },
    )
    view["trend"] = [
        {"text": format_money(point, cell.currency), "url": drilldown_url(Metric.SIGNED_REVENUE, scope, period)}
        for point, period in zip(points, board.trend, strict=True)
    ]
    view["points"] = points
    return view


def leaderboard(board: Board, currencies: Currencies) -> list[dict]:
    """Every active account manager's signed revenue against target with the 12-period trend, best attainment
    first; no query (the board has it all)."""
    rows = []
    for person in board.members.account_managers():
        scope = person_scope(person)
        series = _series(board, scope, currencies)
        signed = selectors.cells(board, Metric.SIGNED_REVENUE, scope, currencies.converter)
        cells = _with_trend_currencies(signed, series)
        zeros = [Decimal("0")] * len(board.trend)
        rows.append(
            {
                "person": person,
                "cells": [_leader_cell(board, person, scope, cell, series.get(cell.currency, zeros)) for cell in cells],
                "rank": _rank_key(cells),
                "url": drilldown_url(Metric.SIGNED_REVENUE, scope, board.period),
                "dashboard_url": f"{reverse('kpis:am')}?user={person.id}&period={board.period.key}",
            }
        )
    rows.sort(key=lambda row: (-row["rank"], row["person"].full_name))
    return rows


def leaderboard_tables(rows: list[dict], board: Board) -> tuple[Table, Table]:
    ranking = Table(
        "leaderboard",
        _("Account managers"),
        [_("Account manager"), _("Team"), _("Currency"), _("Target"), _("Signed"), _("Attainment (%)")],
    )
    trend = Table("trend", _("Signed revenue, last 12 periods"), [_("Account manager"), _("Currency")])
    trend.header += [period.key for period in board.trend]
    for row in rows:
        person = row["person"]
        for view in row["cells"]:
            cell = view["cell"]
            ranking.rows.append(
                [
                    person.full_name,
                    person.team_name,
                    cell.currency,
                    money_value(cell.target, cell.currency),
                    money_value(cell.actual, cell.currency),
                    "" if cell.attainment is None else cell.attainment,
                ]
            )
            trend.rows.append(
                [person.full_name, cell.currency, *[money_value(p, cell.currency) for p in view["points"]]]
            )
    return ranking, trend


# --- Teams ----------------------------------------------------------------------------------------------------

TEAM_FIGURES = (Metric.INVOICED_REVENUE, Metric.CASH_COLLECTED, Metric.PIPELINE_WEIGHTED, Metric.OVERDUE_RECEIVABLES)


def team_rows(board: Board, currencies: Currencies) -> list[dict]:
    rows = []
    for team in board.members.teams():
        scope = Scope.of_team(team)
        signed = selectors.cells(board, Metric.SIGNED_REVENUE, scope, currencies.converter)
        figures = {}
        for metric in (*TEAM_FIGURES, Metric.WIN_RATE):
            figures[metric] = {
                "cells": [
                    cell_view(cell, metric) for cell in selectors.cells(board, metric, scope, currencies.converter)
                ],
                "url": drilldown_url(metric, scope, board.period),
            }
        rows.append(
            {
                "team": team,
                "signed": [cell_view(cell, Metric.SIGNED_REVENUE) for cell in signed],
                "signed_url": drilldown_url(Metric.SIGNED_REVENUE, scope, board.period),
                "figures": figures,
            }
        )
    return rows


def team_charts(rows: list[dict]) -> list[dict]:
    """One bar chart per currency: each team's signed revenue, its target as a dashed outline."""
    by_currency: dict[str, list[charts.Bar]] = {}
    for row in rows:
        for view in row["signed"]:
            cell = view["cell"]
            by_currency.setdefault(cell.currency, []).append(
                charts.Bar(row["team"].name, cell.actual or 0, view["actual"], target=cell.target)
            )
    return [
        {
            "currency": currency,
            "svg": charts.bar_chart(
                bars,
                chart_id=f"teams-{currency}",
                title=_("Signed revenue by team, %(currency)s") % {"currency": currency},
                description=_("Solid bars are signed revenue, dashed outlines the targets; the table has the figures."),
            ),
        }
        for currency, bars in sorted(by_currency.items(), key=lambda item: currency_order(item[0]))
    ]


def teams_table(rows: list[dict]) -> Table:
    header = [_("Team"), _("Currency"), _("Signed target"), _("Signed"), _("Attainment (%)")]
    header += [str(Metric(metric).label) for metric in TEAM_FIGURES] + [_("Win rate (%)")]
    table = Table("teams", _("Teams"), header)
    for row in rows:
        currencies = sorted({view["cell"].currency for view in row["signed"]} | _figure_currencies(row))
        for currency in currencies:
            signed = next((view["cell"] for view in row["signed"] if view["cell"].currency == currency), None)
            values = [row["team"].name, currency]
            values += (
                [money_value(signed.target, currency), money_value(signed.actual, currency)] if signed else ["", ""]
            )
            values.append("" if signed is None or signed.attainment is None else signed.attainment)
            for metric in TEAM_FIGURES:
                cell = next(
                    (v["cell"] for v in row["figures"][metric]["cells"] if v["cell"].currency == currency), None
                )
                values.append(money_value(cell.actual, currency) if cell else "")
            [win] = row["figures"][Metric.WIN_RATE]["cells"]
            values.append("" if win["cell"].actual is None else win["cell"].actual)
            table.rows.append(values)
    return table


def _figure_currencies(row: dict) -> set[str]:
    return {view["cell"].currency for metric in TEAM_FIGURES for view in row["figures"][metric]["cells"]}


# --- Receivables and the lists --------------------------------------------------------------------------------


def aging_view(user, revision_now: str | None = None) -> dict:
    rows = [_with_links(row, None) for row in selectors.receivables_aging(user=user, revision_now=revision_now)]
    chart_list = [
        {
            "currency": row["currency"],
            "svg": charts.bar_chart(
                [
                    charts.Bar(str(cell["label"]), cell["amount"], format_money(cell["amount"], row["currency"]))
                    for cell in row["cells"]
                ],
                chart_id=f"aging-{row['currency']}",
                title=_("Outstanding %(currency)s by days past due") % {"currency": row["currency"]},
                description=_("One bar per aging bucket; the table has the figures and the invoices behind them."),
            ),
        }
        for row in rows
    ]
    table = Table(
        "aging",
        _("Receivables aging"),
        [_("Currency"), *[str(b.label) for b in BUCKETS], _("Total"), _("Open invoices")],
    )
    for row in rows:
        table.rows.append(
            [
                row["currency"],
                *[money_value(row[b.key], row["currency"]) for b in BUCKETS],
                money_value(row["total"], row["currency"]),
                row["invoices"],
            ]
        )
    return {"rows": rows, "charts": chart_list, "buckets": BUCKETS, "table": table}


def lists_view(user, owner: User | None = None, revision_now: str | None = None) -> dict:
    renewals, renewals_total = selectors.renewals_due(user=user, owner=owner)
    at_risk, at_risk_total = selectors.at_risk_clients(user=user, owner=owner, revision_now=revision_now)
    renewals_table = Table(
        "renewals",
        _("Renewals due in 90 days"),
        [
            _("Contract"),
            _("Client"),
            _("Owner"),
            _("Notice deadline"),
            _("End"),
            _("Value"),
            _("Currency"),
            _("Renewal deal"),
        ],
    )
    for contract in renewals:
        renewals_table.rows.append(
            [
                contract.number,
                contract.client.name,
                contract.owner.full_name,
                contract.notice_deadline.isoformat() if contract.notice_deadline else "",
                contract.end_date.isoformat() if contract.end_date else "",
                money_value(contract.value, contract.currency),
                contract.currency,
                getattr(getattr(contract, "successor", None), "number", "") or "",
            ]
        )
    at_risk_table = Table("at_risk", _("Clients at risk"), [_("Client"), _("Owner"), _("Health score")])
    at_risk_table.rows = [[client.name, client.owner.full_name, client.health_score] for client in at_risk]
    return {
        "renewals": renewals,
        "renewals_total": renewals_total,
        "at_risk": at_risk,
        "at_risk_total": at_risk_total,
        "tables": [renewals_table, at_risk_table],
    }


def breaches_view(user) -> dict:
    breaches, total = selectors.sla_breaches(user=user)
    table = Table("sla_breaches", _("SLA breaches"), [_("Request"), _("Client"), _("Owner"), _("Due"), _("Priority")])
    table.rows = [
        [
            request.title,
            request.client.name,
            request.owner.full_name if request.owner else "",
            request.sla_due_at.isoformat(),
            request.get_priority_display(),
        ]
        for request in breaches
    ]
    return {"rows": breaches, "total": total, "table": table}


# --- The page -------------------------------------------------------------------------------------------------


def director_context(request: HttpRequest) -> dict:
    """Everything the page shows, and its tables for the CSV export. A bounded number of queries (the tests
    count them): the header's three, the board's (four from the cache, thirteen otherwise), the exchange rate
    when converting, aging (none from the cache), renewals, clients at risk and SLA breaches."""
    period = period_from(request)
    currencies = currencies_from(request, period)
    board = selectors.build_board(Scope.agency(), period)
    user = request.user
    items = headline(board, Scope.agency(), currencies, user)
    ranking = leaderboard(board, currencies)
    teams = team_rows(board, currencies)
    aging = aging_view(user, board.revision)
    lists = lists_view(user, revision_now=board.revision)
    breaches = breaches_view(user)
    tables = [
        headline_table(items, "headline", _("Agency figures")),
        *leaderboard_tables(ranking, board),
        teams_table(teams),
        aging["table"],
        *lists["tables"],
        breaches["table"],
    ]
    return {
        **dashboard_context(request, period, currencies),
        "board": board,
        "headline": items,
        "leaderboard": ranking,
        "trend_labels": [p.label for p in board.trend],
        "teams": teams,
        "team_charts": team_charts(teams),
        "aging": aging,
        "lists": lists,
        "breaches": breaches,
        "tables": {table.key: table for table in tables},
        "export": export_urls("director", tables, request),
    }


@login_required
@role_required(*DIRECTOR_DASHBOARD_ROLES)
@reads_from_replica
def director(request: HttpRequest) -> HttpResponse:
    return render(request, "kpis/director.html", director_context(request))
