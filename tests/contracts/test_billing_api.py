"""The billing API: invoice visibility per role, no mass assignment, every action with its refusals, payments and
write-off requests, the aging report and the statement of account on hand-computed figures, the statement PDF
request, the error format on bad input and bounded query counts."""

import datetime
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from contracts.billing import services
from contracts.models import (
    CollectionStep,
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
    Payment,
    StatementDocument,
    WriteOffRequest,
)
from tests.api_support import as_user, error_of, ids, ordered_ids
from tests.factories import (
    ActiveContractFactory,
    ClientFactory,
    ContractFactory,
    InvoiceFactory,
    PaymentFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


# --- Helpers ------------------------------------------------------------------------------------------------


def invoice_of(owner, client_name: str | None = None, **fields) -> Invoice:
    """An issued invoice (VND 100,000,000 net + 10 % VAT) on a contract of a client of ``owner``."""
    client = ClientFactory(owner=owner, **({"name": client_name} if client_name else {}))
    contract = ActiveContractFactory(client=client, currency=fields.pop("currency", "VND"))
    if "due_date" in fields and "issue_date" not in fields:
        fields["issue_date"] = fields["due_date"] - timedelta(days=30)
    return InvoiceFactory(contract=contract, **fields)


def draft_of(owner, **fields) -> Invoice:
    return invoice_of(owner, status=InvoiceStatus.DRAFT, number=None, issued_at=None, **fields)


def fresh(invoice: Invoice) -> Invoice:
    return Invoice.objects.get(pk=invoice.pk)


def unchanged(invoice: Invoice) -> bool:
    """Nothing was written: same status, version and paid amount, no payment and no log entry."""
    now = fresh(invoice)
    return (
        (now.status, now.version, now.paid_amount) == (invoice.status, invoice.version, invoice.paid_amount)
        and not now.payments.exists()
        and not now.events.exists()
    )


def pay(invoice: Invoice, amount: str, on: datetime.date | None = None) -> Payment:
    finance = UserFactory(role=Role.FINANCE)
    return services.payment_record(invoice=invoice, actor=finance, amount=Decimal(amount), received_on=on)


# --- Visibility ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.FINANCE, Role.DIRECTOR, Role.ADMIN])
def test_finance_and_directors_see_every_invoice_payment_and_write_off(api, am, stranger, role):
    invoices = [invoice_of(am), invoice_of(stranger), draft_of(stranger)]
    payment = PaymentFactory(invoice=invoices[1])
    write_off = WriteOffRequest.objects.create(invoice=invoices[0], reason="Gone", requested_by=am)
    as_user(api, UserFactory(role=role))

    assert ids(api.get("/api/v1/invoices")) == {invoice.pk for invoice in invoices}
    assert ids(api.get("/api/v1/payments")) == {payment.pk}
    assert ids(api.get("/api/v1/write-off-requests")) == {write_off.pk}
    assert api.get(f"/api/v1/invoices/{invoices[1].pk}").status_code == 200


def test_an_account_manager_sees_the_invoices_of_own_and_team_clients(api, am, teammate, stranger):
    own, teams, hidden = invoice_of(am), invoice_of(teammate), invoice_of(stranger)
    visible_payment, _ = PaymentFactory(invoice=teams), PaymentFactory(invoice=hidden)
    visible_write_off = WriteOffRequest.objects.create(invoice=own, reason="Gone", requested_by=am)
    WriteOffRequest.objects.create(invoice=hidden, reason="Gone", requested_by=stranger)
    as_user(api, am)

    assert ids(api.get("/api/v1/invoices")) == {own.pk, teams.pk}
    assert ids(api.get("/api/v1/payments")) == {visible_payment.pk}
    assert ids(api.get("/api/v1/write-off-requests")) == {visible_write_off.pk}
    assert api.get(f"/api/v1/invoices/{teams.pk}").json()["client_name"] == teams.client.name
    assert error_of(api.get(f"/api/v1/invoices/{hidden.pk}"), 404)["code"] == "not_found"


def test_sales_sees_the_invoices_of_its_own_clients_and_deals_only(api, am, sales):
    own_client = invoice_of(sales)
    own_deal = InvoiceFactory(contract=ActiveContractFactory(client=ClientFactory(owner=am), owner=sales))
    others = invoice_of(am)
    as_user(api, sales)

    assert ids(api.get("/api/v1/invoices")) == {own_client.pk, own_deal.pk}
    assert error_of(api.get(f"/api/v1/invoices/{others.pk}"), 404)["code"] == "not_found"


def test_an_invisible_invoice_is_404_on_every_endpoint_and_nothing_changes(api, am, stranger):
    invoice = invoice_of(stranger)
    draft = draft_of(stranger)
    payment = PaymentFactory(invoice=invoice)
    write_off = WriteOffRequest.objects.create(invoice=invoice, reason="Gone", requested_by=stranger)
    base = f"/api/v1/invoices/{invoice.pk}"
    as_user(api, am)

    responses = [
        api.get(base),
        api.patch(f"/api/v1/invoices/{draft.pk}", {"description": "x"}),
        api.delete(f"/api/v1/invoices/{draft.pk}"),
        api.post(f"/api/v1/invoices/{draft.pk}/issue"),
        api.post(f"{base}/void", {"reason": "x"}),
        api.post(f"{base}/dispute", {"disputed": True, "note": "x"}),
        api.post(f"{base}/promise", {"promise_to_pay": None}),
        api.post(f"{base}/pause", {"paused": True}),
        api.post(f"{base}/write-off", {"reason": "x"}),
        api.post(f"{base}/payments", {"amount": "1"}),
        api.get(f"/api/v1/payments/{payment.pk}"),
        api.get(f"/api/v1/write-off-requests/{write_off.pk}"),
        api.post(f"/api/v1/write-off-requests/{write_off.pk}/decide", {"approve": True}),
    ]

    assert [error_of(response, 404)["code"] for response in responses] == ["not_found"] * len(responses)
    now = fresh(invoice)
    assert (now.status, now.disputed, now.followups_paused, now.version) == ("issued", False, False, 1)
    assert fresh(draft).status == "draft" and Payment.objects.count() == 1
    assert WriteOffRequest.objects.get().status == "pending"


def test_anonymous_callers_get_401(api):
    for path in ("/api/v1/invoices", "/api/v1/payments", "/api/v1/receivables/aging", "/api/v1/statements/1"):
        assert error_of(api.get(path), 401)["code"] == "not_authenticated"


# --- Create, edit, delete -----------------------------------------------------------------------------------


def test_finance_creates_a_draft_and_system_fields_are_not_mass_assigned(api, am, finance):
    contract = ActiveContractFactory(client=ClientFactory(owner=am), payment_terms_days=45)
    other_client = ClientFactory()

    response = as_user(api, finance).post(
        "/api/v1/invoices",
        {
            "contract": contract.pk,
            "description": "Phí dịch vụ tháng 11",
            "net_amount": "123456789",
            "vat_rate": 8,
            "issue_date": "2026-11-02",
            # Not the caller's to set: ignored.
            "status": "paid",
            "number": "INV-2000-00001",
            "paid_amount": "5000",
            "gross_amount": "1",
            "vat_amount": "1",
            "client": other_client.pk,
            "currency": "USD",
            "version": 9,
        },
    )

    assert response.status_code == 201, response.content
    invoice = Invoice.objects.get()
    body = response.json()
    assert body["id"] == invoice.pk
    assert (invoice.status, invoice.number, invoice.client_id, invoice.currency) == (
        "draft",
        None,
        contract.client_id,
        "VND",
    )
    assert (invoice.net_amount, invoice.vat_amount, invoice.gross_amount) == (
        Decimal("123456789"),
        Decimal("9876543"),  # 8 % of 123,456,789 = 9,876,543.12, rounded to the đồng
        Decimal("133333332"),
    )
    assert invoice.paid_amount == 0 and invoice.version == 1 and invoice.created_by == finance
    assert invoice.due_date == datetime.date(2026, 12, 17)  # the contract's 45 days of payment terms
    assert body["gross_amount"] == "133333332.00" and body["currency"] == "VND" and body["vat_rate"] == 8
    assert body["status"] == "draft" and body["number"] is None and body["paid_amount"] == "0.00"
    assert [event["kind"] for event in body["events"]] == ["created"]


def test_an_invoice_created_with_issue_gets_its_number_at_once(api, am, director):
    contract = ActiveContractFactory(client=ClientFactory(owner=am), currency="USD")

    response = as_user(api, director).post(
        "/api/v1/invoices",
        {"contract": contract.pk, "description": "Retainer", "net_amount": "1250.50", "vat_rate": 10, "issue": True},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    year = TODAY().year
    assert (body["status"], body["number"]) == ("issued", f"INV-{year}-00001")
    assert (body["net_amount"], body["vat_amount"], body["gross_amount"], body["outstanding"]) == (
        "1250.50",
        "125.05",
        "1375.55",
        "1375.55",
    )
    assert (body["currency"], body["days_past_due"], body["bucket"]) == ("USD", 0, "current")


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SALES])
def test_only_finance_and_directors_create_invoices(api, role):
    user = UserFactory(role=role, team=TeamFactory())
    contract = ActiveContractFactory(client=ClientFactory(owner=user), owner=user)

    response = as_user(api, user).post(
        "/api/v1/invoices", {"contract": contract.pk, "description": "x", "net_amount": "1000"}
    )

    assert error_of(response, 403) == {
        "code": "permission_denied",
        "message": "Only finance and directors can do this to invoices.",
        "fields": {},
    }
    assert not Invoice.objects.exists()


