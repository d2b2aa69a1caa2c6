"""The dashboards' grouped figures agree with ``metrics.compute`` for every metric, scope and period.

The data set is the hand-computed book of tests/kpis/test_metrics.py (two teams, three AMs, two currencies,
contracts across period boundaries, void and written-off invoices, partial payments, lost deals, renewals).
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from contracts.models import Stage
from kpis import metrics, selectors
from kpis.currency import Converter
from kpis.metrics import Scope
from kpis.models import Metric
from kpis.periods import Period
from kpis.selectors.board import build_board
from tests.factories import ActiveContractFactory, ClientFactory, ContractFactory, UserFactory
from tests.kpis.factories import ExchangeRateFactory, KpiTargetFactory
from tests.kpis.test_metrics import SCOPES, book, hanoi_clock, vnd  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

PERIODS = ("2026-09", "2026-Q3", "2026", "2026-10")


@pytest.fixture
def targets(book):  # noqa: F811
    """Signed-revenue targets for September: the agency, North and Lan in both currencies, Minh in đồng only."""
    september = date(2026, 9, 1)
    KpiTargetFactory(scope="agency", user=None, value=vnd(2000), period_start=september)
    KpiTargetFactory(scope="agency", user=None, value=Decimal("40000"), currency="USD", period_start=september)
    KpiTargetFactory(scope="team", user=None, team=book.north, value=vnd(1000), period_start=september)
    KpiTargetFactory(user=book.lan, value=vnd(800), period_start=september)
    KpiTargetFactory(user=book.lan, value=Decimal("10000"), currency="USD", period_start=september)
    KpiTargetFactory(user=book.minh, value=vnd(300), period_start=september)
    KpiTargetFactory(user=book.minh, metric="win_rate", currency="", value=Decimal("50"), period_start=september)
    return september


@pytest.mark.parametrize("period_key", PERIODS)
def test_the_agency_board_gives_every_metric_of_every_scope_as_compute_does(book, targets, period_key):  # noqa: F811
    period = Period.parse(period_key)
    board = build_board(Scope.agency(), period)

    for metric in selectors.HEADLINE_METRICS:
        for name in SCOPES:
            scope = book.scope(name)
            if metric in (Metric.NET_REVENUE_RETENTION, Metric.GROSS_REVENUE_RETENTION) and name != "agency":
                continue  # retention is the board's base scope's only
            assert board.figure(metric, scope) == metrics.compute(metric, scope, period), (metric, name)


def test_the_trend_gives_each_of_the_twelve_periods_signed_revenue(book):  # noqa: F811
    period = Period.parse("2026-10")
    board = build_board(Scope.agency(), period, with_retention=False)

    assert [p.key for p in board.trend] == [f"{2025 + (m > 12)}-{(m - 1) % 12 + 1:02d}" for m in range(11, 23)]
    for name in SCOPES:
        scope = book.scope(name)
        expected = [metrics.signed_revenue(scope, month).amounts for month in period.last(12)]
        assert board.trend_amounts(scope) == expected, name
    # L3 at 23:30 on 30 September counts in September, M3 at 00:30 on 1 October in October.
    assert board.trend_amounts(book.scope("minh"))[-1] == {"VND": vnd(90)}


def test_quarterly_and_yearly_trends_use_quarters_and_years(book):  # noqa: F811
    for key in ("2026-Q3", "2026"):
        period = Period.parse(key)
        board = build_board(Scope.agency(), period, with_retention=False)
        expected = [metrics.signed_revenue(Scope.agency(), each).amounts for each in period.last(12)]
        assert board.trend_amounts(Scope.agency()) == expected


def test_a_team_board_gives_its_members_and_refuses_other_scopes(book):  # noqa: F811
    period = Period.parse("2026-09")
    north = book.scope("north")
    board = build_board(north, period)

    for metric in selectors.HEADLINE_METRICS:
        assert board.figure(metric, north) == metrics.compute(metric, north, period), metric
        if metric not in (Metric.NET_REVENUE_RETENTION, Metric.GROSS_REVENUE_RETENTION):
            for name in ("lan", "ha"):
                assert board.figure(metric, book.scope(name)) == metrics.compute(metric, book.scope(name), period)
    with pytest.raises(ValueError):
        board.figure(Metric.SIGNED_REVENUE, book.scope("minh"))
    with pytest.raises(ValueError):
        board.figure(Metric.SIGNED_REVENUE, Scope.agency())


def test_the_board_runs_the_same_number_of_queries_for_two_or_twenty_account_managers(
    book,  # noqa: F811
    django_assert_num_queries,
):
    period = Period.parse("2026-09")
    # users; the data's revision; signed (with the trend), lost, ending, pipeline, invoiced, payments, new
    # clients, receivables, revenue retention; costs, targets; on PostgreSQL, whether the pre-summed signed
    # months count in this time zone (kpis.ledger)
    queries = 13 + (connection.vendor == "postgresql")
    with django_assert_num_queries(queries):
        build_board(Scope.agency(), period)
    for n in range(18):
        am = UserFactory(role="account_manager", team=book.north)
        ContractFactory(client__owner=am, stage=Stage.NEGOTIATION, probability=40, value=vnd(n + 1))
    with django_assert_num_queries(queries):
        board = build_board(Scope.agency(), period)
    assert len(board.members.account_managers()) == 21


def test_cells_set_each_currency_against_its_target(book, targets):  # noqa: F811
    board = build_board(Scope.agency(), Period.parse("2026-09"), with_retention=False)

    lan = selectors.cells(board, Metric.SIGNED_REVENUE, book.scope("lan"))
    # The agency's currency (đồng) first.
    assert [(c.currency, c.actual, c.target, c.attainment, c.met) for c in lan] == [
        ("VND", vnd(870), vnd(800), Decimal("108.8"), True),
        ("USD", Decimal("12000"), Decimal("10000"), Decimal("120.0"), True),
    ]
    # Minh has a đồng target and signed dollars only: đồng shows 0 of the target.
    minh = selectors.cells(board, Metric.SIGNED_REVENUE, book.scope("minh"))
    assert [(c.currency, c.actual, c.target, c.attainment) for c in minh] == [
        ("VND", Decimal("0"), vnd(300), Decimal("0.0")),
        ("USD", Decimal("3000"), None, None),
    ]
    # A rate has one cell; Minh won 1 (M4) and lost none in September.
    [win] = selectors.cells(board, Metric.WIN_RATE, book.scope("minh"))
    assert (win.currency, win.actual, win.target, win.attainment, win.met) == ("", Decimal("100.0"), 50, 200, True)
    # Ha has no target: the figure stands alone.
    [ha] = selectors.cells(board, Metric.SIGNED_REVENUE, book.scope("ha"))
    assert (ha.actual, ha.target, ha.attainment, ha.met) == (vnd(50), None, None, None)


def test_converted_cells_add_the_currencies_at_the_months_rate(book, targets):  # noqa: F811
    ExchangeRateFactory(month=date(2026, 9, 1), vnd_per_usd=Decimal("25000"))
    board = build_board(Scope.agency(), Period.parse("2026-09"))
    converter = Converter.for_month("VND", date(2026, 9, 1))

    [lan] = selectors.cells(board, Metric.SIGNED_REVENUE, book.scope("lan"), converter)
    # 870M + 12,000 × 25,000 = 1,170M against 800M + 10,000 × 25,000 = 1,050M
    assert (lan.currency, lan.actual, lan.target, lan.attainment) == ("VND", vnd(1170), vnd(1050), Decimal("111.4"))
    # DSO converted is outstanding ÷ issued, both converted, not an average of the two currencies' DSO.
    dso = board.converted(Metric.DSO, Scope.agency(), converter)
    outstanding = board.figure(Metric.DSO, Scope.agency())
    assert dso not in outstanding.amounts.values()
    issued = metrics.invoices_issued(Scope.agency(), board.period)
    gross = sum(
        (i.gross_amount * (25000 if i.currency == "USD" else 1) for i in issued),
        Decimal("0"),
    )
    receivables = metrics.receivables_on(Scope.agency(), date(2026, 9, 30))
    owed = sum((i.owed * (25000 if i.currency == "USD" else 1) for i in receivables), Decimal("0"))
    assert dso == (owed / gross * 30).quantize(Decimal("0.1"))
    # Counts and rates are not money: the same with or without conversion.
    assert selectors.cells(board, Metric.WIN_RATE, Scope.agency(), converter) == selectors.cells(
        board, Metric.WIN_RATE, Scope.agency()
    )


def test_attainment_of_lower_is_better_metrics_is_target_over_actual():
    assert selectors.attainment(Decimal("60"), Decimal("45"), higher_is_better=False) == Decimal("75.0")
    assert selectors.attainment(Decimal("0"), Decimal("45"), higher_is_better=False) is None
    assert selectors.make_cell("", Decimal("0"), Decimal("45"), higher_is_better=False).met is True
    assert selectors.attainment(Decimal("5"), Decimal("0")) is None
    assert selectors.attainment(None, Decimal("10")) is None


def test_the_funnel_and_the_forecast_add_up_to_the_weighted_pipeline(book):  # noqa: F811
    today = timezone.localdate()
    lan = book.lan
    ContractFactory(client__owner=lan, stage="negotiation", probability=40, value=vnd(100), expected_close=today)
    ContractFactory(
        client__owner=lan, stage="draft", probability=10, value=vnd(10), expected_close=today - timedelta(days=40)
    )
    ContractFactory(client__owner=lan, stage="draft", probability=10, value=vnd(20), expected_close=None)
    ContractFactory(
        client__owner=lan, stage="draft", probability=10, value=vnd(30), expected_close=today + timedelta(days=400)
    )
    for name in SCOPES:
        scope = book.scope(name)
        weighted = metrics.pipeline_weighted(scope).amounts
        stages = selectors.funnel(scope)
        assert [stage["stage"] for stage in stages] == ["draft", "negotiation", "awaiting_signature"]
        assert sum(stage["count"] for stage in stages) == metrics.open_pipeline(scope).count()
        by_currency = {}
        for bucket in selectors.forecast(scope):
            for currency, amount in bucket.weighted.items():
                by_currency[currency] = by_currency.get(currency, 0) + amount
            records = selectors.forecast_records(scope, bucket.key)
            assert records.count() == bucket.count, (name, bucket.key)
        assert by_currency == weighted, name


def test_idle_deals_are_those_untouched_longer_than_their_stage_allows(book, settings):  # noqa: F811
    settings.ACCORD_PIPELINE_IDLE_DAYS = {"draft": 10, "negotiation": 30, "awaiting_signature": 5}
    now = timezone.now()
    lan = book.lan
    stale_draft = ContractFactory(client__owner=lan, stage="draft", stage_changed_at=now - timedelta(days=11))
    ContractFactory(client__owner=lan, stage="negotiation", stage_changed_at=now - timedelta(days=29))
    stale_negotiation = ContractFactory(
        client__owner=lan, stage="negotiation", stage_changed_at=now - timedelta(days=31)
    )
    ActiveContractFactory(client__owner=lan, stage_changed_at=now - timedelta(days=300))

    deals, total = selectors.idle_deals(Scope.of_user(lan), now=now)

    assert (deals, total) == ([stale_negotiation, stale_draft], 2)


def test_win_loss_is_the_win_rate_of_the_metric(book):  # noqa: F811
    for name in SCOPES:
        for key in PERIODS:
            period = Period.parse(key)
            result = selectors.win_loss(book.scope(name), period)
            assert result["rate"] == metrics.win_rate(book.scope(name), period).value


def test_a_new_client_counts_once_for_the_owner_of_its_first_contract_even_on_a_tie(book):  # noqa: F811
    period = Period.parse("2026-10")
    client = ClientFactory(owner=book.lan)
    moment = period.starts_at + timedelta(days=3)
    first = ActiveContractFactory(client=client, owner=book.ha, signed_at=moment)
    ActiveContractFactory(client=client, owner=book.minh, signed_at=moment)  # same moment, higher id
    board = build_board(Scope.agency(), period, with_retention=False)

    for name in SCOPES:
        scope = book.scope(name)
        assert board.figure(Metric.NEW_CLIENTS, scope) == metrics.new_clients(scope, period), name
    assert board.figure(Metric.NEW_CLIENTS, book.scope("ha")).value == 1
    assert list(metrics.new_client_records(book.scope("ha"), period)) == [client]
    assert first.owner == book.ha


def test_a_board_comes_from_the_cache_until_a_contract_or_an_invoice_changes(
    book,  # noqa: F811
    django_assert_num_queries,
):
    from contracts.billing.services import payment_record
    from contracts.models import Contract

    period, agency = Period.parse("2026-09"), Scope.agency()
    first = build_board(agency, period)
    # users, the data's revision, costs, targets: the grouped facts are the cached ones
    with django_assert_num_queries(4):
        cached = build_board(agency, period)
    assert cached.figure(Metric.SIGNED_REVENUE, agency) == first.figure(Metric.SIGNED_REVENUE, agency)

    # A contract's change (every contract service stamps updated_at) is seen on the next read.
    signed = metrics.signed_contracts(agency, period).filter(currency="VND").first()
    Contract.objects.filter(pk=signed.pk).update(value=signed.value + vnd(1000), updated_at=timezone.now())
    board = build_board(agency, period)
    assert board.figure(Metric.SIGNED_REVENUE, agency) == metrics.compute(Metric.SIGNED_REVENUE, agency, period)
    assert board.figure(Metric.SIGNED_REVENUE, agency).amounts["VND"] == (
        first.figure(Metric.SIGNED_REVENUE, agency).amounts["VND"] + vnd(1000)
    )

    # So is a payment recorded by the billing service (its invoice changes with it).
    invoice = book.invoices["I1"]
    finance = UserFactory(role="finance")
    payment_record(invoice=invoice, actor=finance, amount=vnd(6), received_on=date(2026, 9, 30))
    board = build_board(agency, period)
    assert board.figure(Metric.CASH_COLLECTED, agency) == metrics.compute(Metric.CASH_COLLECTED, agency, period)
    assert board.figure(Metric.CASH_COLLECTED, agency).amounts["VND"] == (
        first.figure(Metric.CASH_COLLECTED, agency).amounts["VND"] + vnd(6)
    )
    assert board.figure(Metric.DSO, agency) == metrics.compute(Metric.DSO, agency, period)
