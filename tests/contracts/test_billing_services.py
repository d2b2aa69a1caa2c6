"""Invoice and payment services: totals and rounding, status transitions, payments, numbering, write-offs,
follow-up controls, permissions and versions."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import Notification, Role
from contracts.billing import services
from contracts.billing.services import derive_status, invoice_totals
from contracts.models import (
    CollectionPause,
    Invoice,
    InvoiceEvent,
    InvoiceNumber,
    InvoiceStatus,
    Payment,
    Phase,
    WriteOffRequest,
    WriteOffStatus,
)
from core.errors import ConflictError, DomainError, PermissionDeniedError, TransitionError
from tests.factories import ActiveContractFactory, ClientFactory, ContractFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = timezone.localdate()
YEAR = TODAY.year


@pytest.fixture
def client_account(am):
    return ClientFactory(owner=am, name="Công ty Cổ phần Hoa Sen")


@pytest.fixture
def contract(client_account):
    return ActiveContractFactory(client=client_account, payment_terms_days=30)


@pytest.fixture
def usd_contract(client_account):
    return ActiveContractFactory(client=client_account, currency="USD", value=D("12000.00"))


def draft(contract, actor, net="100000000", **fields) -> Invoice:
    fields.setdefault("issue_date", TODAY - timedelta(days=10))
    return services.invoice_create(contract=contract, actor=actor, net_amount=D(net), description="Tháng 11", **fields)


def issued(contract, actor, net="100000000", **fields) -> Invoice:
    return draft(contract, actor, net, issue=True, **fields)


def pay(invoice, actor, amount, received_on=None, **fields) -> Payment:
    return services.payment_record(
        invoice=invoice, actor=actor, amount=D(amount), received_on=received_on or TODAY, **fields
    )


def fresh(invoice) -> Invoice:
    return Invoice.objects.get(pk=invoice.pk)


def event_kinds(invoice) -> list[str]:
    return list(invoice.events.order_by("pk").values_list("kind", flat=True))


# --- Totals and rounding --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("net", "rate", "currency", "vat", "gross"),
    [
        ("12345678", 10, "VND", "1234568", "13580246"),
        ("12345678", 8, "VND", "987654", "13333332"),
        ("12345678", 5, "VND", "617284", "12962962"),
        ("12345678", 0, "VND", "0", "12345678"),
        ("25", 10, "VND", "3", "28"),  # 2.5 đồng: half up, not to even
        ("10.05", 10, "USD", "1.01", "11.06"),  # 1.005: half up, not to even
        ("99.99", 8, "USD", "8.00", "107.99"),
        ("0.10", 5, "USD", "0.01", "0.11"),
        ("1234.56", 0, "USD", "0.00", "1234.56"),
    ],
)
def test_vat_is_rounded_half_up_to_the_currency_and_gross_is_net_plus_vat(net, rate, currency, vat, gross):
    totals = invoice_totals(D(net), rate, currency)

    assert (totals.net, totals.vat, totals.gross) == (D(net), D(vat), D(gross))
    assert totals.gross == totals.net + totals.vat


def test_the_net_amount_is_rounded_to_the_currency_before_vat():
    assert invoice_totals(D("1000000.5"), 10, "VND").net == D("1000001")
    assert invoice_totals(D("1234.565"), 10, "USD") == services.Totals(D("1234.57"), D("123.46"), D("1358.03"))


@pytest.mark.parametrize("rate", [7, 15, -10])
def test_vat_rates_other_than_10_8_5_0_are_refused(finance, contract, rate):
    with pytest.raises(DomainError) as error:
        draft(contract, finance, vat_rate=rate)

    assert "vat_rate" in error.value.fields
    assert not Invoice.objects.exists()


def test_a_stored_vnd_invoice_keeps_the_rounded_totals(finance, contract):
    invoice = draft(contract, finance, net="33333333", vat_rate=8)

    stored = fresh(invoice)
    assert (stored.net_amount, stored.vat_amount, stored.gross_amount) == (D("33333333"), D("2666667"), D("36000000"))


def test_a_stored_usd_invoice_keeps_the_cents(finance, usd_contract):
    invoice = draft(usd_contract, finance, net="10.05")

    stored = fresh(invoice)
    assert (stored.currency, stored.net_amount, stored.vat_amount, stored.gross_amount) == (
        "USD",
        D("10.05"),
        D("1.01"),
        D("11.06"),
    )


# --- Creating and editing -------------------------------------------------------------------------------------------


def test_a_new_invoice_is_an_unnumbered_draft_due_after_the_contracts_payment_terms(finance, contract):
    invoice = draft(contract, finance, issue_date=date(2026, 11, 2))

    assert (invoice.status, invoice.number, invoice.client, invoice.currency) == (
        "draft",
        None,
        contract.client,
        "VND",
    )
    assert invoice.due_date == date(2026, 12, 2)
    assert event_kinds(invoice) == ["created"]


@pytest.mark.parametrize("stage", ["draft", "negotiation", "awaiting_signature", "lost"])
def test_only_a_signed_contract_is_invoiced(finance, client_account, stage):
    unsigned = ContractFactory(client=client_account, stage=stage)

    with pytest.raises(TransitionError):
        draft(unsigned, finance)

    assert not Invoice.objects.exists()


def test_a_phase_of_another_contract_is_refused(finance, contract):
    other_phase = Phase.objects.create(contract=ActiveContractFactory(), name="Launch")

    with pytest.raises(DomainError) as error:
        draft(contract, finance, phase=other_phase)

    assert "phase" in error.value.fields


def test_a_due_date_before_the_issue_date_is_refused(finance, contract):
    with pytest.raises(DomainError) as error:
        draft(contract, finance, issue_date=date(2026, 11, 10), due_date=date(2026, 11, 9))

    assert "due_date" in error.value.fields
    assert not Invoice.objects.exists()


def test_a_draft_is_edited_and_its_totals_follow(finance, contract):
    invoice = draft(contract, finance)

    services.invoice_update(invoice=invoice, actor=finance, net_amount=D("50000000"), vat_rate=5)

    stored = fresh(invoice)
    assert (stored.net_amount, stored.vat_amount, stored.gross_amount, stored.version) == (
        D("50000000"),
        D("2500000"),
        D("52500000"),
        2,
    )


def test_an_issued_invoice_is_not_edited(finance, contract):
    invoice = issued(contract, finance)

    with pytest.raises(TransitionError):
        services.invoice_update(invoice=invoice, actor=finance, net_amount=D("1"))

    assert fresh(invoice).net_amount == D("100000000")


def test_fields_the_service_does_not_edit_are_refused(finance, contract):
    invoice = draft(contract, finance)

    with pytest.raises(PermissionDeniedError):
        services.invoice_update(invoice=invoice, actor=finance, paid_amount=D("1"))


def test_a_draft_is_deleted_but_an_issued_invoice_is_voided_instead(finance, contract):
    kept = issued(contract, finance)
    services.invoice_delete_draft(invoice=draft(contract, finance), actor=finance)

    with pytest.raises(TransitionError):
        services.invoice_delete_draft(invoice=kept, actor=finance)

    assert list(Invoice.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not InvoiceEvent.objects.exclude(invoice=kept).exists()


# --- Status transitions -------------------------------------------------------------------------------------------


def test_status_goes_draft_issued_partially_paid_paid(finance, contract):
    invoice = draft(contract, finance)
    assert invoice.status == InvoiceStatus.DRAFT

    invoice = services.invoice_issue(invoice=invoice, actor=finance)
    assert (invoice.status, invoice.number) == (InvoiceStatus.ISSUED, f"INV-{TODAY.year}-00001")
    assert invoice.issued_at is not None

    pay(invoice, finance, "10000000")
    assert fresh(invoice).status == InvoiceStatus.PARTIALLY_PAID

    pay(invoice, finance, "100000000")
    assert fresh(invoice).status == InvoiceStatus.PAID
    assert event_kinds(invoice) == ["created", "issued", "payment", "payment"]


def test_an_issued_invoice_is_not_issued_twice(finance, contract):
    invoice = issued(contract, finance)

    with pytest.raises(TransitionError):
        services.invoice_issue(invoice=invoice, actor=finance)

    assert InvoiceNumber.objects.get(year=invoice.issue_date.year).last == 1


@pytest.mark.parametrize(
    ("status", "paid", "expected"),
    [
        ("issued", "0", "issued"),
        ("issued", "1", "partially_paid"),
        ("partially_paid", "109999999", "partially_paid"),
        ("partially_paid", "110000000", "paid"),
        ("paid", "0", "issued"),
        ("draft", "0", "draft"),
        ("void", "0", "void"),
        ("written_off", "5", "written_off"),
    ],
)
def test_status_is_derived_from_what_was_paid(status, paid, expected):
    invoice = Invoice(status=status, gross_amount=D("110000000"), paid_amount=D(paid))

    assert derive_status(invoice) == expected


def test_an_issued_invoice_with_no_payment_is_voided_and_keeps_its_number(finance, contract):
    invoice = issued(contract, finance)

    services.invoice_void(invoice=invoice, actor=finance, reason="Sai mã số thuế")
    next_one = issued(contract, finance)

    stored = fresh(invoice)
    assert (stored.status, stored.closed_on, stored.close_reason) == ("void", TODAY, "Sai mã số thuế")
    assert (stored.number, next_one.number) == (f"INV-{YEAR}-00001", f"INV-{YEAR}-00002")
    assert event_kinds(invoice)[-1] == "voided"


def test_an_invoice_with_a_payment_is_not_voided(finance, contract):
    invoice = issued(contract, finance)
    pay(invoice, finance, "1000")

    with pytest.raises(TransitionError):
        services.invoice_void(invoice=invoice, actor=finance, reason="Nhầm")

    assert fresh(invoice).status == InvoiceStatus.PARTIALLY_PAID


def test_a_draft_is_not_voided_and_a_void_needs_a_reason(finance, contract):
    with pytest.raises(TransitionError):
        services.invoice_void(invoice=draft(contract, finance), actor=finance, reason="Nhầm")
    invoice = issued(contract, finance)
    with pytest.raises(DomainError) as error:
        services.invoice_void(invoice=invoice, actor=finance, reason="  ")

    assert "reason" in error.value.fields
    assert fresh(invoice).status == InvoiceStatus.ISSUED


# --- Payments -----------------------------------------------------------------------------------------------------


def test_three_partial_payments_add_up_to_the_dong_and_the_last_sets_paid_on(finance, contract):
    invoice = issued(contract, finance, net="30000001", issue_date=date(2026, 10, 1))  # gross 33,000,001
    assert invoice.gross_amount == D("33000001")

    pay(invoice, finance, "11000000", date(2026, 10, 5))
    assert (fresh(invoice).paid_amount, fresh(invoice).status, fresh(invoice).paid_on) == (
        D("11000000"),
        "partially_paid",
        None,
    )
    pay(invoice, finance, "11000000", date(2026, 10, 20))
    pay(invoice, finance, "11000001", date(2026, 11, 3))

    stored = fresh(invoice)
    assert (stored.paid_amount, stored.status, stored.paid_on, stored.outstanding) == (
        D("33000001"),
        "paid",
        date(2026, 11, 3),
        D("0"),
    )
    assert sum(stored.payments.values_list("amount", flat=True)) == stored.gross_amount


def test_paid_on_is_the_latest_payment_even_when_the_last_one_recorded_was_backdated(finance, contract):
    invoice = issued(contract, finance, issue_date=date(2026, 10, 1))

    pay(invoice, finance, "60000000", date(2026, 10, 25))
    pay(invoice, finance, "50000000", date(2026, 10, 10))

    assert (fresh(invoice).status, fresh(invoice).paid_on) == ("paid", date(2026, 10, 25))


def test_usd_payments_add_up_to_the_cent(finance, usd_contract):
    invoice = issued(usd_contract, finance, net="1000.01")  # VAT 100.00, gross 1100.01

    for amount in ("366.67", "366.67", "366.67"):
        pay(invoice, finance, amount)

    assert (fresh(invoice).paid_amount, fresh(invoice).status) == (D("1100.01"), "paid")


def test_an_overpayment_is_refused_with_a_clear_error_and_nothing_is_written(finance, contract):
    invoice = issued(contract, finance)  # gross 110,000,000
    pay(invoice, finance, "100000000")
    events = InvoiceEvent.objects.count()

    with pytest.raises(DomainError) as error:
        pay(invoice, finance, "10000001")

    assert error.value.code == "overpayment"
    assert error.value.message == "That is more than the 10,000,000 ₫ still owed on this invoice."
    assert error.value.fields["amount"] == [error.value.message]
    stored = fresh(invoice)
    assert (stored.paid_amount, stored.status, stored.version) == (
        D("100000000"),
        "partially_paid",
        invoice.version + 1,
    )
    assert Payment.objects.count() == 1
    assert InvoiceEvent.objects.count() == events


@pytest.mark.parametrize(("currency", "amount"), [("VND", "1000.5"), ("USD", "10.005"), ("VND", "0"), ("VND", "-5")])
def test_an_amount_not_in_whole_units_or_not_positive_is_refused(finance, contract, usd_contract, currency, amount):
    invoice = issued(usd_contract if currency == "USD" else contract, finance, net="1000")

    with pytest.raises(DomainError) as error:
        pay(invoice, finance, amount)

    assert "amount" in error.value.fields
    assert not Payment.objects.exists()


def test_a_payment_before_the_issue_date_is_refused(finance, contract):
    invoice = issued(contract, finance, issue_date=date(2026, 10, 1))

    with pytest.raises(DomainError) as error:
        pay(invoice, finance, "1000", date(2026, 9, 30))

    assert "received_on" in error.value.fields
    assert not Payment.objects.exists()


@pytest.mark.parametrize("status", ["draft", "paid", "void", "written_off"])
def test_payments_go_on_open_invoices_only(finance, contract, status):
    invoice = issued(contract, finance)
    Invoice.objects.filter(pk=invoice.pk).update(status=status)

    with pytest.raises(TransitionError):
        pay(invoice, finance, "1000")

    assert not Payment.objects.exists()


# --- Numbering ----------------------------------------------------------------------------------------------------


def test_numbers_run_per_year_of_the_issue_date(finance, contract):
    first = issued(contract, finance, issue_date=date(2026, 12, 31))
    next_year = issued(contract, finance, issue_date=date(2027, 1, 1))
    second = issued(contract, finance, issue_date=date(2026, 12, 30))

    assert [first.number, next_year.number, second.number] == ["INV-2026-00001", "INV-2027-00001", "INV-2026-00002"]


def test_drafts_take_no_number_so_issued_numbers_have_no_gap(finance, contract):
    drafts = [draft(contract, finance) for _ in range(3)]
    services.invoice_delete_draft(invoice=drafts[0], actor=finance)

    numbers = [services.invoice_issue(invoice=invoice, actor=finance).number for invoice in reversed(drafts[1:])]

    assert numbers == [f"INV-{YEAR}-00001", f"INV-{YEAR}-00002"]


def test_a_rolled_back_issue_gives_its_number_back(finance, contract):
    issued(contract, finance)
    with pytest.raises(RuntimeError), transaction.atomic():
        issued(contract, finance)
        raise RuntimeError("the mail server refused the invoice; nothing is kept")

    after = issued(contract, finance)

    assert after.number == f"INV-{YEAR}-00002"
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [f"INV-{YEAR}-00001", f"INV-{YEAR}-00002"]


# --- Write-offs ---------------------------------------------------------------------------------------------------


def test_finance_asks_and_every_director_is_notified_while_the_invoice_stays_open(finance, director, contract):
    other_director = UserFactory(role=Role.DIRECTOR)
    invoice = issued(contract, finance)

    request = services.write_off_request(invoice=invoice, actor=finance, reason="Khách hàng phá sản")

    assert (request.status, fresh(invoice).status) == (WriteOffStatus.PENDING, InvoiceStatus.ISSUED)
    for person in (director, other_director):
        assert list(Notification.objects.filter(recipient=person).values_list("title", flat=True)) == [
            f"Write-off to approve: {invoice.number}"
        ]
    assert event_kinds(invoice)[-1] == "write_off_requested"


def test_a_director_approves_the_write_off_and_finance_hears(finance, director, contract):
    invoice = issued(contract, finance)
    pay(invoice, finance, "10000000")
    request = services.write_off_request(invoice=invoice, actor=finance, reason="Khách hàng phá sản")

    services.write_off_decide(request=request, actor=director, approve=True, note="Đồng ý")

    stored = fresh(invoice)
    assert (stored.status, stored.closed_on, stored.close_reason, stored.outstanding) == (
        "written_off",
        TODAY,
        "Khách hàng phá sản",
        D("0"),
    )
    assert WriteOffRequest.objects.get().decided_by == director
    assert list(Notification.objects.filter(recipient=finance).values_list("title", flat=True)) == [
        f"Write-off approved: {invoice.number}"
    ]
    assert event_kinds(invoice)[-1] == "write_off_approved"


def test_a_rejected_write_off_leaves_the_invoice_open(finance, director, contract):
    invoice = issued(contract, finance)
    request = services.write_off_request(invoice=invoice, actor=finance, reason="Khó đòi")

    services.write_off_decide(request=request, actor=director, approve=False, note="Gọi lại khách")

    assert fresh(invoice).status == InvoiceStatus.ISSUED
    assert WriteOffRequest.objects.get().status == WriteOffStatus.REJECTED
    assert list(Notification.objects.filter(recipient=finance).values_list("title", flat=True)) == [
        f"Write-off rejected: {invoice.number}"
    ]


def test_a_directors_own_request_is_approved_at_once_without_asking_anyone(director, contract):
    other_director = UserFactory(role=Role.DIRECTOR)
    invoice = issued(contract, director)

    request = services.write_off_request(invoice=invoice, actor=director, reason="Không thu hồi được")

    assert (request.status, request.decided_by) == (WriteOffStatus.APPROVED, director)
    assert fresh(invoice).status == InvoiceStatus.WRITTEN_OFF
    assert not Notification.objects.filter(recipient__in=[director, other_director]).exists()


def test_only_a_director_decides_a_write_off(finance, contract):
    invoice = issued(contract, finance)
    request = services.write_off_request(invoice=invoice, actor=finance, reason="Khó đòi")

    with pytest.raises(PermissionDeniedError):
        services.write_off_decide(request=request, actor=finance, approve=True)

    assert WriteOffRequest.objects.get().status == WriteOffStatus.PENDING
    assert fresh(invoice).status == InvoiceStatus.ISSUED


def test_a_write_off_is_asked_once_and_decided_once(finance, director, contract):
    invoice = issued(contract, finance)
    request = services.write_off_request(invoice=invoice, actor=finance, reason="Khó đòi")

    with pytest.raises(ConflictError):
        services.write_off_request(invoice=invoice, actor=finance, reason="Lần nữa")
    services.write_off_decide(request=request, actor=director, approve=False)
    with pytest.raises(ConflictError):
        services.write_off_decide(request=request, actor=director, approve=True)

    assert WriteOffRequest.objects.count() == 1
    assert fresh(invoice).status == InvoiceStatus.ISSUED


def test_an_invoice_paid_meanwhile_is_not_written_off_and_the_request_stays_pending(finance, director, contract):
    invoice = issued(contract, finance)
    request = services.write_off_request(invoice=invoice, actor=finance, reason="Khó đòi")
    pay(invoice, finance, "110000000")

    with pytest.raises(TransitionError):
        services.write_off_decide(request=request, actor=director, approve=True)

    assert WriteOffRequest.objects.get().status == WriteOffStatus.PENDING
    assert fresh(invoice).status == InvoiceStatus.PAID


@pytest.mark.parametrize("status", ["draft", "paid", "void"])
def test_only_an_open_invoice_can_be_written_off(finance, contract, status):
    invoice = issued(contract, finance)
    Invoice.objects.filter(pk=invoice.pk).update(status=status)

    with pytest.raises(TransitionError):
        services.write_off_request(invoice=invoice, actor=finance, reason="Khó đòi")

    assert not WriteOffRequest.objects.exists()


# --- Disputes, promises, pauses -----------------------------------------------------------------------------------


def test_the_account_manager_disputes_promises_and_pauses_their_clients_invoice(finance, am, contract):
    invoice = issued(contract, finance)

    services.invoice_set_dispute(invoice=invoice, actor=am, disputed=True, note="Sai số lượng bài đăng")
    services.invoice_set_dispute(invoice=invoice, actor=am, disputed=False, note="Đã thống nhất")
    services.invoice_set_promise(invoice=invoice, actor=am, promise_to_pay=TODAY + timedelta(days=7))
    services.invoice_set_followups_paused(invoice=invoice, actor=am, paused=True, note="Chờ kế toán khách")

    stored = fresh(invoice)
    assert (stored.disputed, stored.dispute_note) == (False, "Sai số lượng bài đăng")
    assert (stored.promise_to_pay, stored.followups_paused) == (TODAY + timedelta(days=7), True)
    assert event_kinds(invoice)[2:] == ["disputed", "dispute_resolved", "promise", "paused"]
    assert set(invoice.events.exclude(kind__in=["created", "issued"]).values_list("actor", flat=True)) == {am.pk}


@pytest.mark.parametrize("who", ["stranger", "teammate", "sales"])
def test_other_account_managers_and_sales_cannot_follow_up_another_ones_client(request, finance, contract, who):
    someone = request.getfixturevalue(who)
    invoice = issued(contract, finance)

    with pytest.raises(PermissionDeniedError):
        services.invoice_set_dispute(invoice=invoice, actor=someone, disputed=True, note="?")
    with pytest.raises(PermissionDeniedError):
        services.invoice_set_promise(invoice=invoice, actor=someone, promise_to_pay=TODAY)
    with pytest.raises(PermissionDeniedError):
        services.invoice_set_followups_paused(invoice=invoice, actor=someone, paused=True)
    with pytest.raises(PermissionDeniedError):
        services.client_set_followups_paused(client=contract.client, actor=someone, paused=True)

    stored = fresh(invoice)
    assert (stored.disputed, stored.promise_to_pay, stored.followups_paused) == (False, None, False)
    assert not CollectionPause.objects.exists()


def test_a_dispute_needs_a_note_and_an_open_invoice(finance, contract):
    invoice = issued(contract, finance)
    with pytest.raises(DomainError):
        services.invoice_set_dispute(invoice=invoice, actor=finance, disputed=True, note=" ")
    pay(invoice, finance, "110000000")
    with pytest.raises(TransitionError):
        services.invoice_set_dispute(invoice=invoice, actor=finance, disputed=True, note="Sai")

    assert fresh(invoice).disputed is False


def test_a_promise_lies_ahead_and_can_be_cleared(finance, contract):
    invoice = issued(contract, finance)
    with pytest.raises(DomainError) as error:
        services.invoice_set_promise(invoice=invoice, actor=finance, promise_to_pay=TODAY - timedelta(days=1))
    assert "promise_to_pay" in error.value.fields

    services.invoice_set_promise(invoice=invoice, actor=finance, promise_to_pay=TODAY)
    services.invoice_set_promise(invoice=invoice, actor=finance, promise_to_pay=None)

    assert fresh(invoice).promise_to_pay is None
    assert list(invoice.events.filter(kind="promise").order_by("pk").values_list("note", flat=True)) == [
        TODAY.isoformat(),
        "cleared",
    ]


def test_follow_ups_are_paused_and_resumed_for_all_of_a_clients_invoices(am, contract):
    assert services.client_set_followups_paused(client=contract.client, actor=am, paused=True, reason="Tết") is True
    assert services.client_set_followups_paused(client=contract.client, actor=am, paused=True) is True
    assert CollectionPause.objects.get().reason == "Tết"

    assert services.client_set_followups_paused(client=contract.client, actor=am, paused=False) is False
    assert not CollectionPause.objects.exists()


def test_pausing_an_invoice_twice_logs_it_once(finance, contract):
    invoice = issued(contract, finance)

    services.invoice_set_followups_paused(invoice=invoice, actor=finance, paused=True)
    services.invoice_set_followups_paused(invoice=invoice, actor=finance, paused=True)

    assert event_kinds(invoice).count("paused") == 1


# --- Permissions --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SALES])
def test_account_managers_and_sales_cannot_create_issue_pay_or_void(finance, contract, role):
    person = contract.client.owner if role == Role.ACCOUNT_MANAGER else UserFactory(role=role)
    invoice = draft(contract, finance)
    open_invoice = issued(contract, finance)
    before = (Invoice.objects.count(), InvoiceEvent.objects.count(), InvoiceNumber.objects.get(year=YEAR).last)

    with pytest.raises(PermissionDeniedError):
        draft(contract, person)
    with pytest.raises(PermissionDeniedError):
        services.invoice_issue(invoice=invoice, actor=person)
    with pytest.raises(PermissionDeniedError):
        pay(open_invoice, person, "1000")
    with pytest.raises(PermissionDeniedError):
        services.invoice_void(invoice=open_invoice, actor=person, reason="Nhầm")
    with pytest.raises(PermissionDeniedError):
        services.write_off_request(invoice=open_invoice, actor=person, reason="Khó đòi")

    assert (Invoice.objects.count(), InvoiceEvent.objects.count(), InvoiceNumber.objects.get(year=YEAR).last) == before
    assert (fresh(invoice).status, fresh(open_invoice).status) == ("draft", "issued")
    assert not Payment.objects.exists()


def test_directors_and_admins_bill_too(director, contract):
    admin = UserFactory(role=Role.ADMIN)

    assert issued(contract, director).number == f"INV-{YEAR}-00001"
    assert issued(contract, admin).number == f"INV-{YEAR}-00002"


# --- Versions -----------------------------------------------------------------------------------------------------


def test_a_stale_edit_is_refused_and_changes_nothing(finance, contract):
    invoice = draft(contract, finance)
    services.invoice_update(invoice=invoice, actor=finance, expected_version=1, description="Tháng 12")

    with pytest.raises(ConflictError):
        services.invoice_update(invoice=invoice, actor=finance, expected_version=1, net_amount=D("5"))

    stored = fresh(invoice)
    assert (stored.description, stored.net_amount, stored.version) == ("Tháng 12", D("100000000"), 2)


def test_a_stale_issue_takes_no_number(finance, contract):
    invoice = draft(contract, finance)
    services.invoice_update(invoice=invoice, actor=finance, description="Tháng 12")

    with pytest.raises(ConflictError):
        services.invoice_issue(invoice=invoice, actor=finance, expected_version=1)

    assert fresh(invoice).status == InvoiceStatus.DRAFT
    assert not InvoiceNumber.objects.filter(last__gt=0).exists()


def test_the_same_transfer_recorded_from_a_stale_page_is_refused(finance, contract):
    invoice = issued(contract, finance)
    seen = invoice.version
    pay(invoice, finance, "50000000", expected_version=seen)

    with pytest.raises(ConflictError):
        pay(invoice, finance, "50000000", expected_version=seen)

    assert Payment.objects.count() == 1
    assert fresh(invoice).paid_amount == D("50000000")


def test_a_stale_void_is_refused(finance, contract):
    invoice = issued(contract, finance)
    seen = invoice.version
    services.invoice_set_followups_paused(invoice=invoice, actor=finance, paused=True)

    with pytest.raises(ConflictError):
        services.invoice_void(invoice=invoice, actor=finance, reason="Nhầm", expected_version=seen)

    assert fresh(invoice).status == InvoiceStatus.ISSUED


def test_every_change_bumps_the_version(finance, contract):
    invoice = issued(contract, finance)
    versions = [fresh(invoice).version]
    pay(invoice, finance, "1000")
    versions.append(fresh(invoice).version)
    services.invoice_set_promise(invoice=invoice, actor=finance, promise_to_pay=TODAY)
    versions.append(fresh(invoice).version)

    assert versions == [2, 3, 4]