BAD_CREATIONS = [
    ({"net_amount": "-5"}, "net_amount"),
    ({"net_amount": "0"}, "net_amount"),
    ({"net_amount": "abc"}, "net_amount"),
    ({"net_amount": "NaN"}, "net_amount"),
    ({"net_amount": "1e30"}, "net_amount"),
    ({"net_amount": "1.234"}, "net_amount"),
    ({"net_amount": "1000.50"}, "net_amount"),  # VND has no minor unit
    ({"vat_rate": 7}, "vat_rate"),
    ({"vat_rate": "ten"}, "vat_rate"),
    ({"issue_date": "2026-02-30"}, "issue_date"),
    ({"issue_date": "1999-12-31"}, "issue_date"),
    ({"issue_date": "20266-01-01"}, "issue_date"),
    ({"issue_date": "2100-12-31"}, "due_date"),  # + 30 days of terms: past 2100
    ({"issue_date": "2026-03-01", "due_date": "2026-02-28"}, "due_date"),
    ({"contract": 0}, "contract"),
    ({"contract": "x"}, "contract"),
    ({"contract": 2**40}, "contract"),
    ({"description": ""}, "description"),
    ({"issue": "maybe"}, "issue"),
]


@pytest.mark.parametrize(("change", "field"), BAD_CREATIONS)
def test_bad_input_on_create_is_a_400_naming_the_field(api, am, finance, change, field):
    contract = ActiveContractFactory(client=ClientFactory(owner=am))
    body = {"contract": contract.pk, "description": "Retainer", "net_amount": "1000000", **change}

    error = error_of(as_user(api, finance).post("/api/v1/invoices", body), 400)

    assert list(error["fields"]) == [field]
    assert not Invoice.objects.exists()


def test_usd_amounts_keep_cents_but_no_finer(api, am, finance):
    contract = ActiveContractFactory(client=ClientFactory(owner=am), currency="USD")
    as_user(api, finance)
    body = {"contract": contract.pk, "description": "Retainer"}

    assert error_of(api.post("/api/v1/invoices", {**body, "net_amount": "10.005"}), 400)["fields"].keys() == {
        "net_amount"
    }
    assert api.post("/api/v1/invoices", {**body, "net_amount": "10.05"}).json()["gross_amount"] == "11.06"


def test_an_unsigned_contract_or_a_foreign_phase_cannot_be_invoiced(api, am, finance):
    draft_contract = ContractFactory(client=ClientFactory(owner=am))
    contract, elsewhere = ActiveContractFactory(), ActiveContractFactory()
    foreign_phase = elsewhere.phases.create(name="Launch")
    as_user(api, finance)

    unsigned = error_of(
        api.post("/api/v1/invoices", {"contract": draft_contract.pk, "description": "x", "net_amount": "1"}), 400
    )
    wrong_phase = error_of(
        api.post(
            "/api/v1/invoices",
            {"contract": contract.pk, "phase": foreign_phase.pk, "description": "x", "net_amount": "1"},
        ),
        400,
    )

    assert (unsigned["code"], list(unsigned["fields"])) == ("invalid_transition", ["contract"])
    assert (wrong_phase["code"], list(wrong_phase["fields"])) == ("invalid", ["phase"])
    assert not Invoice.objects.exists()


