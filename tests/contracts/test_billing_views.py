"""The billing pages: invoice list (filters, totals, CSV), invoice page and its actions by role, creating and
editing invoices, receivables with drill-down links that add up, the collections board with inline payments,
statements of account, home panels, the client page's links and the navigation; query counts that do not grow."""

import csv
import datetime
import io
import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from accounts.navigation import NavGroup, navigation_for
from contracts.billing import services
from contracts.models import CollectionPause, CollectionStep, Invoice, InvoiceEvent, Payment, WriteOffRequest
from tests.factories import (
    ActiveContractFactory,
    ClientFactory,
    ContractFactory,
    InvoiceFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def admin():
    return UserFactory(role=Role.ADMIN)


def signed_in(client, user):
    client.force_login(user)
    return client


def days(count: int) -> datetime.timedelta:
    return datetime.timedelta(days=count)


def contract_for(owner, currency="VND", **fields):
    fields.setdefault("client", ClientFactory(owner=owner))
    return ActiveContractFactory(owner=owner, currency=currency, **fields)


def invoice_due(contract, days_past_due: int, net="100000000", **fields) -> Invoice:
    """An issued invoice ``days_past_due`` days past its due date (negative: not yet due)."""
    due = timezone.localdate() - days(days_past_due)
    return InvoiceFactory(contract=contract, net_amount=Decimal(net), issue_date=due - days(30), due_date=due, **fields)


def paid(invoice: Invoice, amount: str, actor, day=None) -> Invoice:
    services.payment_record(invoice=invoice, actor=actor, amount=Decimal(amount), received_on=day)
    invoice.refresh_from_db()
    return invoice


def html_of(response) -> str:
    """The page's text with entities decoded (an apostrophe comes as &#x27;)."""
    return unescape(response.content.decode())


def totals_of(response) -> dict[str, dict]:
    return {total["currency"]: total for total in response.context["totals"]}


# --- Who sees which page ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "whose", "expected"),
    [
        # list, detail, receivables, collections, statement, new invoice
        ("finance", "other", (200, 200, 200, 200, 200, 200)),
        ("director", "other", (200, 200, 200, 200, 200, 200)),
        ("admin", "other", (200, 200, 200, 200, 200, 200)),
        ("account_manager", "own", (200, 200, 200, 403, 200, 403)),
        ("account_manager", "team", (200, 200, 200, 403, 200, 403)),
        ("account_manager", "other", (200, 404, 200, 403, 404, 404)),
        ("sales", "own", (200, 200, 200, 403, 200, 403)),
        ("sales", "other", (200, 404, 200, 403, 404, 404)),
    ],
)
def test_who_opens_which_billing_page(client, team, role, whose, expected):
    user = UserFactory(role=role, team=team)
    owner = {"own": user, "team": UserFactory(team=team), "other": UserFactory(team=TeamFactory(name="Sài Gòn"))}
    contract = contract_for(owner[whose])
    invoice = invoice_due(contract, 10)
    signed_in(client, user)

    pages = [
        "/invoices/",
        f"/invoices/{invoice.pk}/",
        "/receivables/",
        "/collections/",
        f"/statements/{contract.client_id}/",
        f"/contracts/{contract.pk}/invoices/new/",
    ]
    statuses = tuple(client.get(page).status_code for page in pages)

    assert statuses == expected
    listed = invoice in client.get("/invoices/").context["page"].object_list
    assert listed is (expected[1] == 200)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for page in ("/invoices/", "/receivables/", "/collections/", "/invoices/export.csv"):
        assert client.get(page)["Location"].startswith("/login/")


def test_sales_sees_the_invoices_of_a_deal_it_owns_on_another_owners_client(client, am, sales):
    deal = ActiveContractFactory(client=ClientFactory(owner=am), owner=sales)
    invoice = invoice_due(deal, 3)
    signed_in(client, sales)

    assert client.get(f"/invoices/{invoice.pk}/").status_code == 200


# --- The invoice page: actions by role -------------------------------------------------------------------------

FINANCE_FORMS = ('data-testid="payment-form"', 'data-testid="void-form"', 'data-testid="write-off-form"')
FOLLOW_UP_FORMS = ('data-testid="dispute-form"', 'data-testid="promise-form"', 'data-testid="pause-form"')


@pytest.mark.parametrize(
    ("role", "whose", "billing", "follow_up"),
    [
        ("finance", "other", True, True),
        ("director", "other", True, True),
        ("account_manager", "own", False, True),
        ("account_manager", "team", False, False),
        ("sales", "own", False, True),
    ],
)
def test_the_invoice_page_offers_the_actions_of_the_role(client, team, role, whose, billing, follow_up):
    user = UserFactory(role=role, team=team)
    owner = {"own": user, "team": UserFactory(team=team), "other": UserFactory()}[whose]
    invoice = invoice_due(contract_for(owner), 10)
    signed_in(client, user)

    html = html_of(client.get(f"/invoices/{invoice.pk}/"))

    for marker in FINANCE_FORMS:
        assert (marker in html) is billing
    for marker in FOLLOW_UP_FORMS:
        assert (marker in html) is follow_up
    assert ("You can read this invoice" in html) is not (billing or follow_up)


