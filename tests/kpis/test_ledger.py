"""The KPIs' pre-summed invoices and payments (kpis/ledger.py): PostgreSQL's triggers keep them equal to the
invoices and payments through every kind of write, and every figure read from them equals the same figure added
up from the records, for every scope and for months, quarters and years."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from contracts.billing import services
from contracts.models import Contract, Invoice, Stage
from kpis import ledger, metrics
from kpis.metrics import METRICS, Scope
from kpis.models import BillingMonth, ClientRevenue, LedgerZone, Metric
from kpis.periods import Period
from kpis.selectors import build_board
from tests.conftest import require
from tests.factories import ActiveContractFactory, ClientFactory, TeamFactory, UserFactory

D = Decimal
# The figures the ledger gives: each must equal the one added up from the invoices and payments.
LEDGER_METRICS = (
    Metric.INVOICED_REVENUE,
    Metric.CASH_COLLECTED,
    Metric.GROSS_MARGIN,
    Metric.OVERDUE_RECEIVABLES,
    Metric.DSO,
    Metric.NET_REVENUE_RETENTION,
    Metric.GROSS_REVENUE_RETENTION,
)


@pytest.fixture(autouse=True)
def _postgresql(db):
    require(connection.vendor == "postgresql", "the KPI ledger is kept by PostgreSQL triggers")
    ledger.rebuild()  # a transactional test run before on this database emptied every table, the zone's too


def months_ago(months: int, day: int = 1) -> date:
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, day)


@pytest.fixture
def book(db):
    """Two teams, three account managers, finance and a director; a contract each (one in dollars), and one owned
    by someone other than its client's owner."""
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    people = {
        "an": UserFactory(team=north),
        "binh": UserFactory(team=north),
        "chi": UserFactory(team=south),
        "finance": UserFactory(role=Role.FINANCE),
        "director": UserFactory(role=Role.DIRECTOR),
    }
    contracts = {}
    for name in ("an", "binh", "chi"):
        client = ClientFactory(owner=people[name], team=people[name].team)
        contracts[name] = ActiveContractFactory(client=client, owner=people[name], payment_terms_days=30)
    contracts["chi_usd"] = ActiveContractFactory(
        client=contracts["chi"].client, owner=people["chi"], currency="USD", payment_terms_days=15
    )
    contracts["an_on_binh"] = ActiveContractFactory(client=contracts["binh"].client, owner=people["an"])
    return {"people": people, "contracts": contracts, "north": north, "south": south}


def issue(book, name: str, net: str, issued: date, due_in: int = 30) -> Invoice:
    return services.invoice_create(
        contract=book["contracts"][name],
        actor=book["people"]["finance"],
        description="Retainer",
        net_amount=D(net),
        issue_date=issued,
        due_date=issued + timedelta(days=due_in),
        issue=True,
    )


def pay(book, invoice: Invoice, amount: str, received: date) -> None:
    services.payment_record(
        invoice=Invoice.objects.get(pk=invoice.pk),
        actor=book["people"]["finance"],
        amount=D(amount),
        received_on=received,
    )


def scopes(book) -> list[Scope]:
    people = book["people"]
    return [
        Scope.agency(),
        Scope.of_team(book["north"]),
        Scope.of_user(people["an"]),
    ]


def periods() -> list[Period]:
    today = timezone.localdate()
    months = [Period.containing("month", months_ago(back)) for back in (0, 1, 13)]
    return [*months, Period.containing("quarter", today), Period.containing("year", today), Period.parse("2025")]


def assert_in_step(book, monkeypatch) -> None:
    """The rows equal what the records give, and so does every figure read from them."""
    assert ledger.differences() == (0, [])
    for scope in scopes(book):
        for period in periods():
            from_ledger = [METRICS[metric].compute(scope, period) for metric in LEDGER_METRICS]
            with monkeypatch.context() as patch:
                patch.setattr(ledger, "kept", lambda: False)
                added_up = [METRICS[metric].compute(scope, period) for metric in LEDGER_METRICS]
            assert from_ledger == added_up, (scope.label, period.key)