def test_finance_edits_a_draft_and_the_totals_follow(api, am, finance):
    draft = draft_of(am)

    response = as_user(api, finance).patch(
        f"/api/v1/invoices/{draft.pk}",
        {
            "net_amount": "200000000",
            "vat_rate": 5,
            "description": "Sửa",
            "version": 1,
            # Not the caller's to set: ignored.
            "status": "paid",
            "number": "INV-2000-00001",
            "paid_amount": "1000",
            "gross_amount": "1",
            "client": ClientFactory().pk,
            "contract": ActiveContractFactory().pk,
            "currency": "USD",
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["net_amount"], body["vat_amount"], body["gross_amount"]) == (
        "200000000.00",
        "10000000.00",
        "210000000.00",
    )
    assert (body["description"], body["status"], body["version"]) == ("Sửa", "draft", 2)
    now = fresh(draft)
    assert (now.number, now.paid_amount, now.client_id, now.contract_id, now.currency) == (
        None,
        0,
        draft.client_id,
        draft.contract_id,
        "VND",
    )


def test_a_stale_version_is_409_and_changes_nothing(api, am, finance):
    draft = draft_of(am, description="Trước")
    as_user(api, finance)

    patched = error_of(api.patch(f"/api/v1/invoices/{draft.pk}", {"description": "Sau", "version": 7}), 409)
    issued = error_of(api.post(f"/api/v1/invoices/{draft.pk}/issue", {"version": 7}), 409)

    assert patched["code"] == issued["code"] == "conflict"
    now = fresh(draft)
    assert (now.description, now.status, now.number, now.version) == ("Trước", "draft", None, 1)


def test_an_issued_invoice_is_neither_edited_nor_deleted(api, am, finance):
    invoice = invoice_of(am)
    as_user(api, finance)

    edit = error_of(api.patch(f"/api/v1/invoices/{invoice.pk}", {"description": "x"}), 400)
    delete = error_of(api.delete(f"/api/v1/invoices/{invoice.pk}"), 400)

    assert edit["code"] == delete["code"] == "invalid_transition"
    assert fresh(invoice).description == invoice.description


def test_finance_deletes_a_draft_and_an_account_manager_may_not(api, am, finance):
    draft, other = draft_of(am), draft_of(am)

    refused = error_of(as_user(api, am).delete(f"/api/v1/invoices/{other.pk}"), 403)
    response = as_user(api, finance).delete(f"/api/v1/invoices/{draft.pk}")

    assert refused["code"] == "permission_denied"
    assert response.status_code == 204
    assert list(Invoice.objects.values_list("pk", flat=True)) == [other.pk]


# --- Actions ------------------------------------------------------------------------------------------------


def test_issuing_a_draft_numbers_it_and_issuing_twice_is_refused(api, am, finance):
    draft = draft_of(am, issue_date=TODAY())
    as_user(api, finance)

    first = api.post(f"/api/v1/invoices/{draft.pk}/issue", {"version": 1})
    again = error_of(api.post(f"/api/v1/invoices/{draft.pk}/issue"), 400)

    assert first.status_code == 200, first.content
    assert (first.json()["status"], first.json()["number"]) == ("issued", f"INV-{TODAY().year}-00001")
    assert again["code"] == "invalid_transition"
    assert fresh(draft).number == f"INV-{TODAY().year}-00001"


def test_an_account_manager_may_not_issue_void_or_take_payments(api, am, finance):
    draft, invoice = draft_of(am), invoice_of(am)
    as_user(api, am)

    responses = [
        api.post(f"/api/v1/invoices/{draft.pk}/issue"),
        api.patch(f"/api/v1/invoices/{draft.pk}", {"description": "x"}),
        api.post(f"/api/v1/invoices/{invoice.pk}/void", {"reason": "x"}),
        api.post(f"/api/v1/invoices/{invoice.pk}/payments", {"amount": "1000"}),
        api.post(f"/api/v1/invoices/{invoice.pk}/write-off", {"reason": "x"}),
    ]

    assert [error_of(response, 403)["code"] for response in responses] == ["permission_denied"] * 5
    assert unchanged(invoice) and fresh(draft).status == "draft"
    assert not WriteOffRequest.objects.exists()


def test_void_needs_a_reason_and_no_payment(api, am, finance):
    clean, partly_paid = invoice_of(am), invoice_of(am)
    pay(partly_paid, "1000000")
    as_user(api, finance)

    no_reason = error_of(api.post(f"/api/v1/invoices/{clean.pk}/void", {"reason": ""}), 400)
    with_payment = error_of(api.post(f"/api/v1/invoices/{partly_paid.pk}/void", {"reason": "Sai"}), 400)
    voided = api.post(f"/api/v1/invoices/{clean.pk}/void", {"reason": "Sai mã số thuế", "version": 1})

    assert list(no_reason["fields"]) == ["reason"]
    assert with_payment["code"] == "invalid_transition"
    assert fresh(partly_paid).status == "partially_paid"
    assert voided.status_code == 200, voided.content
    body = voided.json()
    assert (body["status"], body["close_reason"], body["outstanding"], body["bucket"]) == (
        "void",
        "Sai mã số thuế",
        "0.00",
        None,
    )


def test_partial_payments_add_up_to_paid(api, am, finance):
    invoice = invoice_of(am)  # gross 110,000,000
    as_user(api, finance)

    first = api.post(
        f"/api/v1/invoices/{invoice.pk}/payments",
        {"amount": "60000000", "received_on": str(TODAY() - timedelta(days=2)), "reference": "UNC 001"},
    )
    after_first = api.get(f"/api/v1/invoices/{invoice.pk}").json()["status"]
    second = api.post(f"/api/v1/invoices/{invoice.pk}/payments", {"amount": "50000000", "method": "cash"})

    assert first.status_code == second.status_code == 201, (first.content, second.content)
    assert first.json() | {"id": 0, "created_at": "", "recorded_by": {}} == {
        "id": 0,
        "invoice": invoice.pk,
        "invoice_number": invoice.number,
        "client": invoice.client_id,
        "client_name": invoice.client.name,
        "amount": "60000000.00",
        "currency": "VND",
        "received_on": str(TODAY() - timedelta(days=2)),
        "method": "bank_transfer",
        "reference": "UNC 001",
        "recorded_by": {},
        "created_at": "",
    }
    assert after_first == "partially_paid"
    now = fresh(invoice)
    assert (now.status, now.paid_amount, now.paid_on) == ("paid", Decimal("110000000"), TODAY())


def test_an_overpayment_is_refused_with_its_own_code(api, am, finance):
    invoice = invoice_of(am)
    pay(invoice, "100000000")

    error = error_of(as_user(api, finance).post(f"/api/v1/invoices/{invoice.pk}/payments", {"amount": "10000001"}), 400)

    assert error["code"] == "overpayment"
    assert error["message"] == "That is more than the 10,000,000 ₫ still owed on this invoice."
    assert error["fields"] == {"amount": [error["message"]]}
    assert fresh(invoice).paid_amount == Decimal("100000000") and Payment.objects.count() == 1


BAD_PAYMENTS = [
    ({"amount": "-1"}, "amount"),
    ({"amount": "1000.5"}, "amount"),  # VND: whole đồng
    ({"amount": "1.001"}, "amount"),
    ({"amount": "x"}, "amount"),
    ({}, "amount"),
    ({"amount": "1000", "method": "barter"}, "method"),
    ({"amount": "1000", "received_on": "2026-02-30"}, "received_on"),
    ({"amount": "1000", "received_on": "1900-01-01"}, "received_on"),
    ({"amount": "1000", "reference": "x" * 101}, "reference"),
]


@pytest.mark.parametrize(("body", "field"), BAD_PAYMENTS)
def test_bad_payment_input_is_a_400_naming_the_field(api, am, finance, body, field):
    invoice = invoice_of(am)

    error = error_of(as_user(api, finance).post(f"/api/v1/invoices/{invoice.pk}/payments", body), 400)

    assert list(error["fields"]) == [field]
    assert unchanged(invoice)


def test_a_payment_is_neither_in_the_future_nor_before_the_issue_date(api, am, finance):
    invoice = invoice_of(am)  # issued 10 days ago
    as_user(api, finance)

    future = error_of(
        api.post(
            f"/api/v1/invoices/{invoice.pk}/payments", {"amount": "1", "received_on": str(TODAY() + timedelta(1))}
        ),
        400,
    )
    early = error_of(
        api.post(
            f"/api/v1/invoices/{invoice.pk}/payments", {"amount": "1", "received_on": str(TODAY() - timedelta(11))}
        ),
        400,
    )

    assert list(future["fields"]) == list(early["fields"]) == ["received_on"]
    assert unchanged(invoice)


@pytest.mark.parametrize("status", ["draft", "void", "paid", "written_off"])
def test_payments_only_go_on_open_invoices(api, am, finance, status):
    invoice = invoice_of(am, status=status, number=None if status == "draft" else "INV-1999-99999")

    error = error_of(as_user(api, finance).post(f"/api/v1/invoices/{invoice.pk}/payments", {"amount": "1"}), 400)

    assert error["code"] == "invalid_transition"
    assert not Payment.objects.exists()


def test_the_clients_account_manager_records_and_resolves_a_dispute(api, am, teammate):
    invoice = invoice_of(am)

    no_note = error_of(as_user(api, am).post(f"/api/v1/invoices/{invoice.pk}/dispute", {"disputed": True}), 400)
    opened = api.post(f"/api/v1/invoices/{invoice.pk}/dispute", {"disputed": True, "note": "Sai số lượng"})
    read_only = error_of(
        as_user(api, teammate).post(f"/api/v1/invoices/{invoice.pk}/dispute", {"disputed": False}), 403
    )
    resolved = as_user(api, am).post(f"/api/v1/invoices/{invoice.pk}/dispute", {"disputed": False})
    missing = error_of(api.post(f"/api/v1/invoices/{invoice.pk}/dispute", {}), 400)

    assert list(no_note["fields"]) == ["note"] and read_only["code"] == "permission_denied"
    assert (opened.json()["disputed"], opened.json()["dispute_note"]) == (True, "Sai số lượng")
    assert resolved.json()["disputed"] is False
    assert list(missing["fields"]) == ["disputed"]
    assert [event["kind"] for event in resolved.json()["events"]] == ["dispute_resolved", "disputed"]


def test_a_promise_to_pay_lies_ahead_and_can_be_cleared(api, am, finance):
    invoice = invoice_of(am)
    promised = TODAY() + timedelta(days=7)
    as_user(api, finance)

    past = error_of(
        api.post(f"/api/v1/invoices/{invoice.pk}/promise", {"promise_to_pay": str(TODAY() - timedelta(1))}), 400
    )
    bad = error_of(api.post(f"/api/v1/invoices/{invoice.pk}/promise", {"promise_to_pay": "2026-13-01"}), 400)
    missing = error_of(api.post(f"/api/v1/invoices/{invoice.pk}/promise", {"note": "x"}), 400)
    made = api.post(f"/api/v1/invoices/{invoice.pk}/promise", {"promise_to_pay": str(promised), "note": "Gọi lại"})
    cleared = api.post(f"/api/v1/invoices/{invoice.pk}/promise", {"promise_to_pay": None})

    assert list(past["fields"]) == list(bad["fields"]) == list(missing["fields"]) == ["promise_to_pay"]
    assert made.json()["promise_to_pay"] == str(promised)
    assert cleared.json()["promise_to_pay"] is None
    assert [event["note"] for event in cleared.json()["events"]] == ["cleared", f"{promised.isoformat()} Gọi lại"]


def test_pausing_an_invoices_follow_ups_is_logged(api, am):
    invoice = invoice_of(am)

    paused = as_user(api, am).post(f"/api/v1/invoices/{invoice.pk}/pause", {"paused": True, "note": "Đang đối soát"})
    resumed = api.post(f"/api/v1/invoices/{invoice.pk}/pause", {"paused": False})

    assert paused.json()["followups_paused"] is True and resumed.json()["followups_paused"] is False
    assert [(event["kind"], event["actor"]["id"]) for event in resumed.json()["events"]] == [
        ("resumed", am.pk),
        ("paused", am.pk),
    ]


def test_a_write_off_waits_for_a_director(api, am, finance, director):
    invoice = invoice_of(am)
    pay(invoice, "10000000")
    as_user(api, finance)

    asked = api.post(f"/api/v1/invoices/{invoice.pk}/write-off", {"reason": "Khách hàng phá sản"})
    twice = error_of(api.post(f"/api/v1/invoices/{invoice.pk}/write-off", {"reason": "Again"}), 409)
    request_id = asked.json()["id"]
    by_finance = error_of(api.post(f"/api/v1/write-off-requests/{request_id}/decide", {"approve": True}), 403)
    assert fresh(invoice).status == "partially_paid"
    approved = as_user(api, director).post(
        f"/api/v1/write-off-requests/{request_id}/decide", {"approve": True, "note": "OK"}
    )
    again = error_of(api.post(f"/api/v1/write-off-requests/{request_id}/decide", {"approve": False}), 409)

    assert asked.status_code == 201, asked.content
    assert (asked.json()["status"], asked.json()["amount"], asked.json()["invoice_status"]) == (
        "pending",
        "100000000.00",
        "partially_paid",
    )
    assert twice["code"] == "conflict" and by_finance["code"] == "permission_denied"
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert (body["status"], body["decided_by"]["id"], body["decision_note"], body["invoice_status"]) == (
        "approved",
        director.pk,
        "OK",
        "written_off",
    )
    assert again["code"] == "conflict"
    now = fresh(invoice)
    assert (now.status, now.close_reason, now.outstanding) == ("written_off", "Khách hàng phá sản", 0)


def test_a_rejected_write_off_leaves_the_invoice_open(api, am, finance, director):
    invoice = invoice_of(am)
    request = services.write_off_request(invoice=invoice, actor=finance, reason="Khó đòi")

    response = as_user(api, director).post(f"/api/v1/write-off-requests/{request.pk}/decide", {"approve": False})
    missing = error_of(api.post(f"/api/v1/write-off-requests/{request.pk}/decide", {}), 400)

    assert response.json()["status"] == "rejected" and fresh(invoice).status == "issued"
    assert list(missing["fields"]) == ["approve"]


def test_a_directors_own_write_off_is_approved_at_once(api, am, director):
    invoice = invoice_of(am)

    response = as_user(api, director).post(f"/api/v1/invoices/{invoice.pk}/write-off", {"reason": "Giải thể"})

    assert response.status_code == 201
    assert (response.json()["status"], fresh(invoice).status) == ("approved", "written_off")


# --- The invoice card ---------------------------------------------------------------------------------------


def test_the_invoice_card_shows_payments_days_past_due_follow_ups_and_the_log(api, am, finance):
    invoice = invoice_of(am, issue_date=TODAY() - timedelta(days=70), due_date=TODAY() - timedelta(days=40))
    pay(invoice, "4000000", on=TODAY() - timedelta(days=20))
    pay(invoice, "6000000", on=TODAY() - timedelta(days=5))
    CollectionStep.objects.create(invoice=invoice, level=2, taken_on=TODAY() - timedelta(days=33))
    CollectionStep.objects.create(invoice=invoice, level=1, taken_on=TODAY() - timedelta(days=40))
    services.write_off_request(invoice=invoice, actor=finance, reason="Khó đòi")

    body = as_user(api, am).get(f"/api/v1/invoices/{invoice.pk}").json()

    assert (body["status"], body["gross_amount"], body["paid_amount"], body["outstanding"]) == (
        "partially_paid",
        "110000000.00",
        "10000000.00",
        "100000000.00",
    )
    assert (body["days_past_due"], body["bucket"]) == (40, "d31_60")
    assert body["payment_summary"] == {
        "count": 2,
        "paid": "10000000.00",
        "outstanding": "100000000.00",
        "last_received_on": str(TODAY() - timedelta(days=5)),
    }
    assert [payment["amount"] for payment in body["payments"]] == ["6000000.00", "4000000.00"]
    assert [(step["level"], step["level_label"]) for step in body["collection_steps"]] == [
        (1, "L1 · due today"),
        (2, "L2 · 7 days overdue"),
    ]
    assert [event["kind"] for event in body["events"]] == ["write_off_requested", "payment", "payment"]
    assert [event["note"] for event in body["events"]][1:] == ["6,000,000 ₫", "4,000,000 ₫"]
    assert [(request["status"], request["reason"]) for request in body["write_off_requests"]] == [
        ("pending", "Khó đòi")
    ]
    assert (body["owner"], body["team"]) == (
        {"id": am.pk, "full_name": "Lan Nguyễn"},
        {"id": am.team_id, "name": "Hà Nội"},
    )


# --- Lists, filters, totals ---------------------------------------------------------------------------------


@pytest.fixture
def ledger(am, teammate, stranger):
    """Invoices across statuses, clients, owners, teams, currencies and due dates."""
    today = TODAY()
    return {
        "current": invoice_of(am, due_date=today + timedelta(days=5), description="Tết key visual"),
        "late_12": invoice_of(
            teammate,
            due_date=today - timedelta(days=12),
            currency="USD",
            net_amount=Decimal("1000"),
            client_name="Bánh kẹo Hải Hà",
        ),
        "late_95": invoice_of(stranger, due_date=today - timedelta(days=95), issue_date=today - timedelta(days=125)),
        "paid": invoice_of(am, status="paid", paid_amount=Decimal("110000000"), due_date=today - timedelta(days=3)),
        "draft": draft_of(stranger, due_date=today - timedelta(days=1)),
    }


def test_the_invoice_list_filters(api, finance, am, teammate, ledger):
    as_user(api, finance)

    def found(**params) -> set[str]:
        by_id = {invoice.pk: name for name, invoice in ledger.items()}
        return {by_id[pk] for pk in ids(api.get("/api/v1/invoices", params))}

    today = TODAY()
    assert found(status="issued") == {"current", "late_12", "late_95"}
    assert found(status="open") == {"current", "late_12", "late_95"}
    assert found(status="draft") == {"draft"}
    assert found(overdue="1") == {"late_12", "late_95"}
    assert found(overdue="0") == {"current", "paid", "draft"}
    assert found(client=ledger["late_12"].client_id) == {"late_12"}
    assert found(owner=am.pk) == {"current", "paid"}
    assert found(team=teammate.team_id) == {"current", "late_12", "paid"}
    assert found(currency="USD") == {"late_12"}
    assert found(due_from=str(today - timedelta(days=12)), due_to=str(today)) == {"late_12", "paid", "draft"}
    assert found(bucket="current") == {"current"}
    assert found(bucket="d1_30") == {"late_12"}
    assert found(bucket="d90_plus") == {"late_95"}
    assert found(q="key VISUAL") == {"current"}
    assert found(q=ledger["late_95"].number) == {"late_95"}
    assert found(q="hai ha") == {"late_12"}  # the client's name, diacritics ignored


def test_the_invoice_list_orders(api, finance, ledger):
    as_user(api, finance)
    by_due = [ledger[name].pk for name in ("late_95", "late_12", "paid", "draft", "current")]

    assert ordered_ids(api.get("/api/v1/invoices", {"ordering": "due_date"})) == by_due
    assert ordered_ids(api.get("/api/v1/invoices", {"ordering": "-due_date"})) == by_due[::-1]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"overdue": "maybe"}, "overdue"),
        ({"bucket": "d30_60"}, "bucket"),
        ({"currency": "EUR"}, "currency"),
        ({"client": "abc"}, "client"),
        ({"client": str(2**40)}, "client"),
        ({"owner": "0"}, "owner"),
        ({"team": "x"}, "team"),
        ({"due_from": "2026-02-30"}, "due_from"),
        ({"due_to": "99999-01-01"}, "due_to"),
        ({"due_to": "1800-01-01"}, "due_to"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(api, finance, params, field):
    error = error_of(as_user(api, finance).get("/api/v1/invoices", params), 400)

    assert list(error["fields"]) == [field]


def test_totals_per_currency_follow_the_filters(api, finance, ledger):
    as_user(api, finance)

    everything = api.get("/api/v1/invoices/totals").json()["totals"]
    overdue = api.get("/api/v1/invoices/totals", {"overdue": "1", "currency": "VND"}).json()["totals"]

    assert everything == [
        {
            "currency": "USD",
            "count": 1,
            "gross": "1100.00",
            "paid": "0.00",
            "outstanding": "1100.00",
        },
        {
            "currency": "VND",
            "count": 4,
            "gross": "440000000.00",
            "paid": "110000000.00",
            "outstanding": "220000000.00",  # the draft and the paid one owe nothing yet
        },
    ]
    assert overdue == [
        {"currency": "VND", "count": 1, "gross": "110000000.00", "paid": "0.00", "outstanding": "110000000.00"}
    ]


def test_payments_filter_by_invoice_client_and_date(api, finance, am):
    first, second = invoice_of(am), invoice_of(am)
    early = pay(first, "1000", on=TODAY() - timedelta(days=8))
    late = pay(first, "2000", on=TODAY() - timedelta(days=1))
    other = pay(second, "3000", on=TODAY() - timedelta(days=4))
    as_user(api, finance)

    assert ids(api.get("/api/v1/payments", {"invoice": first.pk})) == {early.pk, late.pk}
    assert ids(api.get("/api/v1/payments", {"client": second.client_id})) == {other.pk}
    window = {"received_from": str(TODAY() - timedelta(days=5)), "received_to": str(TODAY() - timedelta(days=2))}
    assert ids(api.get("/api/v1/payments", window)) == {other.pk}
    assert ordered_ids(api.get("/api/v1/payments")) == [late.pk, other.pk, early.pk]
    assert list(error_of(api.get("/api/v1/payments", {"received_from": "x"}), 400)["fields"]) == ["received_from"]


def test_write_off_requests_filter_by_status(api, finance, director, am):
    pending = services.write_off_request(invoice=invoice_of(am), actor=finance, reason="a")
    approved = services.write_off_request(invoice=invoice_of(am), actor=director, reason="b")
    as_user(api, finance)

    assert ids(api.get("/api/v1/write-off-requests", {"status": "pending"})) == {pending.pk}
    assert ids(api.get("/api/v1/write-off-requests", {"status": "approved"})) == {approved.pk}
    assert list(error_of(api.get("/api/v1/write-off-requests", {"status": "x"}), 400)["fields"]) == ["status"]


# --- Aging --------------------------------------------------------------------------------------------------

AS_OF = datetime.date(2026, 6, 30)


def aged(owner, days_past_due: int, gross: str, currency: str = "VND", **fields) -> Invoice:
    """An open invoice of ``owner``'s client (the one in ``fields`` if given), ``days_past_due`` on AS_OF."""
    net = (Decimal(gross) / Decimal("1.1")).quantize(Decimal("0.01"))
    due = AS_OF - timedelta(days=days_past_due)
    client = fields.pop("client", None) or ClientFactory(owner=owner)
    contract = ActiveContractFactory(client=client, currency=currency)
    return InvoiceFactory(
        contract=contract, issue_date=due - timedelta(days=30), due_date=due, net_amount=net, **fields
    )


@pytest.fixture
def receivables(am, teammate, stranger):
    """Hand-computed: am's client Alpha and teammate's client Beta (team Hà Nội), stranger's Gamma elsewhere."""
    alpha = ClientFactory(owner=am, name="Alpha")
    beta = ClientFactory(owner=teammate, name="Beta")
    gamma = ClientFactory(owner=stranger, name="Gamma")
    aged(am, -5, "110000000", client=alpha)  # current
    aged(am, 0, "11000000", client=alpha)  # due today: current
    aged(am, 30, "22000000", client=alpha, paid_amount=Decimal("2000000"), status="partially_paid")  # 1–30: 20 M
    aged(am, 31, "33000000", client=alpha)  # 31–60
    aged(teammate, 90, "44000000", client=beta)  # 61–90
    aged(teammate, 91, "1100.00", currency="USD", client=beta)  # 90+
    aged(stranger, 200, "55000000", client=gamma)  # 90+
    # Never counted: paid, void, written off, draft.
    aged(am, 45, "99000000", client=alpha, status="paid", paid_amount=Decimal("99000000"))
    aged(am, 45, "99000000", client=alpha, status="void")
    aged(am, 45, "99000000", client=alpha, status="written_off")
    aged(am, 45, "99000000", client=alpha, status="draft", number=None)
    return alpha, beta, gamma


def amounts(current="0.00", d1_30="0.00", d31_60="0.00", d61_90="0.00", d90_plus="0.00", total="0.00") -> dict:
    return {
        "current": current,
        "d1_30": d1_30,
        "d31_60": d31_60,
        "d61_90": d61_90,
        "d90_plus": d90_plus,
        "total": total,
    }


def test_aging_by_client_on_a_hand_computed_ledger(api, finance, receivables):
    alpha, beta, gamma = receivables

    body = as_user(api, finance).get("/api/v1/receivables/aging", {"as_of": str(AS_OF)}).json()

    assert (body["by"], body["as_of"]) == ("client", "2026-06-30")
    assert [bucket["key"] for bucket in body["buckets"]] == ["current", "d1_30", "d31_60", "d61_90", "d90_plus"]
    assert body["rows"] == [
        {
            "id": alpha.pk,
            "label": "Alpha",
            "currency": "VND",
            **amounts("121000000.00", "20000000.00", "33000000.00", total="174000000.00"),
            "invoices": 4,
        },
        {
            "id": gamma.pk,
            "label": "Gamma",
            "currency": "VND",
            **amounts(d90_plus="55000000.00", total="55000000.00"),
            "invoices": 1,
        },
        {
            "id": beta.pk,
            "label": "Beta",
            "currency": "VND",
            **amounts(d61_90="44000000.00", total="44000000.00"),
            "invoices": 1,
        },
        {
            "id": beta.pk,
            "label": "Beta",
            "currency": "USD",
            **amounts(d90_plus="1100.00", total="1100.00"),
            "invoices": 1,
        },
    ]
    assert body["totals"] == [
        {
            "currency": "VND",
            **amounts("121000000.00", "20000000.00", "33000000.00", "44000000.00", "55000000.00", "273000000.00"),
            "invoices": 6,
        },
        {"currency": "USD", **amounts(d90_plus="1100.00", total="1100.00"), "invoices": 1},
    ]


def test_aging_by_owner_team_and_currency_over_what_an_account_manager_sees(api, am, teammate, receivables):
    as_user(api, am)

    def rows(by: str) -> list[tuple]:
        body = api.get("/api/v1/receivables/aging", {"by": by, "as_of": str(AS_OF)}).json()
        return [(row["id"], row["label"], row["currency"], row["total"], row["invoices"]) for row in body["rows"]]

    assert rows("owner") == [
        (am.pk, "Lan Nguyễn", "VND", "174000000.00", 4),
        (teammate.pk, teammate.full_name, "VND", "44000000.00", 1),
        (teammate.pk, teammate.full_name, "USD", "1100.00", 1),
    ]
    assert rows("team") == [
        (am.team_id, "Hà Nội", "VND", "218000000.00", 5),
        (am.team_id, "Hà Nội", "USD", "1100.00", 1),
    ]
    assert rows("currency") == [(None, "VND", "VND", "218000000.00", 5), (None, "USD", "USD", "1100.00", 1)]


def test_aging_moves_with_the_day_and_a_payment(api, finance, am):
    invoice = aged(am, 30, "11000000")
    as_user(api, finance)

    def totals(as_of: datetime.date) -> dict:
        body = api.get("/api/v1/receivables/aging", {"as_of": str(as_of)}).json()
        return {key: value for key, value in body["totals"][0].items() if value not in ("0.00", "VND")}

    assert totals(AS_OF) == {"d1_30": "11000000.00", "total": "11000000.00", "invoices": 1}
    assert totals(AS_OF + timedelta(days=1)) == {"d31_60": "11000000.00", "total": "11000000.00", "invoices": 1}
    pay(invoice, "1000000", on=AS_OF)
    assert totals(AS_OF) == {"d1_30": "10000000.00", "total": "10000000.00", "invoices": 1}


def test_aging_rows_come_a_page_at_a_time_and_the_totals_cover_them_all(api, finance, receivables):
    alpha, beta, gamma = receivables
    as_user(api, finance)

    first = api.get("/api/v1/receivables/aging", {"as_of": str(AS_OF), "page_size": 3}).json()
    second = api.get(first["next"]).json()

    assert (first["count"], first["previous"]) == (4, None)
    assert [(row["id"], row["currency"]) for row in first["rows"]] == [
        (alpha.pk, "VND"),
        (gamma.pk, "VND"),
        (beta.pk, "VND"),
    ]
    assert "page=2" in first["next"] and "page_size=3" in first["next"] and "as_of=2026-06-30" in first["next"]
    assert [(row["id"], row["currency"]) for row in second["rows"]] == [(beta.pk, "USD")]
    assert (second["count"], second["next"]) == (4, None) and second["previous"] is not None
    for body in (first, second):  # every row's, whatever the page
        assert [(row["currency"], row["total"], row["invoices"]) for row in body["totals"]] == [
            ("VND", "273000000.00", 6),
            ("USD", "1100.00", 1),
        ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"by": "region"}, "by"),
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"as_of": "1999-12-31"}, "as_of"),
        ({"as_of": "tomorrow"}, "as_of"),
    ],
)
def test_bad_aging_parameters_are_400s(api, finance, params, field):
    error = error_of(as_user(api, finance).get("/api/v1/receivables/aging", params), 400)

    assert list(error["fields"]) == [field]