def test_the_invoice_page_shows_amounts_dates_payments_and_the_log(client, am, finance, today):
    invoice = invoice_due(contract_for(am), 12, net="100000000")
    step = CollectionStep.objects.create(invoice=invoice, level=2, taken_on=today - days(5))
    paid(invoice, "40000000", finance, day=today)
    signed_in(client, finance)

    response = client.get(f"/invoices/{invoice.pk}/")
    html = html_of(response)

    facts = html[html.index('data-testid="invoice-facts"') : html.index("</dl>", html.index("invoice-facts"))]
    for text in ("100,000,000 ₫", "10,000,000 ₫", "110,000,000 ₫", "40,000,000 ₫", "70,000,000 ₫", "12 days past due"):
        assert text in facts
    assert "12 days overdue" in html and "Partially paid" in html
    assert invoice.client.name in html and invoice.contract.number in html and am.full_name in html
    log = [entry["label"] for entry in response.context["log"]]
    assert log[0] == "Payment recorded"  # newest first
    assert str(step.get_level_display()) in log and "Issued" not in log  # the factory logged no issue


def test_a_follow_up_the_sweep_logged_as_an_event_is_listed_once(client, am, finance, today):
    invoice = invoice_due(contract_for(am), 8)
    CollectionStep.objects.create(invoice=invoice, level=2, taken_on=today)
    InvoiceEvent.objects.create(invoice=invoice, kind="follow_up", note="L2 e-mail to 2 contacts")
    signed_in(client, finance)

    log = client.get(f"/invoices/{invoice.pk}/").context["log"]

    assert [entry["kind"] for entry in log] == ["follow_up"]
    assert log[0]["note"] == "L2 e-mail to 2 contacts"


# --- Recording payments and other actions ----------------------------------------------------------------------


def test_finance_records_a_partial_payment_and_the_status_follows(client, am, finance, today):
    invoice = invoice_due(contract_for(am), 5)
    signed_in(client, finance)

    response = client.post(
        f"/invoices/{invoice.pk}/payments/new/",
        {
            "amount": "30000000",
            "received_on": today.isoformat(),
            "method": "bank_transfer",
            "reference": "UNC 7",
            "version": invoice.version,
        },
    )

    assert response.status_code == 302 and response["Location"] == f"/invoices/{invoice.pk}/"
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_amount, invoice.outstanding) == (
        "partially_paid",
        Decimal("30000000"),
        Decimal("80000000"),
    )
    assert "Payment of 30,000,000 ₫ recorded" in html_of(client.get(response["Location"]))


def test_an_overpayment_is_refused_on_the_page_and_nothing_is_recorded(client, am, finance, today):
    invoice = invoice_due(contract_for(am), 5)
    signed_in(client, finance)

    response = client.post(
        f"/invoices/{invoice.pk}/payments/new/",
        {"amount": "110000001", "received_on": today.isoformat(), "method": "bank_transfer", "version": 1},
    )

    assert response.status_code == 400
    assert "That is more than the 110,000,000 ₫ still owed on this invoice." in html_of(response)
    assert response.context["payment_form"].errors["amount"]
    assert not Payment.objects.exists()


def test_a_payment_form_with_missing_fields_shows_its_errors(client, am, finance):
    invoice = invoice_due(contract_for(am), 5)
    signed_in(client, finance)

    response = client.post(f"/invoices/{invoice.pk}/payments/new/", {"amount": "", "method": "bank_transfer"})

    assert response.status_code == 400
    form = response.context["payment_form"]
    assert set(form.errors) == {"amount", "received_on"}
    assert '<details class="inline-form" open>' in html_of(response)


def test_a_stale_payment_form_is_refused_with_a_clear_message(client, am, finance, today):
    invoice = invoice_due(contract_for(am), 5)
    seen = invoice.version
    paid(invoice, "10000000", finance)  # someone else recorded the transfer first
    signed_in(client, finance)

    response = client.post(
        f"/invoices/{invoice.pk}/payments/new/",
        {"amount": "10000000", "received_on": today.isoformat(), "method": "bank_transfer", "version": seen},
    )

    assert response.status_code == 409
    assert "Someone else changed this invoice first. Reload to see it." in html_of(response)
    assert Payment.objects.count() == 1


def test_an_account_manager_may_not_record_a_payment(client, am, today):
    invoice = invoice_due(contract_for(am), 5)
    signed_in(client, am)

    response = client.post(
        f"/invoices/{invoice.pk}/payments/new/",
        {"amount": "1000", "received_on": today.isoformat(), "method": "bank_transfer"},
    )

    assert response.status_code == 403
    assert "Only finance and directors can do this to invoices." in html_of(response)
    assert not Payment.objects.exists()