def test_the_ledger_follows_every_kind_of_write(book, monkeypatch):
    people, contracts = book["people"], book["contracts"]
    finance = people["finance"]
    today = timezone.localdate()

    # Last year's revenue (retention's earlier 12 months), paid late, early and in instalments across months.
    old = issue(book, "an", "100000000", months_ago(14, 10))
    pay(book, old, "60000000", months_ago(13, 5))
    pay(book, old, "50000000", months_ago(11, 28))
    older = issue(book, "binh", "80000000", months_ago(18, 3), due_in=45)
    pay(book, older, "88000000", months_ago(16, 20))
    dollars = issue(book, "chi_usd", "1234.56", months_ago(11, 1) - timedelta(days=1))  # a month's last day
    assert_in_step(book, monkeypatch)

    # This year: open, partly paid, overdue, due on a month's last day, paid in full.
    recent = issue(book, "an", "120000000", months_ago(2, 15))
    pay(book, recent, "20000000", months_ago(1, 2))
    month_end = months_ago(1, 1) - timedelta(days=1)
    due_at_month_end = issue(book, "binh", "50000000", month_end - timedelta(days=30))
    issue(book, "an_on_binh", "70000000", months_ago(1, 20), due_in=10)
    usd = issue(book, "chi_usd", "999.99", months_ago(0, 1), due_in=0)
    pay(book, usd, "1099.99", today)
    pay(book, dollars, "500", months_ago(2, 9))
    assert Invoice.objects.get(pk=usd.pk).status == "paid"
    assert Invoice.objects.get(pk=due_at_month_end.pk).due_date == month_end
    assert_in_step(book, monkeypatch)

    # A void, a write-off of a partly paid invoice, and a draft created, edited, issued; another deleted.
    services.invoice_void(invoice=due_at_month_end, actor=finance, reason="Issued twice")
    request = services.write_off_request(invoice=Invoice.objects.get(pk=recent.pk), actor=finance, reason="Bankrupt")
    services.write_off_decide(request=request, actor=people["director"], approve=True)
    assert Invoice.objects.get(pk=recent.pk).status == "written_off"
    assert_in_step(book, monkeypatch)
    draft = services.invoice_create(
        contract=contracts["chi"], actor=finance, description="Media", net_amount=D("2000000"), issue_date=today
    )
    assert_in_step(book, monkeypatch)
    services.invoice_update(invoice=draft, actor=finance, net_amount=D("3000000"), issue_date=months_ago(1, 3))
    services.invoice_issue(invoice=Invoice.objects.get(pk=draft.pk), actor=finance)
    assert_in_step(book, monkeypatch)
    gone = services.invoice_create(
        contract=contracts["chi"], actor=finance, description="Print", net_amount=D("1000000"), issue_date=today
    )
    services.invoice_delete_draft(invoice=gone, actor=finance)
    assert_in_step(book, monkeypatch)

    # Writes around the services: a contract handed to another owner, bulk updates, a payment and a void invoice
    # deleted.
    Contract.objects.filter(pk=contracts["an_on_binh"].pk).update(owner=people["chi"])
    assert_in_step(book, monkeypatch)
    Invoice.objects.filter(status="issued").update(due_date=today + timedelta(days=60))
    Invoice.objects.filter(pk=older.pk).update(issue_date=months_ago(17, 9))
    assert_in_step(book, monkeypatch)
    # A payment taken back by hand, its invoice corrected with it (the records' figures read ``paid_amount``).
    Invoice.objects.get(pk=old.pk).payments.order_by("pk").first().delete()
    Invoice.objects.filter(pk=old.pk).update(paid_amount=D("50000000"), status="partially_paid", paid_on=None)
    Invoice.objects.filter(status="void").delete()
    assert_in_step(book, monkeypatch)
    assert BillingMonth.objects.exists() and ClientRevenue.objects.exists()
    assert not ClientRevenue.objects.filter(net_12_months=0).exists()  # emptied sums leave no row behind


