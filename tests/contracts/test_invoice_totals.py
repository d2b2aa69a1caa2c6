"""The pre-summed invoice totals (contracts/models/totals.py): PostgreSQL's triggers keep them equal to the
invoices through every kind of write, and the invoice list's totals read from them agree with adding up the
invoices, for every role and filter."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from accounts.models import Role
from contracts.billing import selectors, services
from contracts.billing import totals as summed
from contracts.billing.filters import InvoiceFilter
from contracts.billing.filters_api import InvoiceFilter as ApiInvoiceFilter
from contracts.models import Invoice, InvoiceTotal
from tests.conftest import require
from tests.factories import (
    ActiveContractFactory,
    ClientFactory,
    InvoiceFactory,
    TeamFactory,
    UserFactory,
)

D = Decimal
TODAY = date(2026, 11, 26)


@pytest.fixture(autouse=True)
def _postgresql():
    require(connection.vendor == "postgresql", "the pre-summed totals are kept by PostgreSQL triggers")


def assert_in_step() -> None:
    count, first = summed.differences()
    assert (count, first) == (0, [])


@pytest.fixture
def book(db):
    """Two teams, three account managers, sales, finance; invoices in both currencies, every status, due on
    either side of TODAY; one contract owned by someone other than its client's owner."""
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    people = {
        "an": UserFactory(team=north),
        "binh": UserFactory(team=north),
        "chi": UserFactory(team=south),
        "sales": UserFactory(role=Role.SALES, team=south),
        "finance": UserFactory(role=Role.FINANCE),
        "director": UserFactory(role=Role.DIRECTOR),
        "loner": UserFactory(team=None),
    }
    clients = {
        "an": ClientFactory(owner=people["an"], team=north),
        "binh": ClientFactory(owner=people["binh"], team=north),
        "chi": ClientFactory(owner=people["chi"], team=south),
        "sales": ClientFactory(owner=people["sales"], team=south),
        "teamless": ClientFactory(owner=people["loner"], team=None),
    }
    contracts = {name: ActiveContractFactory(client=client) for name, client in clients.items()}
    contracts["an_on_chi"] = ActiveContractFactory(client=clients["chi"], owner=people["an"], currency="USD")
    plans = [
        ("an", "issued", -40, D("0")),
        ("an", "partially_paid", -5, D("30000000")),
        ("an", "paid", -100, None),
        ("binh", "issued", 10, D("0")),
        ("binh", "issued", -95, D("0")),
        ("chi", "void", -20, D("0")),
        ("chi", "issued", -65, D("0")),
        ("sales", "issued", -2, D("0")),
        ("teamless", "partially_paid", -31, D("1000000")),
        ("an_on_chi", "issued", -12, D("0")),
        ("an_on_chi", "paid", -3, None),
    ]
    invoices = []
    for name, status, due_in, paid in plans:
        contract = contracts[name]
        net = D("1234.56") if contract.currency == "USD" else D("100000000")
        invoice = InvoiceFactory(
            contract=contract,
            status=status,
            net_amount=net,
            issue_date=TODAY + timedelta(days=due_in - 30),
            due_date=TODAY + timedelta(days=due_in),
            paid_amount=D("0"),
        )
        invoice.paid_amount = invoice.gross_amount if paid is None else paid
        invoice.save(update_fields=["paid_amount"])
        invoices.append(invoice)
    return {"people": people, "clients": clients, "contracts": contracts, "invoices": invoices}


def test_the_totals_follow_every_kind_of_write(book):
    people, clients, contracts, invoices = book["people"], book["clients"], book["contracts"], book["invoices"]
    finance = people["finance"]
    assert InvoiceTotal.objects.exists()
    assert_in_step()

    # Billing services: a draft created, issued, paid in part and in full; a void; a write-off; a new due date.
    draft = services.invoice_create(
        contract=contracts["binh"],
        actor=finance,
        description="Retainer",
        net_amount=D("5000000"),
        vat_rate=8,
        due_date=TODAY + timedelta(days=14),
        issue_date=TODAY,
    )
    assert_in_step()
    services.invoice_issue(invoice=draft, actor=finance)
    assert_in_step()
    services.payment_record(
        invoice=Invoice.objects.get(pk=draft.pk),
        actor=finance,
        amount=D("1000000"),
        received_on=TODAY,
        method="bank_transfer",
    )
    assert_in_step()
    services.payment_record(
        invoice=Invoice.objects.get(pk=draft.pk),
        actor=finance,
        amount=D("4400000"),
        received_on=TODAY,
        method="bank_transfer",
    )
    assert Invoice.objects.get(pk=draft.pk).status == "paid"
    assert_in_step()
    services.invoice_void(invoice=Invoice.objects.get(pk=invoices[0].pk), actor=finance, reason="Issued twice")
    assert_in_step()
    request = services.write_off_request(
        invoice=Invoice.objects.get(pk=invoices[4].pk), actor=finance, reason="The client went bankrupt"
    )
    services.write_off_decide(request=request, actor=people["director"], approve=True)
    assert_in_step()
    other = services.invoice_create(
        contract=contracts["chi"],
        actor=finance,
        description="Media",
        net_amount=D("2000000"),
        vat_rate=10,
        due_date=TODAY + timedelta(days=7),
        issue_date=TODAY,
    )
    services.invoice_update(invoice=other, actor=finance, due_date=TODAY + timedelta(days=21))
    assert_in_step()
    services.invoice_delete_draft(invoice=Invoice.objects.get(pk=other.pk), actor=finance)
    assert_in_step()

    # A client handed to another owner and team, a contract to another owner, a team deleted, a bulk update.
    client = clients["an"]
    client.owner, client.team = people["chi"], contracts["chi"].client.team
    client.save()
    assert_in_step()
    contract = contracts["an_on_chi"]
    contract.owner = people["binh"]
    contract.save()
    assert_in_step()
    clients["binh"].team.delete()
    assert_in_step()
    Invoice.objects.filter(status="issued").update(due_date=TODAY + timedelta(days=60))
    assert_in_step()
    Invoice.objects.filter(status="void").delete()
    assert_in_step()
    assert not InvoiceTotal.objects.filter(invoices=0).exists()  # emptied groups leave no row behind