def test_an_invoice_the_user_may_not_see_is_a_404_for_every_action(client, stranger, finance, today):
    invoice = invoice_due(contract_for(UserFactory()), 5)
    signed_in(client, stranger)

    for action in ("payments/new", "void", "write-off", "dispute", "promise", "pause", "issue", "delete"):
        assert client.post(f"/invoices/{invoice.pk}/{action}/", {"note": "x", "reason": "x"}).status_code == 404
    invoice.refresh_from_db()
    assert (invoice.status, invoice.disputed, invoice.followups_paused) == ("issued", False, False)


def test_void_needs_a_reason_and_a_fresh_version(client, am, finance):
    invoice = invoice_due(contract_for(am), 5)
    signed_in(client, finance)

    missing = client.post(f"/invoices/{invoice.pk}/void/", {"reason": "", "version": invoice.version})
    stale = client.post(f"/invoices/{invoice.pk}/void/", {"reason": "Wrong client", "version": invoice.version + 1})
    done = client.post(f"/invoices/{invoice.pk}/void/", {"reason": "Wrong client", "version": invoice.version})

    assert missing.status_code == 400 and missing.context["void_form"].errors["reason"]
    assert stale.status_code == 409 and "Someone else changed this invoice first" in html_of(stale)
    assert done.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.close_reason) == ("void", "Wrong client")


def test_a_write_off_is_requested_by_finance_and_approved_by_a_director(client, am, finance, director):
    invoice = invoice_due(contract_for(am), 100)
    signed_in(client, finance)
    client.post(f"/invoices/{invoice.pk}/write-off/", {"reason": "The client went bankrupt."})
    request = WriteOffRequest.objects.get()
    assert "Approve the write-off" not in html_of(client.get(f"/invoices/{invoice.pk}/"))

    signed_in(client, director)
    page = html_of(client.get(f"/invoices/{invoice.pk}/"))
    response = client.post(f"/write-offs/{request.pk}/decide/", {"decision": "approve", "note": "Agreed."})

    assert 'data-testid="decision-form"' in page
    assert response.status_code == 302
    invoice.refresh_from_db()
    request.refresh_from_db()
    assert (invoice.status, request.status, request.decided_by) == ("written_off", "approved", director)


def test_finance_may_not_decide_a_write_off(client, am, finance):
    invoice = invoice_due(contract_for(am), 100)
    request = services.write_off_request(invoice=invoice, actor=finance, reason="Gone.")
    signed_in(client, finance)

    response = client.post(f"/write-offs/{request.pk}/decide/", {"decision": "approve"})

    assert response.status_code == 403
    assert "Only a director can approve or reject a write-off." in html_of(response)
    invoice.refresh_from_db()
    assert invoice.status == "issued"


def test_the_account_manager_disputes_promises_and_pauses_on_an_own_client(client, am, today):
    invoice = invoice_due(contract_for(am), 10)
    signed_in(client, am)
    url = f"/invoices/{invoice.pk}"

    empty_dispute = client.post(f"{url}/dispute/", {"disputed": "1", "note": ""})
    client.post(f"{url}/dispute/", {"disputed": "1", "note": "Only 2 KOLs were delivered."})
    past = client.post(f"{url}/promise/", {"promise_to_pay": (today - days(1)).isoformat()})
    client.post(f"{url}/promise/", {"promise_to_pay": (today + days(7)).isoformat(), "note": "Kế toán hứa"})
    client.post(f"{url}/pause/", {"paused": "1", "note": "CEO call"})

    assert empty_dispute.status_code == 400 and "Say what the client disputes." in html_of(empty_dispute)
    assert past.status_code == 400 and "A promise to pay lies ahead" in html_of(past)
    invoice.refresh_from_db()
    assert invoice.disputed and invoice.promise_to_pay == today + days(7) and invoice.followups_paused
    html = html_of(client.get(f"{url}/"))
    assert "Only 2 KOLs were delivered." in html and 'data-testid="resolve-form"' in html

    client.post(f"{url}/dispute/", {"disputed": "0"})
    client.post(f"{url}/pause/", {"paused": "0"})
    invoice.refresh_from_db()
    assert not invoice.disputed and not invoice.followups_paused


def test_a_teammate_reads_but_may_not_dispute(client, am, teammate):
    invoice = invoice_due(contract_for(teammate), 10)
    signed_in(client, am)

    response = client.post(f"/invoices/{invoice.pk}/dispute/", {"disputed": "1", "note": "No."})

    assert response.status_code == 403
    assert "Only finance, directors and the client's account manager can do this." in html_of(response)
    invoice.refresh_from_db()
    assert not invoice.disputed


# --- Creating, editing, issuing and deleting --------------------------------------------------------------------


def test_finance_creates_and_issues_an_invoice_from_a_signed_contract(client, am, finance, today):
    contract = contract_for(am, payment_terms_days=45)
    signed_in(client, finance)
    assert 'data-testid="new-invoice"' in html_of(client.get(f"/contracts/{contract.pk}/"))

    response = client.post(
        f"/contracts/{contract.pk}/invoices/new/",
        {
            "description": "Phí tháng 12",
            "net_amount": "12345678",
            "vat_rate": "8",
            "issue_date": today.isoformat(),
            "issue_now": "on",
        },
    )

    invoice = Invoice.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/invoices/{invoice.pk}/"
    assert invoice.number == f"INV-{today.year}-00001" and invoice.status == "issued"
    assert (invoice.vat_amount, invoice.gross_amount) == (Decimal("987654"), Decimal("13333332"))
    assert invoice.due_date == today + days(45)  # the payment terms
    assert f"Invoice INV-{today.year}-00001 issued." in html_of(client.get(response["Location"]))