def test_the_board_reads_the_same_figures_from_the_ledger(book, monkeypatch):
    issue(book, "an", "100000000", months_ago(13, 10))
    paid = issue(book, "binh", "40000000", months_ago(1, 10))
    pay(book, paid, "10000000", months_ago(0, 1))
    period = Period.containing("month", months_ago(0))

    board = build_board(Scope.agency(), period)
    with monkeypatch.context() as patch:
        patch.setattr(ledger, "kept", lambda: False)
        added_up = build_board(Scope.agency(), period)

    for metric in LEDGER_METRICS:
        for scope in scopes(book):
            if metric in (Metric.NET_REVENUE_RETENTION, Metric.GROSS_REVENUE_RETENTION) and scope != Scope.agency():
                continue  # the board computes retention for its own scope only
            assert board.figure(metric, scope) == added_up.figure(metric, scope), (metric, scope.label)
    assert board.figure(Metric.CASH_COLLECTED, Scope.agency()).amounts == {"VND": D("10000000")}


def test_a_period_that_is_not_whole_months_adds_up_the_records(book):
    issue(book, "an", "100000000", months_ago(1, 10))
    days = Period("month", months_ago(1, 5), months_ago(1, 20))

    assert metrics.billed_months(Scope.agency(), days) is None
    assert metrics.invoiced_revenue(Scope.agency(), days).amounts == {"VND": D("100000000")}
    assert metrics.invoiced_revenue(Scope.agency(), Period("month", months_ago(1, 11), months_ago(1, 20))).amounts == {}


@pytest.mark.parametrize("invoices", [2, 20])
def test_ledger_figures_take_as_many_queries_whatever_the_number_of_invoices(book, django_assert_num_queries, invoices):
    for index in range(invoices):
        issued = months_ago(index % 15, 1)
        invoice = issue(book, ("an", "binh", "chi_usd")[index % 3], "1000", issued)
        pay(book, invoice, "100", issued)
    scope, period = Scope.agency(), Period.containing("year", timezone.localdate())

    with django_assert_num_queries(1):  # the period's months, summed per currency
        metrics.invoiced_revenue(scope, period)
    with django_assert_num_queries(1):  # every month up to the period's end, summed per owner and currency
        metrics.owed_totals(scope, period.end)
    with django_assert_num_queries(1):  # two months of each client's 12-month revenue
        metrics.net_revenue_retention(scope, period)


def test_the_command_finds_and_repairs_a_difference(book, capsys):
    issue(book, "an", "100000000", months_ago(2, 10))
    call_command("rebuild_kpi_ledger", "--check")
    assert "agrees" in capsys.readouterr().out
    BillingMonth.objects.filter(pk=BillingMonth.objects.order_by("pk").first().pk).update(received=D("1"))

    with pytest.raises(CommandError, match="1 KPI ledger rows differ"):
        call_command("rebuild_kpi_ledger", "--check")

    call_command("rebuild_kpi_ledger")
    assert ledger.differences() == (0, [])
    assert "rebuilt" in capsys.readouterr().out


def signed_rows(board_period: Period, monkeypatch, *, from_months: bool) -> dict:
    """The board's signed facts (trend, deals won, upsells, days to close) read one way or the other."""
    with monkeypatch.context() as patch:
        patch.setattr(ledger, "signed_months_kept", lambda: from_months)
        board = build_board(Scope.agency(), board_period)
    return {"signed": board.signed, "won": board.won, "upsell": board.upsell, "to_close": board.to_close}