FILTERS = [
    {},
    {"status": "open"},
    {"status": "paid"},
    {"status": "void"},
    {"overdue": "on"},
    {"bucket": "d1_30"},
    {"bucket": "d90_plus"},
    {"bucket": "current"},
    {"currency": "USD"},
    {"due_from": "2026-10-01", "due_to": "2026-11-20"},
    {"status": "open", "currency": "VND", "due_to": "2026-11-25"},
]


@pytest.mark.parametrize("who", ["an", "binh", "chi", "sales", "finance", "director", "loner"])
def test_totals_from_the_pre_summed_rows_equal_the_invoices_added_up(book, who):
    user = book["people"][who]
    extra = [
        {"owner": str(book["people"]["an"].pk)},
        {"team": str(book["clients"]["an"].team_id)},
        {"team": "none"},
    ]
    for data in FILTERS + extra:
        filterset = InvoiceFilter(data, queryset=selectors.invoice_list(user=user), today=TODAY)
        assert filterset.is_valid(), filterset.errors
        rows = summed.summed_rows(user, filterset.form.cleaned_data, today=TODAY)
        assert rows is not None, data
        expected = selectors.totals_by_currency(filterset.qs)
        assert summed.totals_by_currency(user, filterset.form.cleaned_data, filterset.qs, today=TODAY) == expected
        assert summed.count(user, filterset.form.cleaned_data, today=TODAY) == filterset.qs.count(), data


@pytest.mark.parametrize("who", ["an", "chi", "sales", "finance", "loner"])
def test_the_aging_from_the_pre_summed_rows_equals_the_invoices_aged(book, who):
    user = book["people"][who]

    aging = summed.aging_totals(user, today=TODAY)

    assert aging == selectors.aging_totals(selectors.invoice_list(user=user), today=TODAY)
    assert aging or who == "loner"


@pytest.mark.parametrize("overdue", ["1", "0"])
def test_the_api_overdue_filter_reads_the_same_totals(book, overdue):
    user = book["people"]["finance"]
    filterset = ApiInvoiceFilter({"overdue": overdue}, queryset=selectors.invoice_list(user=user), today=TODAY)
    assert filterset.is_valid(), filterset.errors

    figures = summed.totals_by_currency(user, filterset.form.cleaned_data, filterset.qs, today=TODAY)

    assert figures == selectors.totals_by_currency(filterset.qs)
    assert figures  # both sides have invoices in this book


@pytest.mark.parametrize(
    "data", [{"q": "Retainer"}, {"client": "1"}, {"contract": "1"}, {"disputed": "true"}, {"promise_due": "2026-11-26"}]
)
def test_filters_the_rows_do_not_keep_add_up_the_invoices(book, data):
    user = book["people"]["finance"]
    filterset = InvoiceFilter(data, queryset=selectors.invoice_list(user=user), today=TODAY)
    assert filterset.is_valid(), filterset.errors

    assert summed.summed_rows(user, filterset.form.cleaned_data, today=TODAY) is None
    assert summed.totals_by_currency(user, filterset.form.cleaned_data, filterset.qs, today=TODAY) == (
        selectors.totals_by_currency(filterset.qs)
    )


def test_an_inactive_or_anonymous_user_reads_no_totals(book):
    user = book["people"]["an"]
    user.is_active = False
    user.save()

    assert not summed.summed_rows(user, {}, today=TODAY).exists()


def test_the_command_finds_and_repairs_a_difference(book, capsys):
    call_command("rebuild_invoice_totals", "--check")
    assert "agree" in capsys.readouterr().out
    InvoiceTotal.objects.filter(pk=InvoiceTotal.objects.order_by("pk").first().pk).update(gross=D("1"))

    with pytest.raises(CommandError, match="1 invoice totals differ"):
        call_command("rebuild_invoice_totals", "--check")

    call_command("rebuild_invoice_totals")
    assert_in_step()
    assert "rebuilt" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_an_invoice_issued_while_its_client_changes_hands_lands_under_the_new_owner():
    """The invoice's trigger reads the client under a share lock: it waits for the reassignment to commit."""
    old, new = UserFactory(), UserFactory()
    contract = ActiveContractFactory(client=ClientFactory(owner=old))
    client = contract.client
    reassigning, inserted = threading.Event(), threading.Event()
    errors = []

    def reassign():
        try:
            with transaction.atomic():
                client.owner = new
                client.save(update_fields=["owner"])
                reassigning.set()
                inserted.wait(timeout=1)  # the insert is blocked on the client's row lock meanwhile
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=reassign)
    thread.start()
    assert reassigning.wait(timeout=10)

    def insert():
        try:
            InvoiceFactory(contract=contract)
        finally:
            inserted.set()
            connection.close()

    inserter = threading.Thread(target=insert)
    inserter.start()
    inserter.join(timeout=20)
    thread.join(timeout=20)

    assert errors == []
    assert_in_step()
    assert InvoiceTotal.objects.get(client_owner=new).invoices == 1
    assert not InvoiceTotal.objects.filter(client_owner=old).exists()
