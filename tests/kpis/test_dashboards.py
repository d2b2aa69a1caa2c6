"""The KPI dashboards: who sees which, that every number opens records adding up to it, bounded query counts,
CSV exports, converted figures and the home panel."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from contracts.models import Stage
from kpis import metrics
from kpis.metrics import Scope
from kpis.models import Metric
from kpis.periods import Period, current_period
from kpis.selectors import HEADLINE_METRICS
from kpis.selectors.board import VALUE_METRICS
from kpis.selectors.drilldown import DRILLDOWN_METRICS
from kpis.views.shared import scope_params
from tests.factories import (
    ActiveContractFactory,
    ClientFactory,
    ContractFactory,
    InvoiceFactory,
    PaymentFactory,
    RequestFactory,
    UserFactory,
)
from tests.kpis.factories import CostEntryFactory, ExchangeRateFactory, KpiTargetFactory, lost_deal
from tests.kpis.test_metrics import SCOPES, book, hanoi_clock, vnd  # noqa: F401 (fixtures)

# PostgreSQL keeps pre-summed figures (kpis.ledger, contracts.billing.totals): one query more or less here and there.
PRE_SUMMED = int(connection.vendor == "postgresql")
pytestmark = pytest.mark.django_db

SEPTEMBER = "2026-09"


def signed_in(client, user):
    client.force_login(user)
    return client


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# --- Who sees which dashboard -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.ADMIN, Role.FINANCE])
def test_directors_admins_and_finance_open_the_agency_dashboard(client, role):
    response = signed_in(client, UserFactory(role=role)).get("/kpis/")

    assert response.status_code == 200
    assert [item["metric"] for item in response.context["headline"]] == list(HEADLINE_METRICS)


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SALES])
def test_account_managers_and_sales_have_no_agency_dashboard(client, role):
    assert signed_in(client, UserFactory(role=role)).get("/kpis/").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for url in ("/kpis/", "/kpis/am/", "/kpis/sales/", "/kpis/records/?metric=signed_revenue&scope=agency"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_account_manager_sees_their_own_dashboard_with_their_team_totals(client, am, teammate):
    ActiveContractFactory(client__owner=teammate, signed_at=timezone.now(), value=vnd(70))
    ActiveContractFactory(client__owner=am, signed_at=timezone.now(), value=vnd(30))

    response = signed_in(client, am).get("/kpis/am/")

    assert response.status_code == 200
    assert response.context["subject"] == am
    own = {item["metric"]: item for item in response.context["headline"]}
    team = {item["metric"]: item for item in response.context["team_headline"]}
    assert own[Metric.SIGNED_REVENUE]["cells"][0]["cell"].actual == vnd(30)
    assert team[Metric.SIGNED_REVENUE]["cells"][0]["cell"].actual == vnd(100)
    # The team's totals do not open the team's records (an account manager opens their own only).
    assert own[Metric.SIGNED_REVENUE]["url"] and team[Metric.SIGNED_REVENUE]["url"] is None
    assert Metric.NET_REVENUE_RETENTION not in team


def test_another_account_managers_dashboard_does_not_exist_for_an_account_manager(client, am, teammate, stranger):
    signed_in(client, am)

    assert client.get(f"/kpis/am/?user={teammate.pk}").status_code == 404
    assert client.get(f"/kpis/am/?user={stranger.pk}").status_code == 404
    assert client.get("/kpis/am/?user=abc").status_code == 404
    assert client.get(f"/kpis/am/?user={am.pk}").status_code == 200


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.FINANCE])
def test_directors_and_finance_open_any_account_managers_dashboard(client, am, role):
    viewer = UserFactory(role=role)
    signed_in(client, viewer)

    chooser = client.get("/kpis/am/")
    assert chooser.status_code == 200 and am in chooser.context["people"]
    response = client.get(f"/kpis/am/?user={am.pk}")
    assert response.status_code == 200 and response.context["subject"] == am
    # Only account managers have this dashboard.
    assert client.get(f"/kpis/am/?user={viewer.pk}").status_code == 404


def test_sales_have_no_account_manager_dashboard(client, sales):
    signed_in(client, sales)

    assert client.get("/kpis/am/").status_code == 404
    assert client.get(f"/kpis/am/?user={sales.pk}").status_code == 404


def test_sales_see_the_shared_pipeline_and_their_own_win_rate(client, sales, am):
    ContractFactory(client__owner=am, stage=Stage.NEGOTIATION, probability=40, value=vnd(100))
    ContractFactory(client__owner=sales, owner=sales, stage=Stage.DRAFT, probability=10, value=vnd(50))
    ActiveContractFactory(client__owner=am, signed_at=timezone.now())
    signed_in(client, sales)

    everyone = client.get("/kpis/sales/")
    assert everyone.status_code == 200
    counts = {stage["stage"]: stage["count"] for stage in everyone.context["funnel"]["stages"]}
    assert counts == {"draft": 1, "negotiation": 1, "awaiting_signature": 0}
    # The AM's signed contract is not the salesperson's win.
    assert everyone.context["win"]["scope"] == Scope.of_user(sales)
    assert (everyone.context["win"]["won"], everyone.context["win"]["lost"]) == (0, 0)

    mine = client.get(f"/kpis/sales/?user={sales.pk}")
    counts = {stage["stage"]: stage["count"] for stage in mine.context["funnel"]["stages"]}
    assert counts == {"draft": 1, "negotiation": 0, "awaiting_signature": 0}
    assert client.get(f"/kpis/sales/?user={am.pk}").status_code == 404


def test_account_managers_and_finance_have_no_sales_dashboard(client, am, finance):
    assert signed_in(client, am).get("/kpis/sales/").status_code == 403
    assert signed_in(client, finance).get("/kpis/sales/").status_code == 403


def test_a_director_narrows_the_sales_dashboard_to_one_person(client, director, sales):
    ContractFactory(client__owner=sales, owner=sales, stage=Stage.DRAFT, probability=10, value=vnd(50))
    ContractFactory(stage=Stage.DRAFT)

    response = signed_in(client, director).get(f"/kpis/sales/?user={sales.pk}")

    assert response.context["win"]["scope"] == Scope.of_user(sales)
    assert sum(stage["count"] for stage in response.context["funnel"]["stages"]) == 1


def test_a_period_that_does_not_parse_is_a_404(client, director):
    signed_in(client, director)

    assert client.get("/kpis/?period=2026-13").status_code == 404
    assert client.get("/kpis/?period=nonsense").status_code == 404
    assert client.get("/kpis/?kind=quarter").context["period"] == current_period("quarter")


# --- Every number opens the records behind it, and they add up to it ----------------------------------------


def _headline_cells(response) -> dict:
    return {item["metric"]: item for item in response.context["headline"]}


def test_every_director_figure_equals_compute_and_its_records_add_up_to_it(client, director, book):  # noqa: F811
    signed_in(client, director)
    period = Period.parse(SEPTEMBER)

    response = client.get(f"/kpis/?period={SEPTEMBER}")
    headline = _headline_cells(response)

    for metric in HEADLINE_METRICS:
        figure = metrics.compute(metric, Scope.agency(), period)
        shown = {view["cell"].currency: view["cell"].actual for view in headline[metric]["cells"]}
        assert shown == (figure.amounts if metric not in VALUE_METRICS else {"": figure.value}), metric
        url = headline[metric]["url"]
        if metric not in DRILLDOWN_METRICS:
            assert url is None
            continue
        records = client.get(url)
        assert records.status_code == 200, metric
        assert records.context["agrees"], metric
        assert records.context["result"] == records.context["figure"], metric


@pytest.mark.parametrize("name", SCOPES)
def test_the_records_of_any_scope_add_up_to_its_figure(client, director, book, name):  # noqa: F811
    signed_in(client, director)
    scope = book.scope(name)
    query = "&".join(f"{key}={value}" for key, value in scope_params(scope).items())
    for period in (SEPTEMBER, "2026-Q3"):
        for metric in sorted(DRILLDOWN_METRICS):
            response = client.get(f"/kpis/records/?metric={metric}&{query}&period={period}")
            assert response.status_code == 200
            assert response.context["agrees"], (metric, name, period)


def test_a_money_figures_records_are_listed_with_their_total(client, director, book):  # noqa: F811
    response = signed_in(client, director).get(
        f"/kpis/records/?metric=signed_revenue&scope=user&id={book.lan.pk}&period={SEPTEMBER}"
    )

    [section] = response.context["sections"]
    assert section["totals"] == {"count": 3, "amounts": {"USD": Decimal("12000"), "VND": vnd(870)}}
    assert {row["reference"] for row in section["rows"]} == {book.contracts[key].number for key in ("L2", "L3", "L4")}
    assert [item["text"] for item in response.context["result"]] == ["12,000.00 USD", "870,000,000 ₫"]


def test_the_team_leaderboard_links_open_the_records_their_numbers_come_from(client, director, book):  # noqa: F811
    signed_in(client, director)
    response = client.get(f"/kpis/?period={SEPTEMBER}")

    lan = next(row for row in response.context["leaderboard"] if row["person"].id == book.lan.pk)
    records = client.get(lan["url"])
    assert records.context["result"] == [
        {"currency": "VND", "text": "870,000,000 ₫"},
        {"currency": "USD", "text": "12,000.00 USD"},
    ] or [item["text"] for item in records.context["result"]] == sorted(view["actual"] for view in lan["cells"])
    north = next(row for row in response.context["teams"] if row["team"].pk == book.north.pk)
    team_records = client.get(north["signed_url"])
    assert sorted(item["text"] for item in team_records.context["result"]) == sorted(
        view["actual"] for view in north["signed"]
    )


def test_the_pipeline_drills_down_by_stage_and_forecast_month(client, director, am):
    today = timezone.localdate()
    ContractFactory(client__owner=am, stage=Stage.NEGOTIATION, probability=40, value=vnd(100), expected_close=today)
    ContractFactory(client__owner=am, stage=Stage.DRAFT, probability=10, value=vnd(10), expected_close=None)
    signed_in(client, director)

    by_stage = client.get("/kpis/records/?metric=pipeline_weighted&scope=agency&stage=negotiation")
    assert by_stage.context["sections"][0]["totals"] == {"count": 1, "amounts": {"VND": vnd(40)}}
    month = Period.containing("month", today).key
    by_month = client.get(f"/kpis/records/?metric=pipeline_weighted&scope=agency&close={month}")
    assert by_month.context["sections"][0]["totals"]["count"] == 1
    undated = client.get("/kpis/records/?metric=pipeline_weighted&scope=agency&close=undated")
    assert undated.context["sections"][0]["totals"] == {"count": 1, "amounts": {"VND": vnd(1)}}
    assert client.get("/kpis/records/?metric=pipeline_weighted&scope=agency&stage=active").status_code == 404
    assert client.get("/kpis/records/?metric=pipeline_weighted&scope=agency&close=1999-01").status_code == 404
    assert client.get("/kpis/records/?metric=signed_revenue&scope=agency&stage=draft").status_code == 404


def test_who_may_open_which_records(client, am, teammate, sales, finance):
    team = am.team_id

    def status(user, query):
        return signed_in(client, user).get(f"/kpis/records/?{query}").status_code

    assert status(am, f"metric=signed_revenue&scope=user&id={am.pk}") == 200
    assert status(am, f"metric=signed_revenue&scope=user&id={teammate.pk}") == 404
    assert status(am, f"metric=signed_revenue&scope=team&id={team}") == 404
    assert status(am, "metric=signed_revenue&scope=agency") == 404
    assert status(sales, "metric=pipeline_weighted&scope=agency") == 200
    assert status(sales, "metric=signed_revenue&scope=agency") == 404
    assert status(sales, f"metric=win_rate&scope=user&id={sales.pk}") == 200
    assert status(finance, f"metric=cash_collected&scope=team&id={team}") == 200
    assert status(finance, "metric=net_revenue_retention&scope=agency") == 404  # no records behind retention
    assert status(finance, "metric=nonsense&scope=agency") == 404
    assert status(finance, "metric=signed_revenue&scope=user&id=999999") == 404
    assert status(finance, "metric=signed_revenue&scope=team") == 404


# --- Query counts -------------------------------------------------------------------------------------------


def _agency(count: int, team, month: Period) -> None:
    """``count`` account managers, each with a client, a contract signed this month, an open deal, an issued
    invoice with a payment, an overdue one, a cost, a deal lost this month, a renewal due and a breached request."""
    today = timezone.localdate()
    signed = month.starts_at + timedelta(hours=10)
    for index in range(count):
        owner = UserFactory(role=Role.ACCOUNT_MANAGER, team=team)
        client = ClientFactory(owner=owner)
        contract = ActiveContractFactory(
            client=client,
            signed_at=signed,
            value=vnd(100 + index),
            end_date=today + timedelta(days=60),
            notice_deadline=today + timedelta(days=30),
        )
        ContractFactory(client=client, stage=Stage.NEGOTIATION, probability=40, value=vnd(10))
        invoice = InvoiceFactory(contract=contract, issue_date=month.start, due_date=month.start)
        PaymentFactory(invoice=invoice, received_on=month.start)
        CostEntryFactory(contract=contract, amount=vnd(1), incurred_on=month.start)
        lost_deal(client=client, created=signed - timedelta(days=20), lost=signed)
        RequestFactory(client=client, received_at=timezone.now() - timedelta(days=10))
        KpiTargetFactory(user=owner, period_start=month.start, value=vnd(200))


@pytest.mark.parametrize(
    ("url", "viewer_role", "queries"),
    [
        # session, user, unread count; the board (users; the data's revision; signed with the trend, lost, ending,
        # pipeline, invoiced, payments, new clients, receivables, revenue retention; costs, targets); aging,
        # renewals, clients at risk (the clients' revision, the scores), SLA breaches; on PostgreSQL, whether the
        # pre-summed signed months count in this time zone (kpis.ledger)
        ("/kpis/?period={month}", Role.DIRECTOR, 21 + PRE_SUMMED),
        # the same and the exchange rate
        ("/kpis/?period={month}&convert=VND", Role.DIRECTOR, 22 + PRE_SUMMED),
        # session, user, unread count; won, lost; the data's revision, funnel, forecast; idle deals
        ("/kpis/sales/?period={month}", Role.DIRECTOR, 9),
        # session, user, unread count; the data's revision, section totals (kept under it), count and page
        ("/kpis/records/?metric=signed_revenue&scope=agency&period={month}", Role.DIRECTOR, 8),
    ],
)
def test_dashboard_query_counts_do_not_grow_with_account_managers_or_rows(
    client, team, django_assert_num_queries, url, viewer_role, queries
):
    month = current_period()
    ExchangeRateFactory(month=month.start)
    signed_in(client, UserFactory(role=viewer_role))
    _agency(2, team, month)
    with django_assert_num_queries(queries):
        response = client.get(url.format(month=month.key))
    assert response.status_code == 200
    _agency(18, team, month)
    with django_assert_num_queries(queries):
        response = client.get(url.format(month=month.key))
    assert response.status_code == 200


def test_the_director_dashboard_reads_its_figures_from_the_cache_until_the_data_changes(
    client, team, django_assert_num_queries
):
    month = current_period()
    url = f"/kpis/?period={month.key}"
    signed_in(client, UserFactory(role=Role.DIRECTOR))
    _agency(2, team, month)
    first = client.get(url)

    # session, user, unread count; users, the data's revision, costs, targets; renewals; the clients' revision;
    # SLA breaches: the board's facts and the clients at risk come from the cache, and the aging too on SQLite (on
    # PostgreSQL it reads the pre-summed invoice totals, one query)
    with django_assert_num_queries(10 + PRE_SUMMED):
        again = client.get(url)
    assert again.context["tables"]["headline"].rows == first.context["tables"]["headline"].rows
    assert again.context["tables"]["at_risk"].rows == first.context["tables"]["at_risk"].rows

    _agency(1, team, month)  # one more contract signed this month, invoice, payment…
    with django_assert_num_queries(21 + PRE_SUMMED):
        changed = client.get(url)
    signed = next(row for row in changed.context["tables"]["headline"].rows if row[0] == Metric.SIGNED_REVENUE.label)
    assert signed[2] == sum(c.value for c in metrics.signed_contracts(Scope.agency(), month))


def test_the_director_dashboard_stays_within_25_queries_with_both_currencies(client, director, book):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    signed_in(client, director)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/kpis/?period=2027-09&convert=VND")
    assert response.status_code == 200
    assert len(captured) <= 25


def test_the_account_manager_dashboard_query_count_does_not_grow(client, team, django_assert_num_queries):
    month = current_period()
    _agency(2, team, month)
    subject = UserFactory(role=Role.ACCOUNT_MANAGER, team=team)
    signed_in(client, subject)
    # session, user, unread count; the user's team; the board (users, the data's revision, nine grouped facts
    # with revenue retention, costs, targets); renewals due, clients at risk (the clients' revision, the scores),
    # overdue invoices and their totals; on PostgreSQL, whether the pre-summed signed months count in this zone
    with django_assert_num_queries(22 + PRE_SUMMED):
        client.get("/kpis/am/")
    _agency(18, team, month)
    with django_assert_num_queries(22 + PRE_SUMMED):
        response = client.get("/kpis/am/")
    assert response.status_code == 200


# --- Currencies ---------------------------------------------------------------------------------------------


def test_converted_figures_use_the_months_rate_and_say_so(client, director, book):  # noqa: F811
    ExchangeRateFactory(month=date(2026, 9, 1), vnd_per_usd=Decimal("25000"))
    signed_in(client, director)

    response = client.get(f"/kpis/?period={SEPTEMBER}&convert=VND")

    assert response.context["currencies"].converted
    [signed] = _headline_cells(response)[Metric.SIGNED_REVENUE]["cells"]
    # 920M + (12,000 + 3,000) × 25,000 = 1,295M
    assert (signed["currency"], signed["cell"].actual) == ("VND", vnd(1295))
    note = response.content.decode()
    assert "converted to VND at 25,000 ₫ per US dollar, the rate for September 2026" in note


def test_without_the_months_rate_nothing_is_converted_and_the_page_says_so(client, director, book):  # noqa: F811
    ExchangeRateFactory(month=date(2026, 8, 1), vnd_per_usd=Decimal("25000"))
    signed_in(client, director)

    response = client.get(f"/kpis/?period={SEPTEMBER}&convert=VND")

    assert response.context["currencies"].missing
    cells = _headline_cells(response)[Metric.SIGNED_REVENUE]["cells"]
    assert [cell["currency"] for cell in cells] == ["VND", "USD"]
    assert "No exchange rate was entered for September 2026" in response.content.decode()


def test_figures_are_per_currency_by_default(client, director, book):  # noqa: F811
    response = signed_in(client, director).get(f"/kpis/?period={SEPTEMBER}")

    assert not response.context["currencies"].requested
    assert "Money is shown per currency, never added across currencies." in response.content.decode()


# --- Exports ------------------------------------------------------------------------------------------------


DIRECTOR_TABLES = ("headline", "leaderboard", "trend", "teams", "aging", "renewals", "at_risk", "sla_breaches")


@pytest.mark.parametrize("table", DIRECTOR_TABLES)
def test_every_director_table_exports_as_csv_with_a_bom(client, director, book, table):  # noqa: F811
    signed_in(client, director)
    page = client.get(f"/kpis/?period={SEPTEMBER}")
    assert set(page.context["export"]) == set(DIRECTOR_TABLES)

    response = client.get(page.context["export"][table])

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"accord-kpis-director-{table}-2026-09.csv" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == [str(label) for label in page.context["tables"][table].header]
    assert len(rows) == len(page.context["tables"][table].rows) + 1


def test_the_leaderboard_csv_has_each_account_managers_figures(client, director, book):  # noqa: F811
    KpiTargetFactory(user=book.lan, value=vnd(800), period_start=date(2026, 9, 1))
    signed_in(client, director)

    rows = csv_rows(client.get(f"/kpis/export.csv?dashboard=director&table=leaderboard&period={SEPTEMBER}"))

    assert rows[0] == ["Account manager", "Team", "Currency", "Target", "Signed", "Attainment (%)"]
    assert ["Lan", "North", "VND", "800000000", "870000000", "108.8"] in rows
    assert ["Lan", "North", "USD", "", "12000.00", ""] in rows


def test_exports_defuse_formulas(client, director):
    team_owner = UserFactory(role=Role.ACCOUNT_MANAGER, full_name='=HYPERLINK("http://x")')
    ClientFactory(owner=team_owner, name="+cmd|' /C calc'!A0")
    signed_in(client, director)

    rows = csv_rows(client.get("/kpis/export.csv?dashboard=director&table=leaderboard"))

    assert any(row[0] == '\'=HYPERLINK("http://x")' for row in rows)


def test_the_account_managers_and_sales_tables_export_with_their_pages_checks(client, am, teammate, sales):
    signed_in(client, am)
    page = client.get("/kpis/am/")
    for table, url in page.context["export"].items():
        assert client.get(url).status_code == 200, table
    assert client.get(f"/kpis/export.csv?dashboard=am&table=headline&user={teammate.pk}").status_code == 404
    assert client.get("/kpis/export.csv?dashboard=director&table=headline").status_code == 403
    assert client.get("/kpis/export.csv?dashboard=sales&table=funnel").status_code == 403
    assert client.get("/kpis/export.csv?dashboard=am&table=nonsense").status_code == 404
    assert client.get("/kpis/export.csv?dashboard=nonsense&table=headline").status_code == 404

    signed_in(client, sales)
    page = client.get("/kpis/sales/")
    for table, url in page.context["export"].items():
        assert client.get(url).status_code == 200, table


def test_the_records_of_a_figure_export_as_csv(client, director, book):  # noqa: F811
    signed_in(client, director)
    page = client.get(f"/kpis/records/?metric=win_rate&scope=user&id={book.lan.pk}&period={SEPTEMBER}")

    rows = csv_rows(client.get(page.context["export"]))

    assert rows[0][:3] == ["List", "Reference", "Description"]
    assert sorted(row[1] for row in rows[1:]) == sorted(book.contracts[key].number for key in ("L2", "L3", "L4", "L6"))


# --- Home panel ---------------------------------------------------------------------------------------------


def test_the_home_page_shows_the_months_figures_to_directors_and_account_managers(client, director, am, finance):
    ActiveContractFactory(client__owner=am, signed_at=timezone.now(), value=vnd(30))
    KpiTargetFactory(user=am, period_start=current_period().start, value=vnd(60))

    mine = signed_in(client, am).get("/")
    assert "kpis/home/panel.html" in mine.context["panels"]
    signed = mine.context["kpi_home"]["figures"][0]
    assert (signed["cells"][0]["actual"], signed["cells"][0]["attainment"]) == ("30,000,000 ₫", "50.0 %")
    assert mine.context["kpi_home"]["dashboard_url"] == "/kpis/am/"

    agency = signed_in(client, director).get("/")
    assert agency.context["kpi_home"]["dashboard_url"] == "/kpis/"
    assert "kpis/home/panel.html" not in signed_in(client, finance).get("/").context["panels"]


def test_clients_at_risk_are_the_active_clients_under_the_threshold(director):
    from clients.models import Client
    from kpis import selectors

    clients = {status: ClientFactory(status=status) for status in ("active", "at_risk", "prospect", "churned")}
    Client.objects.update(created_at=timezone.now() - timedelta(days=120))  # 55 points for inactivity: 45

    page, total = selectors.at_risk_clients(user=director)

    # A prospect or a churned account is not a client the agency is about to lose (as the at-risk sweep).
    assert total == 2
    assert {client.pk for client in page} == {clients["active"].pk, clients["at_risk"].pk}
    assert {client.health_score for client in page} == {45}