def test_the_signed_months_follow_every_write_to_a_contract(book, monkeypatch):
    people, contracts = book["people"], book["contracts"]
    assert ledger.signed_months_kept()
    upsell = ActiveContractFactory(client=contracts["an"].client, owner=people["an"], kind="upsell")
    late = ActiveContractFactory(client=contracts["chi"].client, owner=people["chi"])
    # The factories record contracts after their signature; two of them were recorded before, days to close apart.
    Contract.objects.filter(pk=upsell.pk).update(created_at=upsell.signed_at - timedelta(days=12, hours=5))
    Contract.objects.filter(pk=contracts["chi"].pk).update(created_at=contracts["chi"].signed_at - timedelta(days=3))
    Contract.objects.filter(pk=late.pk).update(created_at=late.signed_at + timedelta(days=3))
    assert ledger.differences() == (0, [])

    Contract.objects.filter(pk=upsell.pk).update(value=D("90000000"), kind="new_business")
    Contract.objects.filter(pk=contracts["binh"].pk).update(owner=people["chi"], signed_at=timezone.now())
    Contract.objects.filter(pk=contracts["an_on_binh"].pk).update(signed_at=None, stage="draft")
    Contract.objects.filter(pk=late.pk).delete()
    ActiveContractFactory(client=contracts["binh"].client, owner=people["binh"], kind="upsell")
    ActiveContractFactory(client=contracts["binh"].client, owner=people["binh"], kind="upsell")
    assert ledger.differences() == (0, [])

    for kind in ("month", "quarter", "year"):
        period = Period.containing(kind, timezone.localdate())
        from_months = signed_rows(period, monkeypatch, from_months=True)
        assert from_months == signed_rows(period, monkeypatch, from_months=False), kind
        assert from_months["signed"]
    year = signed_rows(Period.containing("year", timezone.localdate()), monkeypatch, from_months=True)
    assert any(count for _, count in year["to_close"].values())  # the timed contracts were counted
    assert year["upsell"]
    assert all(isinstance(amount, Decimal) for amount in (*year["upsell"].values(), *year["signed"].values()))


def test_the_signed_months_are_not_read_in_another_time_zone_until_rebuilt(book, settings):
    settings.TIME_ZONE = "Asia/Tokyo"

    assert not ledger.signed_months_kept()  # months counted in Ho Chi Minh City time: the contracts are read

    call_command("rebuild_kpi_ledger")
    assert ledger.signed_months_kept()
    assert ledger.differences() == (0, [])


def test_without_the_zone_row_contracts_are_still_written_and_the_dashboards_read_them(book):
    LedgerZone.objects.all().delete()  # e.g. a test database emptied between tests

    contract = ActiveContractFactory(owner=book["people"]["an"])

    assert Contract.objects.filter(pk=contract.pk).exists()
    assert not ledger.signed_months_kept()
    call_command("rebuild_kpi_ledger")
    assert ledger.signed_months_kept() and ledger.differences() == (0, [])


def test_the_home_pages_four_figures_together_equal_each_metric_alone(book, django_assert_num_queries):
    """``metrics.month_at_a_glance``: signed revenue and the weighted pipeline in one query over the contracts,
    cash collected and overdue receivables in one over the pre-summed months, equal to each metric's function."""
    overdue = issue(book, "an", "100000000", months_ago(2, 10))
    pay(book, overdue, "30000000", months_ago(0, 1))
    issue(book, "chi_usd", "5000", months_ago(1, 3), due_in=15)
    paid = issue(book, "binh", "40000000", months_ago(0, 1))
    pay(book, paid, "40000000", months_ago(0, 2))
    deal = book["contracts"]["chi"]
    Contract.objects.filter(pk=deal.pk).update(stage=Stage.NEGOTIATION, probability=40)
    together = (Metric.SIGNED_REVENUE, Metric.PIPELINE_WEIGHTED, Metric.CASH_COLLECTED, Metric.OVERDUE_RECEIVABLES)
    for scope in scopes(book):
        for period in periods():
            assert ledger.covers(period.start, period.end)  # whole months: from the ledger
            with django_assert_num_queries(2):
                figures = metrics.month_at_a_glance(scope, period)
            alone = {metric: METRICS[metric].compute(scope, period) for metric in together}
            assert figures == alone, (scope.label, period.key)
    agency = metrics.month_at_a_glance(Scope.agency(), periods()[0])
    assert agency[Metric.CASH_COLLECTED].amounts == {"VND": D("70000000")}
    assert agency[Metric.OVERDUE_RECEIVABLES].amounts["USD"] > 0