def test_the_invoice_form_shows_its_errors(client, am, finance, today):
    contract = contract_for(am)
    signed_in(client, finance)

    response = client.post(
        f"/contracts/{contract.pk}/invoices/new/",
        {
            "description": "",
            "net_amount": "-5",
            "vat_rate": "7",
            "issue_date": today.isoformat(),
            "due_date": (today - days(1)).isoformat(),
        },
    )
    dates = client.post(
        f"/contracts/{contract.pk}/invoices/new/",
        {
            "description": "Phí",
            "net_amount": "5",
            "vat_rate": "10",
            "issue_date": today.isoformat(),
            "due_date": (today - days(1)).isoformat(),
        },
    )

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"description", "net_amount", "vat_rate"}
    assert dates.status_code == 400
    assert dates.context["form"].errors["due_date"] == ["Before the issue date."]
    assert not Invoice.objects.exists()


def test_an_unsigned_contract_cannot_be_invoiced(client, am, finance, today):
    deal = ContractFactory(client=ClientFactory(owner=am), stage="negotiation")
    signed_in(client, finance)

    page = client.get(f"/contracts/{deal.pk}/invoices/new/")
    response = client.post(
        f"/contracts/{deal.pk}/invoices/new/",
        {"description": "Phí", "net_amount": "5", "vat_rate": "10", "issue_date": today.isoformat()},
    )

    assert 'data-testid="not-signed"' in html_of(page)
    assert response.status_code == 400 and "Only a signed contract can be invoiced." in html_of(response)
    assert not Invoice.objects.exists()