def test_aging_is_not_computed_for_a_day_in_the_future(api, finance):
    tomorrow = str(TODAY() + timedelta(days=1))

    error = error_of(as_user(api, finance).get("/api/v1/receivables/aging", {"as_of": tomorrow}), 400)

    assert error["fields"] == {"as_of": ["This date lies in the future."]}


# --- Statements ---------------------------------------------------------------------------------------------


@pytest.fixture
def statement_client(am, finance):
    """Hand-computed statement of 2025-02-01 … 2025-03-31 in VND: opening 11,000,000 − 1,000,000 = 10,000,000 (A);
    + 22,000,000 − 22,000,000 (B, paid early) + 5,500,000 − 5,000,000 − 500,000 (C, the rest written off)
    = 10,000,000 closing, all of it overdue on 31 March (A, due 9 February). A void, a draft and a USD invoice stay
    out."""
    client = ClientFactory(owner=am, name="Công ty Hoa Sen")
    contract = ActiveContractFactory(client=client)

    def issued(day: str, gross: str, due: str, **fields) -> Invoice:
        net = (Decimal(gross) / Decimal("1.1")).quantize(Decimal("0.01"))
        return InvoiceFactory(
            contract=fields.pop("contract", contract),
            issue_date=datetime.date.fromisoformat(day),
            due_date=datetime.date.fromisoformat(due),
            net_amount=net,
            **fields,
        )

    a = issued("2025-01-10", "11000000", "2025-02-09", number="INV-2025-00001")
    pay(a, "1000000", on=datetime.date(2025, 1, 20))
    b = issued("2025-02-05", "22000000", "2025-03-07", number="INV-2025-00002")
    pay(b, "22000000", on=datetime.date(2025, 3, 1))
    c = issued("2025-03-10", "5500000", "2025-04-09", number="INV-2025-00003")
    pay(c, "5000000", on=datetime.date(2025, 3, 20))
    services.write_off_request(invoice=c, actor=UserFactory(role=Role.DIRECTOR), reason="Phí ngân hàng")
    Invoice.objects.filter(pk=c.pk).update(closed_on=datetime.date(2025, 3, 25))
    issued("2025-03-12", "9900000", "2025-04-11", number="INV-2025-00004", status="void")
    issued("2025-03-13", "9900000", "2025-04-12", number=None, status="draft")
    issued(
        "2025-03-14",
        "1100",
        "2025-04-13",
        number="INV-2025-00005",
        contract=ActiveContractFactory(client=client, currency="USD"),
    )
    return client, (a, b, c)


