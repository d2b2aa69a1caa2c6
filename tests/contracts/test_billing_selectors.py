"""Billing reads: who sees which invoice, totals per currency, aging buckets, statements of account and the
client payment rating. Each is one SQL query (statements three), whatever the number of rows."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts.models import Role
from clients.models import Client
from contracts.billing import selectors, services
from contracts.billing.selectors import (
    BUCKET_KEYS,
    aging,
    aging_totals,
    bucket_filter,
    bucket_of,
    client_payment_rating,
    client_statement,
    rating_for,
    statement_currencies,
    totals_by_currency,
    with_payment_delay,
)
from contracts.models import Invoice, Payment
from tests.factories import (
    ActiveContractFactory,
    ClientFactory,
    InvoiceFactory,
    PaymentFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = date(2026, 11, 26)


def invoice_for(client: Client, gross: str = "1100000", currency: str = "VND", **fields) -> Invoice:
    """An invoice of ``client`` with 10 % VAT whose gross is ``gross``."""
    gross = D(gross)
    net = (gross / D("1.1")).quantize(D("0.01"))
    contract = fields.pop("contract", None) or ActiveContractFactory(client=client, currency=currency)
    return InvoiceFactory(contract=contract, net_amount=net, vat_amount=gross - net, gross_amount=gross, **fields)


def overdue_by(client: Client, days: int, gross: str = "1100000", **fields) -> Invoice:
    return invoice_for(
        client, gross, issue_date=TODAY - timedelta(days=days + 30), due_date=TODAY - timedelta(days=days), **fields
    )


# --- Who sees which invoice ---------------------------------------------------------------------------------------


def test_each_role_sees_the_invoices_of_the_clients_it_may_open(am, teammate, stranger, sales, finance, director):
    own = invoice_for(ClientFactory(owner=am))
    teams = invoice_for(ClientFactory(owner=teammate))
    others = invoice_for(ClientFactory(owner=stranger))

    def seen_by(user):
        return set(selectors.invoice_list(user=user))

    assert seen_by(am) == seen_by(teammate) == {own, teams}
    assert seen_by(stranger) == {others}
    assert seen_by(finance) == seen_by(director) == {own, teams, others}
    assert seen_by(sales) == set()


def test_a_contract_owner_sees_its_invoices_even_for_a_client_of_another_team(am, stranger):
    contract = ActiveContractFactory(client=ClientFactory(owner=stranger), owner=am)
    invoice = invoice_for(contract.client, contract=contract)

    assert list(selectors.invoice_list(user=am)) == [invoice]


def test_finance_and_directors_read_payments_without_an_invoice_subquery(am, stranger, finance, director):
    own, others = (
        PaymentFactory(invoice=invoice_for(ClientFactory(owner=am))),
        PaymentFactory(invoice=invoice_for(ClientFactory(owner=stranger))),
    )

    for user in (finance, director):
        payments = Payment.objects.visible_to(user)
        assert set(payments) == {own, others}
        assert "contracts_invoice" not in str(payments.query)  # the plain table, not IN (SELECT … 300k invoices)
    assert set(Payment.objects.visible_to(am)) == {own}
    finance.is_active = False
    assert not Payment.objects.visible_to(finance).exists()


def test_a_cached_total_follows_any_change_of_an_invoice(finance, django_assert_num_queries):
    invoice = invoice_for(ClientFactory(), "1100000")
    invoices = selectors.invoice_list(user=finance)
    assert selectors.cached_totals_by_currency(invoices)[0]["gross"] == D("1100000")

    with django_assert_num_queries(1):  # the revision only: the sums come from the cache
        assert selectors.cached_totals_by_currency(invoices)[0]["count"] == 1
    invoice_for(invoice.client, "2200000")  # saved by a factory, behind the services' back
    assert selectors.cached_totals_by_currency(invoices)[0]["gross"] == D("3300000")
    services.invoice_void(invoice=invoice, actor=finance, reason="Typo")
    assert selectors.cached_totals_by_currency(invoices)[0]["outstanding"] == D("2200000")


def test_totals_are_per_currency_and_only_open_invoices_are_outstanding():
    client = ClientFactory()
    invoice_for(client, "1100000")
    invoice_for(client, "2200000", status="partially_paid", paid_amount=D("200000"))
    invoice_for(client, "3300000", status="paid", paid_amount=D("3300000"))
    invoice_for(client, "4400000", status="written_off", paid_amount=D("400000"))
    invoice_for(client, "110.55", currency="USD")

    totals = totals_by_currency(Invoice.objects.all())

    assert totals == [
        {"currency": "USD", "count": 1, "gross": D("110.55"), "paid": D("0"), "outstanding": D("110.55")},
        {
            "currency": "VND",
            "count": 4,
            "gross": D("11000000"),
            "paid": D("3900000"),
            "outstanding": D("3100000"),
        },
    ]


# --- Aging ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_past_due", "bucket"),
    [
        (-5, "current"),
        (0, "current"),
        (1, "d1_30"),
        (30, "d1_30"),
        (31, "d31_60"),
        (60, "d31_60"),
        (61, "d61_90"),
        (90, "d61_90"),
        (91, "d90_plus"),
        (400, "d90_plus"),
    ],
)
def test_an_invoice_falls_in_its_aging_bucket_by_days_past_due(days_past_due, bucket):
    client = ClientFactory()
    overdue_by(client, days_past_due, "1100000")

    (row,) = aging(Invoice.objects.all(), by="client", today=TODAY)

    assert bucket_of(days_past_due) == bucket
    assert {key: row[key] for key in BUCKET_KEYS} == {
        key: D("1100000") if key == bucket else D("0") for key in BUCKET_KEYS
    }
    assert list(Invoice.objects.filter(bucket_filter(bucket, TODAY))) == list(Invoice.objects.all())


def test_the_database_buckets_agree_with_the_rule_every_day_for_four_months():
    client = ClientFactory()
    invoices = {days: overdue_by(client, days) for days in range(-3, 125)}

    for bucket in BUCKET_KEYS:
        in_bucket = set(Invoice.objects.filter(bucket_filter(bucket, TODAY)).values_list("pk", flat=True))
        assert in_bucket == {invoice.pk for days, invoice in invoices.items() if bucket_of(days) == bucket}


def test_aging_counts_what_is_still_owed_on_open_invoices_only():
    client = ClientFactory()
    overdue_by(client, 10, "1100000", status="partially_paid", paid_amount=D("300000"))
    overdue_by(client, 10, "2200000")
    overdue_by(client, 10, "5500000", status="draft", number=None)
    for status, paid in (("paid", "5500000"), ("void", "0"), ("written_off", "0")):
        overdue_by(client, 10, "5500000", status=status, paid_amount=D(paid))

    (row,) = aging(Invoice.objects.all(), by="client", today=TODAY)

    assert (row["d1_30"], row["total"], row["invoices"]) == (D("3000000"), D("3000000"), 2)


@pytest.fixture
def receivables(am, stranger):
    """Two clients of two account managers in two teams, one of them also billed in USD; one client without team."""
    hoa_sen = ClientFactory(owner=am, name="Hoa Sen")
    bien_xanh = ClientFactory(owner=stranger, name="Biển Xanh")
    no_team = ClientFactory(owner=UserFactory(team=None, full_name="Minh Trần"), name="Lẻ", team=None)
    overdue_by(hoa_sen, 0, "1100000")
    overdue_by(hoa_sen, 45, "2200000")
    overdue_by(bien_xanh, 95, "5500000")
    overdue_by(bien_xanh, 15, "110.00", contract=ActiveContractFactory(client=bien_xanh, currency="USD"))
    overdue_by(no_team, 70, "330000")
    return {"hoa_sen": hoa_sen, "bien_xanh": bien_xanh, "no_team": no_team}


def amounts(row) -> tuple:
    return (
        row["key"],
        row["label"],
        row["currency"],
        *(row[key] for key in BUCKET_KEYS),
        row["total"],
        row["invoices"],
    )


def test_aging_by_client(receivables):
    hoa_sen, bien_xanh, no_team = receivables["hoa_sen"], receivables["bien_xanh"], receivables["no_team"]

    rows = [amounts(row) for row in aging(Invoice.objects.all(), by="client", today=TODAY)]

    assert rows == [
        (bien_xanh.pk, "Biển Xanh", "VND", 0, 0, 0, 0, D("5500000"), D("5500000"), 1),
        (hoa_sen.pk, "Hoa Sen", "VND", D("1100000"), 0, D("2200000"), 0, 0, D("3300000"), 2),
        (no_team.pk, "Lẻ", "VND", 0, 0, 0, D("330000"), 0, D("330000"), 1),
        (bien_xanh.pk, "Biển Xanh", "USD", 0, D("110.00"), 0, 0, 0, D("110.00"), 1),
    ]


def test_aging_by_account_manager(receivables, am, stranger):
    rows = [amounts(row)[:3] + amounts(row)[-2:] for row in aging(Invoice.objects.all(), by="owner", today=TODAY)]

    assert rows == [
        (stranger.pk, stranger.full_name, "VND", D("5500000"), 1),
        (am.pk, "Lan Nguyễn", "VND", D("3300000"), 2),
        (receivables["no_team"].owner_id, "Minh Trần", "VND", D("330000"), 1),
        (stranger.pk, stranger.full_name, "USD", D("110.00"), 1),
    ]


def test_aging_by_team_keeps_clients_without_a_team_apart(receivables, am, stranger):
    rows = [amounts(row)[:3] + amounts(row)[-2:] for row in aging(Invoice.objects.all(), by="team", today=TODAY)]

    assert rows == [
        (stranger.team_id, "Sài Gòn", "VND", D("5500000"), 1),
        (am.team_id, "Hà Nội", "VND", D("3300000"), 2),
        (None, "", "VND", D("330000"), 1),
        (stranger.team_id, "Sài Gòn", "USD", D("110.00"), 1),
    ]


def test_aging_by_currency_is_the_total_line(receivables):
    rows = [amounts(row) for row in aging_totals(Invoice.objects.all(), today=TODAY)]

    assert rows == [
        ("VND", "VND", "VND", D("1100000"), 0, D("2200000"), D("330000"), D("5500000"), D("9130000"), 4),
        ("USD", "USD", "USD", 0, D("110.00"), 0, 0, 0, D("110.00"), 1),
    ]


def test_aging_by_something_else_is_refused():
    with pytest.raises(ValueError, match="aging by 'industry'"):
        aging(Invoice.objects.all(), by="industry")


@pytest.mark.parametrize("by", ["client", "owner", "team", "currency"])
@pytest.mark.parametrize("count", [2, 20])
def test_aging_is_one_query_for_2_or_20_invoices(django_assert_num_queries, by, count):
    finance = UserFactory(role=Role.FINANCE)
    for index in range(count):
        overdue_by(ClientFactory(owner=UserFactory(team=TeamFactory())), index * 7)

    with django_assert_num_queries(1):
        rows = aging(selectors.invoice_list(user=finance), by=by, today=TODAY)

    assert sum(row["invoices"] for row in rows) == count


# --- Statements of account ------------------------------------------------------------------------------------------

OCTOBER = {"start": date(2026, 10, 1), "end": date(2026, 10, 31)}


@pytest.fixture
def account():
    """A client's VND account through October 2026 (amounts are gross):

    A 1,100,000 issued 1 Sep, due 1 Oct: paid 400,000 on 20 Sep, 300,000 on 1 Oct, 400,000 on 5 Nov.
    B 2,200,000 issued 15 Sep: paid 200,000 on 25 Sep, the rest written off on 30 Sep.
    C 3,300,000 issued 5 Oct, due 20 Oct: written off on 25 Oct, nothing paid.
    D   550,000 issued 15 Oct, due 14 Nov: paid 50,000 on 31 Oct.
    E 1,100,000 issued 2 Nov. And nothing from a void invoice, a draft, a USD invoice or another client.
    """
    client = ClientFactory(name="Công ty TNHH Ánh Dương")
    contract = ActiveContractFactory(client=client)

    def invoice(gross, issued_on, due_on, **fields):
        return invoice_for(client, gross, contract=contract, issue_date=issued_on, due_date=due_on, **fields)

    a = invoice("1100000", date(2026, 9, 1), date(2026, 10, 1), status="paid", paid_amount=D("1100000"))
    b = invoice("2200000", date(2026, 9, 15), date(2026, 10, 15), status="written_off", paid_amount=D("200000"))
    Invoice.objects.filter(pk=b.pk).update(closed_on=date(2026, 9, 30))
    c = invoice("3300000", date(2026, 10, 5), date(2026, 10, 20), status="written_off")
    Invoice.objects.filter(pk=c.pk).update(closed_on=date(2026, 10, 25))
    d = invoice("550000", date(2026, 10, 15), date(2026, 11, 14), status="partially_paid", paid_amount=D("50000"))
    invoice("1100000", date(2026, 11, 2), date(2026, 12, 2))
    invoice("9900000", date(2026, 10, 3), date(2026, 11, 2), status="void")
    invoice("9900000", date(2026, 10, 3), date(2026, 11, 2), status="draft", number=None)
    invoice_for(client, "990.00", currency="USD", issue_date=date(2026, 10, 3), due_date=date(2026, 10, 4))
    invoice_for(ClientFactory(), "9900000", issue_date=date(2026, 10, 3), due_date=date(2026, 10, 4))
    for paid, amount, received_on in (
        (a, "400000", date(2026, 9, 20)),
        (a, "300000", date(2026, 10, 1)),
        (a, "400000", date(2026, 11, 5)),
        (b, "200000", date(2026, 9, 25)),
        (d, "50000", date(2026, 10, 31)),
    ):
        PaymentFactory(invoice=paid, amount=D(amount), received_on=received_on, reference=f"UNC {received_on:%d%m}")
    return {"client": client, "a": a, "c": c, "d": d}


def test_the_opening_balance_counts_invoices_payments_and_write_offs_before_the_period(account):
    statement = client_statement(client=account["client"], currency="VND", **OCTOBER)

    # A 1,100,000 − 400,000 paid, B 2,200,000 − 200,000 paid − 2,000,000 written off
    assert statement.opening_balance == D("700000")


def test_the_lines_run_from_the_opening_to_the_closing_balance(account):
    statement = client_statement(client=account["client"], currency="VND", **OCTOBER)

    assert [(line.day, line.kind, line.debit, line.credit, line.balance) for line in statement.lines] == [
        (date(2026, 10, 1), "payment", 0, D("300000"), D("400000")),
        (date(2026, 10, 5), "invoice", D("3300000"), 0, D("3700000")),
        (date(2026, 10, 15), "invoice", D("550000"), 0, D("4250000")),
        (date(2026, 10, 25), "write_off", 0, D("3300000"), D("950000")),
        (date(2026, 10, 31), "payment", 0, D("50000"), D("900000")),
    ]
    assert statement.closing_balance == D("900000")
    assert [line.invoice_id for line in statement.lines] == [account[name].pk for name in ("a", "c", "d", "c", "d")]


def test_statement_lines_name_the_invoice_and_the_payment_reference(account):
    statement = client_statement(client=account["client"], currency="VND", **OCTOBER)

    payment, invoice = statement.lines[0], statement.lines[1]
    assert (payment.reference, payment.description) == ("UNC 0110", f"Payment for {account['a'].number}")
    assert (invoice.reference, invoice.description, invoice.due_date) == (
        account["c"].number,
        account["c"].description,
        date(2026, 10, 20),
    )


def test_what_is_overdue_on_the_end_ignores_payments_received_after_it(account):
    statement = client_statement(client=account["client"], currency="VND", **OCTOBER)

    # A was owed 400,000 on 31 October (paid on 5 November); C was written off; D is not due yet
    assert statement.overdue == D("400000")


def test_the_next_period_opens_where_the_last_one_closed(account):
    october = client_statement(client=account["client"], currency="VND", **OCTOBER)
    november = client_statement(client=account["client"], currency="VND", start=date(2026, 11, 1), end=TODAY)

    assert november.opening_balance == october.closing_balance
    assert november.closing_balance == D("900000") - D("400000") + D("1100000")
    assert november.overdue == D("500000")  # D, due on 14 November


def test_the_statement_in_another_currency_has_only_its_invoices(account):
    statement = client_statement(client=account["client"], currency="USD", **OCTOBER)

    assert (statement.opening_balance, statement.closing_balance, statement.overdue) == (0, D("990.00"), D("990.00"))
    assert statement_currencies(account["client"]) == ["USD", "VND"]


@pytest.mark.parametrize("count", [2, 20])
def test_a_statement_is_three_queries_whatever_its_size(django_assert_num_queries, count):
    client = ClientFactory()
    contract = ActiveContractFactory(client=client)
    for index in range(count):
        invoice = invoice_for(
            client, contract=contract, issue_date=date(2026, 9, 20 + index % 10), due_date=date(2026, 10, 20)
        )
        PaymentFactory(invoice=invoice, amount=D("100000"), received_on=date(2026, 9, 30))
        PaymentFactory(invoice=invoice, amount=D("100000"), received_on=date(2026, 10, 2))

    # the opening and overdue figures, the invoices, the payments
    with django_assert_num_queries(3):
        statement = client_statement(client=client, currency="VND", **OCTOBER)

    assert len(statement.lines) == count
    assert statement.closing_balance == count * D("900000")


# --- Payment rating -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_late", "rating"),
    [(-10, "A"), (0, "A"), (30, "A"), (31, "B"), (60, "B"), (61, "C"), (90, "C"), (91, "D"), (200, "D")],
)
def test_the_rating_follows_how_late_the_client_paid(days_late, rating):
    client = ClientFactory()
    due = date(2026, 6, 1)
    invoice_for(
        client,
        issue_date=due - timedelta(days=30),
        due_date=due,
        status="paid",
        paid_amount=D("1100000"),
        paid_on=due + timedelta(days=days_late),
    )

    assert client_payment_rating(client, TODAY) == (rating, timedelta(days=max(days_late, 0)))


def test_an_open_invoice_past_due_counts_with_its_delay_so_far_and_one_not_due_does_not():
    client = ClientFactory()
    overdue_by(client, 45)
    overdue_by(client, -10)

    assert client_payment_rating(client, TODAY) == ("B", timedelta(days=45))


def test_the_rating_averages_the_delays():
    client = ClientFactory()
    for days_late in (20, 41):
        invoice_for(
            client,
            issue_date=date(2026, 5, 1),
            due_date=date(2026, 6, 1),
            status="paid",
            paid_amount=D("1100000"),
            paid_on=date(2026, 6, 1) + timedelta(days=days_late),
        )

    rating, delay = client_payment_rating(client, TODAY)

    assert (rating, delay) == ("B", timedelta(days=30, hours=12))


def test_a_client_without_paid_or_overdue_invoices_has_no_rating():
    client = ClientFactory()
    overdue_by(client, -3)
    overdue_by(client, 50, status="void")

    assert client_payment_rating(client, TODAY) == (None, None)
    assert rating_for(None) is None


def test_delays_are_annotated_for_many_clients_in_one_query(django_assert_num_queries):
    late, on_time, new = ClientFactory(), ClientFactory(), ClientFactory()
    overdue_by(late, 100)
    invoice_for(on_time, status="paid", paid_amount=D("1100000"), paid_on=TODAY - timedelta(days=30))

    with django_assert_num_queries(1):
        delays = dict(with_payment_delay(Client.objects.all(), TODAY).values_list("pk", "average_payment_delay"))

    assert {pk: rating_for(delay) for pk, delay in delays.items()} == {late.pk: "D", on_time.pk: "A", new.pk: None}