def test_a_draft_is_edited_issued_or_deleted_and_a_stale_edit_is_refused(client, am, finance, today):
    contract = contract_for(am)
    draft = services.invoice_create(contract=contract, actor=finance, net_amount=Decimal("1000000"), description="A")
    signed_in(client, finance)
    form = {
        "description": "B",
        "net_amount": "2000000",
        "vat_rate": "10",
        "issue_date": today.isoformat(),
        "due_date": (today + days(10)).isoformat(),
    }

    edited = client.post(f"/invoices/{draft.pk}/edit/", {**form, "version": draft.version})
    stale = client.post(f"/invoices/{draft.pk}/edit/", {**form, "description": "C", "version": draft.version})
    stale_issue = client.post(f"/invoices/{draft.pk}/issue/", {"version": draft.version})

    assert edited.status_code == 302
    assert stale.status_code == 409 and "Someone else changed this invoice first" in html_of(stale)
    assert stale_issue.status_code == 409 and 'data-testid="refusal"' in html_of(stale_issue)
    draft.refresh_from_db()
    assert (draft.description, draft.gross_amount, draft.number) == ("B", Decimal("2200000"), None)

    assert client.post(f"/invoices/{draft.pk}/issue/", {"version": draft.version}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == "issued" and client.get(f"/invoices/{draft.pk}/edit/").status_code == 302

    second = services.invoice_create(contract=contract, actor=finance, net_amount=Decimal("1"), description="X")
    deleted = client.post(f"/invoices/{second.pk}/delete/")
    assert deleted["Location"] == f"/contracts/{contract.pk}/#invoices"
    assert not Invoice.objects.filter(pk=second.pk).exists()


# --- The list: filters, totals, sorting, export ----------------------------------------------------------------


@pytest.fixture
def ledger(am, finance, stranger):
    """Invoices in VND and USD across the buckets, some partly paid, one paid, one void, one of another team."""
    vnd, usd = contract_for(am), contract_for(am, currency="USD")
    rows = {
        "current": invoice_due(vnd, -5, net="100000000"),
        "late_10": paid(invoice_due(vnd, 10, net="200000000"), "50000000", finance),
        "late_45": invoice_due(vnd, 45, net="300000000"),
        "late_100": paid(invoice_due(vnd, 100, net="400000000"), "40000000", finance),
        "paid": paid(invoice_due(vnd, 20, net="50000000"), "55000000", finance),
        "void": invoice_due(vnd, 70, net="60000000", status="void"),
        "usd_late_70": paid(invoice_due(usd, 70, net="1000.50"), "100.05", finance),
        "usd_current": invoice_due(usd, 0, net="2000"),
        "elsewhere": invoice_due(contract_for(stranger), 15, net="7000000"),
    }
    return rows


def test_the_list_totals_are_exact_per_currency_for_the_filtered_set(client, am, ledger):
    signed_in(client, am)

    everything = totals_of(client.get("/invoices/"))
    overdue = totals_of(client.get("/invoices/?overdue=1"))

    assert everything["VND"]["count"] == 6 and everything["USD"]["count"] == 2  # not the other team's
    assert everything["VND"]["gross"] == Decimal("1221000000")
    assert everything["VND"]["paid"] == Decimal("145000000")
    # open only: 110 + (220 − 50) + 330 + (440 − 40) million
    assert everything["VND"]["outstanding"] == Decimal("1010000000")
    assert everything["USD"]["outstanding"] == Decimal("3200.50")  # 1100.55 − 100.05 + 2200.00
    assert overdue["VND"] == {
        "currency": "VND",
        "count": 3,
        "gross": Decimal("990000000"),
        "paid": Decimal("90000000"),
        "outstanding": Decimal("900000000"),
    }
    assert overdue["USD"]["outstanding"] == Decimal("1000.50")


def test_the_list_filters_by_status_bucket_currency_and_due_range(client, am, ledger, today):
    signed_in(client, am)

    def listed(query: str) -> set[str]:
        rows = client.get(f"/invoices/?{query}").context["page"].object_list
        return {name for name, invoice in ledger.items() if invoice in rows}

    assert listed("status=open") == {"current", "late_10", "late_45", "late_100", "usd_late_70", "usd_current"}
    assert listed("status=paid") == {"paid"}
    assert listed("bucket=d1_30") == {"late_10"}
    assert listed("bucket=d61_90") == {"usd_late_70"}
    assert listed("bucket=current") == {"current", "usd_current"}
    assert listed("currency=USD&overdue=1") == {"usd_late_70"}
    window = f"due_from={(today - days(50)).isoformat()}&due_to={(today - days(15)).isoformat()}"
    assert listed(window) == {"late_45", "paid"}
    assert listed(f"q={ledger['late_45'].number}") == {"late_45"}
    assert listed(f"q={ledger['late_45'].number.lower()}") == {"late_45"}  # a number's beginning, any case
    assert listed("status=bogus") == set()  # an invalid filter shows nothing rather than everything


def test_the_list_sorts_by_outstanding_and_marks_lateness_in_words(client, am, ledger):
    signed_in(client, am)

    response = client.get("/invoices/?currency=VND&sort=-outstanding")
    rows = list(response.context["page"].object_list)

    assert rows[:3] == [ledger["late_100"], ledger["late_45"], ledger["late_10"]]
    assert rows[-1] in (ledger["paid"], ledger["void"])  # nothing owed on those
    html = html_of(response)
    assert "100 days overdue" in html and 'aria-sort="descending"' in html


def test_the_list_filters_live_with_htmx(client, am, ledger):
    signed_in(client, am)

    response = client.get("/invoices/?status=paid", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="invoice-results")

    html = html_of(response)
    assert "<html" not in html and ledger["paid"].number in html and ledger["late_45"].number not in html


def test_the_csv_export_is_the_filtered_list_with_a_bom_and_no_formulas(client, am, finance, today):
    contract = contract_for(am, client=ClientFactory(owner=am, name='=HYPERLINK("http://x")'))
    late = paid(invoice_due(contract, 12, net="1000000"), "100000", finance)
    invoice_due(contract, -3, net="2000000")
    signed_in(client, finance)

    response = client.get("/invoices/export.csv?overdue=1")
    body = b"".join(response.streaming_content).decode("utf-8")

    assert response["Content-Type"] == "text/csv; charset=utf-8" and body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Number", "Status", "Client"] and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Number"] == late.number and row["Client"] == '\'=HYPERLINK("http://x")'
    assert (row["Gross"], row["Paid"], row["Outstanding"], row["Days past due"]) == (
        "1100000",
        "100000",
        "1000000",
        "12",
    )
    assert row["Status"] == "Partially paid" and row["Due date"] == (today - days(12)).isoformat()


# --- Receivables: aging and drill-down -------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["client", "owner", "team", "currency"])
def test_every_receivables_amount_opens_a_list_whose_total_is_that_amount(client, finance, ledger, by):
    no_team = UserFactory(role=Role.ACCOUNT_MANAGER, team=None)
    invoice_due(contract_for(no_team), 35, net="9000000")
    signed_in(client, finance)

    response = client.get(f"/receivables/?by={by}")
    rows = response.context["rows"] + response.context["totals"]

    checked = 0
    for row in rows:
        for cell in [*row["cells"], {"amount": row["total"], "url": row["total_url"]}]:
            if cell["url"] is None:
                assert cell["amount"] == 0
                continue
            listed = totals_of(client.get(cell["url"]))
            assert listed[row["currency"]]["outstanding"] == cell["amount"], cell["url"]
            assert set(listed) == {row["currency"]}
            checked += 1
    assert checked >= 10


def test_the_receivables_totals_row_adds_up_per_currency(client, am, ledger):
    signed_in(client, am)

    totals = {row["currency"]: row for row in client.get("/receivables/").context["totals"]}

    vnd = totals["VND"]
    assert (vnd["current"], vnd["d1_30"], vnd["d31_60"], vnd["d61_90"], vnd["d90_plus"]) == (
        Decimal("110000000"),
        Decimal("170000000"),
        Decimal("330000000"),
        Decimal("0"),
        Decimal("400000000"),
    )
    assert totals["USD"]["d61_90"] == Decimal("1000.50") and totals["USD"]["current"] == Decimal("2200.00")