def test_a_statement_of_account_on_hand_computed_figures(api, am, statement_client):
    client, (_, b, _) = statement_client

    response = as_user(api, am).get(
        f"/api/v1/statements/{client.pk}", {"currency": "VND", "start": "2025-02-01", "end": "2025-03-31"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["client"] == {"id": client.pk, "name": "Công ty Hoa Sen"}
    assert (body["currency"], body["currencies"], body["start"], body["end"]) == (
        "VND",
        ["USD", "VND"],
        "2025-02-01",
        "2025-03-31",
    )
    assert (body["opening_balance"], body["closing_balance"], body["overdue"]) == (
        "10000000.00",
        "10000000.00",
        "10000000.00",
    )
    assert [
        (line["date"], line["kind"], line["reference"], line["debit"], line["credit"], line["balance"])
        for line in body["lines"]
    ] == [
        ("2025-02-05", "invoice", "INV-2025-00002", "22000000.00", "0.00", "32000000.00"),
        ("2025-03-01", "payment", "INV-2025-00002", "0.00", "22000000.00", "10000000.00"),
        ("2025-03-10", "invoice", "INV-2025-00003", "5500000.00", "0.00", "15500000.00"),
        ("2025-03-20", "payment", "INV-2025-00003", "0.00", "5000000.00", "10500000.00"),
        ("2025-03-25", "write_off", "INV-2025-00003", "0.00", "500000.00", "10000000.00"),
    ]
    assert body["lines"][0]["due_date"] == "2025-03-07" and body["lines"][0]["invoice"] == b.pk


def test_the_statement_carries_the_payment_rating(api, am, statement_client):
    client, (a, _, _) = statement_client
    # Over every currency: B paid early (0 days), A and the USD invoice still open (days since their due dates);
    # C is written off, the void and the draft invoices never count.
    delay = round(((TODAY() - a.due_date).days + 0 + (TODAY() - datetime.date(2025, 4, 13)).days) / 3)
    expected = "A" if delay <= 30 else "B" if delay <= 60 else "C" if delay <= 90 else "D"

    rating = as_user(api, am).get(f"/api/v1/statements/{client.pk}", {"end": "2025-03-31"}).json()["payment_rating"]

    assert (rating["rating"], rating["average_delay_days"]) == (expected, delay)
    assert rating["label"].startswith(f"{expected} · ")


def test_the_statement_defaults_to_the_billing_currency_and_the_year_to_date(api, am):
    client = ClientFactory(owner=am, billing_currency="USD")

    body = as_user(api, am).get(f"/api/v1/statements/{client.pk}").json()

    assert (body["currency"], body["start"], body["end"]) == ("USD", f"{TODAY().year}-01-01", str(TODAY()))
    assert (body["lines"], body["closing_balance"], body["payment_rating"]["rating"]) == ([], "0.00", None)


def test_a_statement_of_a_client_you_may_not_open_is_404(api, am, sales, stranger):
    others = ClientFactory(owner=stranger)
    pipeline_client = ClientFactory(owner=am)

    hidden = error_of(as_user(api, am).get(f"/api/v1/statements/{others.pk}"), 404)
    name_only = error_of(as_user(api, sales).get(f"/api/v1/statements/{pipeline_client.pk}"), 404)
    missing = error_of(api.get("/api/v1/statements/999999999"), 404)

    assert hidden["code"] == name_only["code"] == missing["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"currency": "EUR"}, "currency"),
        ({"start": "2026-02-30"}, "start"),
        ({"start": "1999-01-01"}, "start"),
        ({"end": "2026-13-01"}, "end"),
        ({"start": "2025-03-01", "end": "2025-02-01"}, "start"),
    ],
)
def test_bad_statement_parameters_are_400s(api, am, params, field):
    client = ClientFactory(owner=am)

    error = error_of(as_user(api, am).get(f"/api/v1/statements/{client.pk}", params), 400)

    assert list(error["fields"]) == [field]


def test_a_statement_does_not_end_in_the_future(api, am):
    client = ClientFactory(owner=am)

    error = error_of(as_user(api, am).get(f"/api/v1/statements/{client.pk}", {"end": str(TODAY() + timedelta(1))}), 400)

    assert error["fields"] == {"end": ["This date lies in the future."]}


# --- Statement PDFs -----------------------------------------------------------------------------------------


def test_a_statement_pdf_is_asked_for_and_its_progress_read(
    api, am, statement_client, django_capture_on_commit_callbacks
):
    client, _ = statement_client
    as_user(api, am)

    with django_capture_on_commit_callbacks(execute=False):
        asked = api.post(
            f"/api/v1/statements/{client.pk}/pdf",
            {"currency": "VND", "start": "2025-02-01", "end": "2025-03-31", "language": "en"},
        )

    assert asked.status_code == 202, asked.content
    document = StatementDocument.objects.get()
    assert asked.json() | {"created_at": ""} == {
        "id": document.pk,
        "status": "pending",
        "download_url": None,
        "client": client.pk,
        "currency": "VND",
        "start": "2025-02-01",
        "end": "2025-03-31",
        "language": "en",
        "error": "",
        "created_at": "",
        "rendered_at": None,
    }
    assert document.requested_by == am
    pending = api.get(f"/api/v1/statement-documents/{document.pk}")
    assert (pending.status_code, pending.json()["status"]) == (202, "pending")

    StatementDocument.objects.filter(pk=document.pk).update(status="ready", rendered_at=timezone.now())
    ready = api.get(f"/api/v1/statement-documents/{document.pk}")
    assert ready.status_code == 200
    assert ready.json()["download_url"] == f"http://testserver/statement-documents/{document.pk}/download/"


def test_statement_pdfs_stay_with_the_clients_you_may_open(api, am, stranger):
    client = ClientFactory(owner=stranger)
    document = StatementDocument.objects.create(
        client=client, currency="VND", start="2025-01-01", end="2025-12-31", content_hash="x", requested_by=stranger
    )
    as_user(api, am)

    responses = [
        api.post(f"/api/v1/statements/{client.pk}/pdf", {"currency": "VND"}),
        api.get(f"/api/v1/statement-documents/{document.pk}"),
    ]

    assert [error_of(response, 404)["code"] for response in responses] == ["not_found", "not_found"]
    assert StatementDocument.objects.count() == 1


def test_a_bad_statement_pdf_request_is_a_400(api, am):
    client = ClientFactory(owner=am)

    error = error_of(as_user(api, am).post(f"/api/v1/statements/{client.pk}/pdf", {"language": "fr"}), 400)

    assert list(error["fields"]) == ["language"]
    assert error_of(api.post(f"/api/v1/statements/{client.pk}/pdf", ["VND"]), 400)["code"] == "invalid"
    assert not StatementDocument.objects.exists()


# --- Query counts -------------------------------------------------------------------------------------------


def add_invoices(owner, count: int) -> Invoice:
    """``count`` invoices of ``owner``'s clients, each with a payment and a write-off request, across currencies
    and buckets; and ``count`` of someone else. Returns the first."""
    first = None
    for index in range(count):
        invoice = invoice_of(
            owner,
            currency=["VND", "USD"][index % 2],
            due_date=TODAY() - timedelta(days=index * 9),
            issue_date=TODAY() - timedelta(days=index * 9 + 30),
        )
        first = first or invoice
        PaymentFactory(invoice=invoice, amount=Decimal("1"), recorded_by=owner)
        WriteOffRequest.objects.create(invoice=invoice, reason="x", requested_by=owner)
        invoice_of(UserFactory())
    return first


def grow_card(invoice: Invoice, owner, count: int) -> None:
    for _ in range(count):
        PaymentFactory(invoice=invoice, amount=Decimal("1"), recorded_by=owner)
        InvoiceEvent.objects.create(invoice=invoice, kind="payment", actor=owner)
        WriteOffRequest.objects.create(invoice=invoice, reason="x", requested_by=owner, status="rejected")
    for level in range(invoice.collection_steps.count(), min(invoice.collection_steps.count() + count, 5)):
        CollectionStep.objects.create(invoice=invoice, level=level, taken_on=TODAY())


# Requests made with force_authenticate: no query for the user.
# The billing cache's figures (counts, totals, the aging) are looked up under the invoices' revision first; the
# rows below change it, so each request here computes them.
# On PostgreSQL the invoices' count and totals come from the pre-summed totals, with no revision to read first.
PRE_SUMMED = connection.vendor == "postgresql"
LIST_QUERIES = {
    # (the revision,) the count, the page with client, owner, team and contract joined
    "/api/v1/invoices": 2 if PRE_SUMMED else 3,
    # (the revision,) count and sums per currency in one GROUP BY
    "/api/v1/invoices/totals": 1 if PRE_SUMMED else 2,
    "/api/v1/payments": 3,  # the payments' revision, the count, the page with invoice, client and who recorded it
    "/api/v1/write-off-requests": 2,  # the count, the page with invoice, client, requester and decider
    "/api/v1/receivables/aging": 4,  # the revision, the rows counted, a page of them, the totals per currency
}
# The client; the opening balance and what is overdue; the period's invoices and write-offs; its payments; the
# currencies invoiced; the payment rating.
STATEMENT_QUERIES = 6
# The invoice with client, owner, team, contract, phase and creator joined, then its payments (with who recorded
# them), follow-ups, log (with actors) and write-off requests (with requester and decider).
CARD_QUERIES = 5


@pytest.mark.parametrize("path", list(LIST_QUERIES))
@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SALES, Role.FINANCE, Role.DIRECTOR])
def test_list_endpoints_query_count_does_not_grow_with_rows(api, path, role, django_assert_num_queries):
    user = UserFactory(role=role, team=TeamFactory())
    as_user(api, user)

    add_invoices(user, 2)
    with django_assert_num_queries(LIST_QUERIES[path]):
        assert api.get(path).status_code == 200
    add_invoices(user, 18)
    with django_assert_num_queries(LIST_QUERIES[path]):
        body = api.get(path).json()
    if "results" in body:
        assert len(body["results"]) >= 20
    elif "rows" in body:
        assert sum(row["invoices"] for row in body["rows"]) >= 20
    else:
        assert sum(row["count"] for row in body["totals"]) >= 20