def test_a_team_without_a_name_is_labelled_and_its_link_filters_for_no_team(client, finance):
    no_team = UserFactory(role=Role.ACCOUNT_MANAGER, team=None)
    invoice_due(contract_for(no_team), 35, net="9000000")
    signed_in(client, finance)

    response = client.get("/receivables/?by=team")

    row = response.context["rows"][0]
    assert row["label"] == "No team" and "team=none" in row["total_url"]


def test_the_receivables_export_has_the_rows_and_a_total_per_currency(client, am, ledger):
    signed_in(client, am)

    response = client.get("/receivables/export.csv?by=currency")
    body = b"".join(response.streaming_content).decode("utf-8")

    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert body.startswith("\ufeff")
    assert rows[0] == [
        "Currency",
        "Currency",
        "Current",
        "1–30 days",
        "31–60 days",
        "61–90 days",
        "90+ days",
        "Total",
        "Open invoices",
    ]
    assert ["Total", "VND", "110000000", "170000000", "330000000", "0", "400000000", "1010000000", "4"] in rows


# --- The collections board -------------------------------------------------------------------------------------


def board_post(client, invoice, amount, today, version=None):
    prefix = f"card{invoice.pk}"
    return client.post(
        f"/invoices/{invoice.pk}/payments/new/",
        {
            "from": "board",
            f"{prefix}-amount": amount,
            f"{prefix}-received_on": today.isoformat(),
            f"{prefix}-method": "bank_transfer",
            f"{prefix}-version": version or invoice.version,
        },
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"card-{invoice.pk}",
    )


def test_the_board_puts_overdue_invoices_in_their_bucket_with_totals(client, finance, ledger):
    signed_in(client, finance)

    response = client.get("/collections/")

    columns = {column["key"]: column for column in response.context["columns"]}
    assert [card.pk for card in columns["d1_30"]["cards"]] == [ledger["elsewhere"].pk, ledger["late_10"].pk]
    assert columns["d31_60"]["totals"] == [
        {"currency": "VND", "amount": Decimal("330000000"), "url": "/invoices/?bucket=d31_60&currency=VND"}
    ]
    assert [total["currency"] for total in columns["d61_90"]["totals"]] == ["USD"]
    assert ledger["current"].number not in html_of(response)  # not overdue: not on the board


def test_finance_records_a_partial_payment_on_a_card_and_the_totals_follow(client, finance, ledger, today):
    invoice = ledger["late_45"]
    signed_in(client, finance)

    response = board_post(client, invoice, "30000000", today)

    html = html_of(response)
    assert response.status_code == 200
    assert f'id="card-{invoice.pk}"' in html and "300,000,000 ₫" in html  # outstanding 330 − 30 million
    assert 'id="bucket-totals-d31_60" hx-swap-oob="true"' in html and 'id="overdue-summary" hx-swap-oob="true"' in html
    oob = html[html.index('id="bucket-totals-d31_60"') :]
    assert "300,000,000 ₫" in oob[: oob.index("</div>")]
    invoice.refresh_from_db()
    assert invoice.outstanding == Decimal("300000000")


def test_a_refused_card_payment_comes_back_on_the_card(client, finance, ledger, today):
    invoice = ledger["late_45"]
    signed_in(client, finance)

    response = board_post(client, invoice, "999999999", today)

    html = html_of(response)
    assert response.status_code == 200  # htmx swaps only a 2xx answer in
    assert "That is more than the 330,000,000 ₫ still owed on this invoice." in html
    assert '<details class="card-payment" open>' in html and "hx-swap-oob" not in html
    assert not Payment.objects.filter(invoice=invoice).exists()


def test_a_cards_payment_form_comes_when_it_is_opened(client, am, finance, ledger):
    invoice = ledger["late_45"]
    signed_in(client, finance)

    board = html_of(client.get("/collections/"))
    form = client.get(f"/collections/cards/{invoice.pk}/payment-form/", HTTP_HX_REQUEST="true")

    assert f'hx-get="/collections/cards/{invoice.pk}/payment-form/"' in board
    assert f'name="card{invoice.pk}-amount"' not in board  # no form rendered with the board
    assert form.status_code == 200
    assert f'name="card{invoice.pk}-amount"' in html_of(form) and 'name="from" value="board"' in html_of(form)
    signed_in(client, am)  # not a collector
    assert client.get(f"/collections/cards/{invoice.pk}/payment-form/").status_code == 403


def test_a_card_form_of_an_invoice_you_may_not_see_is_404(client, director):
    signed_in(client, director)

    assert client.get("/collections/cards/987654/payment-form/").status_code == 404


def test_the_board_shows_a_bounded_number_of_cards_and_links_to_the_rest(client, am, finance):
    contract = contract_for(am)
    for _ in range(14):
        invoice_due(contract, 5, net="1000000")
    signed_in(client, finance)

    response = client.get("/collections/")

    column = response.context["columns"][0]
    assert len(column["cards"]) == 12 and column["hidden"] == 2 and column["count"] == 14
    assert "2 more: show all in the list" in html_of(response)


def test_the_board_lists_promises_due_today_disputes_and_write_offs(client, am, finance, today):
    contract = contract_for(am)
    promised, disputed, written = (invoice_due(contract, 9) for _ in range(3))
    services.invoice_set_promise(invoice=promised, actor=finance, promise_to_pay=today)
    services.invoice_set_dispute(invoice=disputed, actor=finance, disputed=True, note="Wrong amount")
    services.write_off_request(invoice=written, actor=finance, reason="Gone")
    signed_in(client, finance)

    context = client.get("/collections/").context

    assert (context["promises"], context["disputes"], context["write_offs"]) == ([promised], [disputed], [written])
    assert context["counts"] == {"promises_today": 1, "disputes": 1, "write_offs": 1}
    for key, invoice in (("promises", promised), ("disputes", disputed), ("write_offs", written)):
        assert list(client.get(context["links"][key]).context["page"].object_list) == [invoice]


# --- Statement of account ---------------------------------------------------------------------------------------


def test_the_statement_shows_balances_lines_rating_and_overdue(client, am, finance, today):
    contract = contract_for(am)
    start = datetime.date(today.year, 1, 1)
    old = InvoiceFactory(contract=contract, issue_date=start - days(40), due_date=start - days(10))
    new = InvoiceFactory(contract=contract, issue_date=start + days(1), due_date=start + days(2))
    paid(old, "10000000", finance, day=start + days(3))
    signed_in(client, am)

    response = client.get(f"/statements/{contract.client_id}/")

    statement = response.context["statement"]
    assert (statement.start, statement.end, statement.currency) == (start, today, "VND")
    assert statement.opening_balance == Decimal("110000000")
    assert [(line.kind, line.balance) for line in statement.lines] == [
        ("invoice", Decimal("220000000")),
        ("payment", Decimal("210000000")),
    ]
    assert statement.closing_balance == Decimal("210000000")
    html = html_of(response)
    assert new.number in html and "210,000,000 ₫" in html
    rating = response.context["rating"]
    assert rating in "ABCD" and str(response.context["rating_label"]) in html
    assert 'data-testid="client-pause-form"' in html  # the client's own AM
    assert "_statement_pdf" not in html  # the PDF partial is rendered, not named


def test_the_statement_refuses_a_period_that_ends_before_it_starts(client, am, today):
    contract = contract_for(am)
    signed_in(client, am)

    response = client.get(
        f"/statements/{contract.client_id}/?start={today.isoformat()}&end={(today - days(3)).isoformat()}"
    )

    assert response.status_code == 400
    assert "The period ends before it starts." in html_of(response)


def test_the_client_pauses_and_resumes_follow_ups_from_the_statement(client, am, teammate):
    contract = contract_for(am)
    signed_in(client, am)
    url = f"/statements/{contract.client_id}/pause/"

    paused = client.post(f"{url}?currency=VND", {"paused": "1", "note": "Restructuring"})
    assert paused["Location"] == f"/statements/{contract.client_id}/?currency=VND"
    assert CollectionPause.objects.get().reason == "Restructuring"
    client.post(url, {"paused": "0"})
    assert not CollectionPause.objects.exists()

    signed_in(client, teammate)
    refused = client.post(url, {"paused": "1"})
    assert refused.status_code == 403 and not CollectionPause.objects.exists()


# --- Home, client page, contract page, navigation ---------------------------------------------------------------


def test_finance_and_directors_see_their_billing_panels_at_home(client, am, finance, director, today):
    contract = contract_for(am)
    late = invoice_due(contract, 10)
    services.write_off_request(invoice=late, actor=finance, reason="Gone")
    invoice_due(contract_for(am, currency="USD"), 3, net="100")

    signed_in(client, finance)
    finance_home = client.get("/").context["billing_finance"]
    signed_in(client, director)
    director_home = html_of(client.get("/"))

    assert [(total["currency"], total["outstanding"]) for total in finance_home["overdue"]] == [
        ("USD", Decimal("110.00")),
        ("VND", Decimal("110000000")),
    ]
    assert finance_home["counts"] == {"promises_today": 0, "disputes": 0, "write_offs": 1}
    assert 'data-testid="billing-director-panel"' in director_home and late.number in director_home


def test_the_client_page_links_to_its_statement_and_invoices(client, am):
    customer = ClientFactory(owner=am)
    signed_in(client, am)

    html = html_of(client.get(f"/clients/{customer.pk}/"))

    assert f'href="/statements/{customer.pk}/"' in html and f'href="/invoices/?client={customer.pk}"' in html


def test_the_contract_page_lists_its_invoices_and_only_finance_may_add_one(client, am, finance):
    contract = contract_for(am)
    invoice = paid(invoice_due(contract, 3), "10000000", finance)
    signed_in(client, am)

    html = html_of(client.get(f"/contracts/{contract.pk}/"))

    assert 'data-testid="contract-invoices"' in html and invoice.number in html and "100,000,000 ₫" in html
    assert 'data-testid="new-invoice"' not in html