def test_the_statements_query_count_does_not_grow_with_rows(api, am, django_assert_num_queries):
    client = ClientFactory(owner=am)
    as_user(api, am)

    def grow(count: int) -> None:
        for index in range(count):
            invoice = InvoiceFactory(
                contract=ActiveContractFactory(client=client), issue_date=TODAY() - timedelta(days=index)
            )
            PaymentFactory(invoice=invoice, amount=Decimal("1"), received_on=TODAY())

    grow(2)
    with django_assert_num_queries(STATEMENT_QUERIES):
        assert (
            len(
                api.get(f"/api/v1/statements/{client.pk}", {"start": str(TODAY() - timedelta(days=40))}).json()["lines"]
            )
            == 4
        )
    grow(18)
    with django_assert_num_queries(STATEMENT_QUERIES):
        assert (
            len(
                api.get(f"/api/v1/statements/{client.pk}", {"start": str(TODAY() - timedelta(days=40))}).json()["lines"]
            )
            == 40
        )


def test_the_invoice_cards_query_count_does_not_grow_with_its_parts(api, am, django_assert_num_queries):
    invoice = add_invoices(am, 1)
    as_user(api, am)

    grow_card(invoice, am, 1)
    with django_assert_num_queries(CARD_QUERIES):
        assert len(api.get(f"/api/v1/invoices/{invoice.pk}").json()["payments"]) == 2
    grow_card(invoice, am, 19)
    with django_assert_num_queries(CARD_QUERIES):
        body = api.get(f"/api/v1/invoices/{invoice.pk}").json()
    assert (len(body["payments"]), len(body["events"]), len(body["collection_steps"])) == (21, 20, 5)