def test_billing_sits_in_a_dropdown_with_collections_for_finance_directors_and_admins(admin):
    for role, expected in [
        (Role.FINANCE, ["Invoices", "Receivables", "Collections"]),
        (Role.ADMIN, ["Invoices", "Receivables", "Collections"]),
        (Role.ACCOUNT_MANAGER, ["Invoices", "Receivables"]),
        (Role.SALES, ["Invoices", "Receivables"]),
    ]:
        groups = [item for item in navigation_for(UserFactory(role=role)) if isinstance(item, NavGroup)]
        billing = [group for group in groups if group.test_id == "nav-billing"]
        assert [[str(child.label) for child in group.children] for group in billing] == [expected]


# --- Query counts -----------------------------------------------------------------------------------------------


def _rows(am, finance, count: int, contract=None) -> None:
    contract = contract or contract_for(am)
    for index in range(count):
        invoice = invoice_due(contract, 5 + index * 9, net=str(1000000 + index))
        if index % 2:
            paid(invoice, "1000", finance)


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # session, user, unread count (header: finance has no team); the totals per currency (they count the rows
        # too; on SQLite the invoices' revision first, the rows having changed it); the page of rows with client,
        # owner, team and contract; the filter form's manager and team choices
        ("/invoices/", 7 if connection.vendor == "postgresql" else 8),
        # a bucket and a computed sort change the queries' shape, not their number
        ("/invoices/?bucket=d1_30&sort=-outstanding", 7 if connection.vendor == "postgresql" else 8),
        # header (3); the revision; the aging by client counted, a page of it; the totals per currency
        ("/receivables/", 7),
        # header (3); the revision; bucket totals; a column of cards per overdue bucket (4); promises, disputes and
        # write-offs lists; their counts
        ("/collections/", 13),
    ],
)
def test_list_pages_query_counts_do_not_grow(client, am, finance, django_assert_num_queries, url, queries):
    signed_in(client, finance)
    _rows(am, finance, 2)
    with django_assert_num_queries(queries):
        client.get(url)
    _rows(am, finance, 18)
    with django_assert_num_queries(queries):
        client.get(url)


def test_the_invoice_page_query_count_does_not_grow(client, am, finance, director, django_assert_num_queries):
    invoice = invoice_due(contract_for(am), 10, net="100000000")
    signed_in(client, director)

    def add(count, levels):
        for _ in range(count):
            paid(invoice, "1000", finance)
            request = services.write_off_request(invoice=invoice, actor=finance, reason="x")
            services.write_off_decide(request=request, actor=director, approve=False)
        for level in levels:
            CollectionStep.objects.create(invoice=invoice, level=level, taken_on=timezone.localdate() - days(level))

    add(2, [0, 1])
    # session, user, unread count (header); the invoice with client, owner, team, contract, phase, creator and the
    # client's pause; write-off requests; payments; events; follow-up steps; may open the client, the contract
    with django_assert_num_queries(10):
        client.get(f"/invoices/{invoice.pk}/")
    add(18, [2, 3, 4])
    with django_assert_num_queries(10):
        response = client.get(f"/invoices/{invoice.pk}/")
    assert len(response.context["payments"]) == 20 and len(response.context["write_offs"]) == 20


def test_the_statement_query_count_does_not_grow(client, am, finance, django_assert_num_queries):
    contract = contract_for(am)
    signed_in(client, finance)
    _rows(am, finance, 2, contract)
    # session, user, unread count (header); the client with owner, team and pause; its currencies; the statement
    # (opening balance; invoice lines; payment lines); the payment rating; the PDF of these figures (it reads the
    # rating again)
    with django_assert_num_queries(11):
        client.get(f"/statements/{contract.client_id}/")
    _rows(am, finance, 18, contract)
    with django_assert_num_queries(11):
        response = client.get(f"/statements/{contract.client_id}/")
    assert len(response.context["statement"].lines) >= 20


def test_the_contract_page_query_count_does_not_grow_with_invoices(client, am, finance, django_assert_num_queries):
    contract = contract_for(am)
    signed_in(client, am)
    _rows(am, finance, 2, contract)
    with django_assert_num_queries(18):  # the contract page's 16, + its newest invoices and their totals
        client.get(f"/contracts/{contract.pk}/")
    _rows(am, finance, 18, contract)
    with django_assert_num_queries(18):
        response = client.get(f"/contracts/{contract.pk}/")
    assert len(response.context["invoices_section"]["rows"]) == 10


def test_no_stray_markup_from_untranslated_blocks(client, am, ledger):
    signed_in(client, am)

    html = html_of(client.get("/invoices/"))

    assert not re.search(r"{%|%}|{{|}}", html)


def test_the_director_panel_counts_every_waiting_write_off_but_lists_five(client, am, finance, director):
    contract = contract_for(am)
    for _ in range(7):
        services.write_off_request(invoice=invoice_due(contract, 40), actor=finance, reason="Gone")
    signed_in(client, director)

    panel = client.get("/").context["billing_director"]

    assert panel["count"] == 7 and len(panel["write_offs"]) == 5
