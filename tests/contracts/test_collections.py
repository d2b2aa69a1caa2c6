"""Collection follow-ups: the cadence (L0 3 days before due … L4 30 days overdue), what holds it, one e-mail per
client and day in each billing contact's language, the logs, and each step once."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import count
from unittest import mock

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.db import OperationalError, connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Notification, Role
from clients.models import Activity, ActivityKind
from contracts.billing import services
from contracts.billing.collections import deliver_notice_email, follow_ups_due, level_due, send_follow_ups
from contracts.billing.collections import sweep as the_sweep
from contracts.models import (
    CollectionLevel,
    CollectionNotice,
    CollectionStep,
    Invoice,
    InvoiceEvent,
    InvoiceEventKind,
    InvoiceStatus,
    NoticeDelivery,
)
from contracts.tasks import send_collection_follow_ups_task
from core import mail as mail_queue
from core.models import OutgoingEmail
from tests.factories import ActiveContractFactory, ClientFactory, ContactFactory, InvoiceFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 16)
AGENCY = "Sao Việt Agency"
INSTRUCTIONS = "Vietcombank · STK 0071 000 123 456 · Nội dung: số hóa đơn"
_numbers = count(1)


@pytest.fixture(autouse=True)
def _collection_settings(settings):
    settings.ACCORD_AGENCY_NAME = AGENCY
    settings.ACCORD_COLLECTION_MINIMUM = {"VND": 100_000, "USD": 5}
    settings.ACCORD_PAYMENT_INSTRUCTIONS = INSTRUCTIONS


@pytest.fixture
def finance():
    return UserFactory(role=Role.FINANCE, email="ke-toan@agency.test", full_name="Trần Thu Hà")


@pytest.fixture
def director():
    return UserFactory(role=Role.DIRECTOR, email="giam-doc@agency.test", full_name="Phạm Quốc Bảo")


def billing_client(*, language: str = "vi", name: str = "Công ty Cổ phần Hương Sen", contact: bool = True):
    """A client owned by its own account manager, with one billing contact who has an e-mail address."""
    number = next(_numbers)
    owner = UserFactory(role=Role.ACCOUNT_MANAGER, email=f"am{number}@agency.test", full_name="Lê Minh Đức")
    client = ClientFactory(name=name, owner=owner)
    if contact:
        ContactFactory(
            client=client,
            is_billing=True,
            preferred_language=language,
            full_name="Nguyễn Thị Lan",
            email=f"ketoan{number}@huongsen.test",
        )
    return client


def invoice_due(due: date, *, client=None, currency: str = "VND", net: str = "100000000", **fields) -> Invoice:
    """An issued invoice due on ``due``, issued 30 days before; 10 % VAT, so gross is 110 % of ``net``."""
    contract = ActiveContractFactory(client=client or billing_client(), currency=currency)
    totals = services.invoice_totals(Decimal(net), 10, currency)
    return InvoiceFactory(
        contract=contract,
        issue_date=due - timedelta(days=30),
        due_date=due,
        net_amount=totals.net,
        vat_amount=totals.vat,
        gross_amount=totals.gross,
        **fields,
    )


def sweep(today: date, **options) -> int:
    """The sweep with its after-commit work (client e-mails, notification e-mails) run as the worker would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return send_follow_ups(today=today, **options)


def client_mail() -> list:
    """The follow-up e-mails to clients (notification e-mails to staff start with [Accord])."""
    return [message for message in mail.outbox if message.subject.startswith(f"[{AGENCY}]")]


def levels(invoice: Invoice) -> list[int]:
    return list(CollectionStep.objects.filter(invoice=invoice).order_by("level").values_list("level", flat=True))


def sweep_every_day(first: date, last: date) -> None:
    day = first
    while day <= last:
        sweep(day)
        day += timedelta(days=1)


def at_ten_on(day: date):
    """The agency's clock at 10:00 on ``day`` (the services check dates against today)."""
    return mock.patch("django.utils.timezone.now", return_value=timezone.make_aware(datetime.combine(day, time(10))))


def pay(invoice: Invoice, amount: str, on: date) -> None:
    services.payment_record(
        invoice=invoice, actor=UserFactory(role=Role.FINANCE), amount=Decimal(amount), received_on=on
    )


def titles(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("title", flat=True))


# --- When ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_overdue", "expected"),
    [(-30, None), (-4, None), (-3, 0), (-1, 0), (0, 1), (6, 1), (7, 2), (13, 2), (14, 3), (29, 3), (30, 4), (400, 4)],
)
def test_the_level_due_is_the_highest_whose_first_day_has_come(days_overdue, expected):
    assert level_due(TODAY - timedelta(days=days_overdue), TODAY) == expected


def test_the_database_picks_the_same_level_as_the_rule():
    client = billing_client()
    invoices = [invoice_due(TODAY - timedelta(days=days), client=client) for days in range(-6, 40)]

    picked = dict(follow_ups_due(TODAY).values_list("pk", "due_level"))

    expected = {invoice.pk: level_due(invoice.due_date, TODAY) for invoice in invoices}
    assert picked == {pk: level for pk, level in expected.items() if level is not None}


def test_each_level_is_taken_on_its_first_day_and_not_the_day_before():
    invoice = invoice_due(date(2026, 3, 31))

    sweep_every_day(date(2026, 3, 21), date(2026, 5, 10))

    taken_on = dict(CollectionStep.objects.filter(invoice=invoice).values_list("level", "taken_on"))
    assert taken_on == {
        0: date(2026, 3, 28),  # 3 days before the due date; nothing on the 27th
        1: date(2026, 3, 31),  # the due date; nothing on the 30th
        2: date(2026, 4, 7),  # 7 days overdue; nothing on the 6th
        3: date(2026, 4, 14),  # 14 days overdue; nothing on the 13th
        4: date(2026, 4, 30),  # 30 days overdue; nothing on the 29th
    }
    assert list(CollectionNotice.objects.order_by("sent_on").values_list("sent_on", "level")) == [
        (day, level) for level, day in sorted(taken_on.items())
    ]
    assert len(client_mail()) == 4  # L0 to L3: L4 e-mails no one at the client


def test_the_sweep_just_after_midnight_in_ho_chi_minh_city_takes_the_new_day():
    invoice = invoice_due(date(2026, 3, 17))

    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 3, 16, 16, 59, tzinfo=UTC)):
        assert send_follow_ups() == 1  # 23:59 on 16 March in Hà Nội: L0
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 3, 16, 17, 5, tzinfo=UTC)):
        assert send_follow_ups() == 1  # 00:05 on 17 March there, still the 16th in UTC: L1

    assert dict(CollectionStep.objects.filter(invoice=invoice).values_list("level", "taken_on")) == {
        0: date(2026, 3, 16),
        1: date(2026, 3, 17),
    }


def test_an_invoice_paid_before_its_next_level_gets_nothing_more():
    due = date(2026, 3, 31)
    invoice = invoice_due(due)
    sweep_every_day(due - timedelta(days=3), due)
    mail.outbox.clear()

    pay(invoice, "110000000", on=due + timedelta(days=6))  # the day before L2
    sweep_every_day(due + timedelta(days=6), due + timedelta(days=45))

    assert levels(invoice) == [0, 1]
    assert client_mail() == []
    assert not Notification.objects.exists()


def test_a_partial_payment_leaves_the_follow_ups_going_for_what_is_left():
    due = date(2026, 3, 31)
    invoice = invoice_due(due)
    pay(invoice, "60000000", on=due)

    assert sweep(due + timedelta(days=7)) == 1

    assert levels(invoice) == [2]
    [message] = client_mail()
    assert "50.000.000 ₫" in message.body  # 110,000,000 − 60,000,000 outstanding


def test_an_invoice_paused_then_resumed_gets_only_its_current_level(finance):
    due = date(2026, 3, 31)
    invoice = invoice_due(due)
    sweep(due)
    services.invoice_set_followups_paused(invoice=invoice, actor=finance, paused=True, note="Khách xin gia hạn")

    sweep_every_day(due + timedelta(days=1), due + timedelta(days=20))
    assert levels(invoice) == [1]

    services.invoice_set_followups_paused(invoice=invoice, actor=finance, paused=False)
    assert sweep(due + timedelta(days=21)) == 1

    assert levels(invoice) == [1, 3]  # L2 was missed while paused: never sent
    assert len(client_mail()) == 2


def test_a_client_paused_then_resumed_gets_only_the_current_levels(finance):
    due = date(2026, 3, 31)
    client = billing_client()
    first, second = invoice_due(due, client=client), invoice_due(due + timedelta(days=2), client=client)
    services.client_set_followups_paused(client=client, actor=finance, paused=True, reason="Đang đối soát")

    sweep_every_day(due - timedelta(days=5), due + timedelta(days=10))
    assert not CollectionStep.objects.exists() and client_mail() == []

    services.client_set_followups_paused(client=client, actor=finance, paused=False)
    assert sweep(due + timedelta(days=14)) == 2

    assert (levels(first), levels(second)) == ([3], [2])
    [message] = client_mail()
    assert first.number in message.body and second.number in message.body


def test_a_disputed_invoice_waits_until_the_dispute_is_resolved(finance):
    due = date(2026, 3, 31)
    invoice = invoice_due(due)
    services.invoice_set_dispute(invoice=invoice, actor=finance, disputed=True, note="Sai số lượng bài đăng")

    sweep_every_day(due - timedelta(days=3), due + timedelta(days=9))
    assert not CollectionStep.objects.exists() and client_mail() == []

    services.invoice_set_dispute(invoice=invoice, actor=finance, disputed=False)
    assert sweep(due + timedelta(days=10)) == 1

    assert levels(invoice) == [2]


def test_a_promise_to_pay_holds_the_follow_ups_through_its_day_then_they_resume(finance):
    due = date(2026, 3, 31)
    invoice = invoice_due(due)
    sweep(due)
    with at_ten_on(due + timedelta(days=2)):
        services.invoice_set_promise(invoice=invoice, actor=finance, promise_to_pay=due + timedelta(days=16))

    sweep_every_day(due + timedelta(days=2), due + timedelta(days=16))  # the promised day included
    assert levels(invoice) == [1]

    assert sweep(due + timedelta(days=17)) == 1  # the promise has passed, unpaid
    assert levels(invoice) == [1, 3]


def test_an_invoice_issued_late_gets_only_its_current_level():
    invoice = invoice_due(TODAY - timedelta(days=20))

    assert sweep(TODAY) == 1

    assert levels(invoice) == [3]
    sweep_every_day(TODAY + timedelta(days=1), TODAY + timedelta(days=10))
    assert levels(invoice) == [3, 4]


@pytest.mark.parametrize(
    ("currency", "net", "paid", "expected"),
    [
        ("VND", "100000000", "109900001", 0),  # 99,999 ₫ left
        ("VND", "100000000", "109900000", 1),  # 100,000 ₫ left
        ("USD", "1000", "1095.01", 0),  # 4.99 USD left
        ("USD", "1000", "1095", 1),  # 5.00 USD left
        ("VND", "80000", "0", 0),  # 88,000 ₫ gross
    ],
)
def test_nothing_is_sent_below_the_minimum_amount(currency, net, paid, expected):
    invoice = invoice_due(TODAY - timedelta(days=7), currency=currency, net=net)
    if Decimal(paid):
        pay(invoice, paid, on=TODAY - timedelta(days=8))

    assert sweep(TODAY) == expected

    assert len(client_mail()) == expected
    assert CollectionNotice.objects.count() == expected


def test_the_minimum_is_a_setting(settings):
    settings.ACCORD_COLLECTION_MINIMUM = {"VND": 500_000_000, "USD": 5}
    invoice_due(TODAY)

    assert sweep(TODAY) == 0
    assert client_mail() == []


@pytest.mark.parametrize("status", [InvoiceStatus.DRAFT, InvoiceStatus.PAID, InvoiceStatus.VOID, "written_off"])
def test_only_open_invoices_are_followed_up(status):
    invoice_due(TODAY, status=status, number=None if status == InvoiceStatus.DRAFT else "INV-1999-99999")

    assert sweep(TODAY) == 0
    assert not CollectionStep.objects.exists() and client_mail() == []


# --- Grouping ----------------------------------------------------------------------------------------------------


def test_two_overdue_invoices_of_a_client_make_one_email_listing_both_with_the_balance():
    client = billing_client()
    older = invoice_due(TODAY - timedelta(days=9), client=client)
    newer = invoice_due(TODAY, client=client, net="20000000")

    assert sweep(TODAY) == 2

    [message] = client_mail()
    assert message.body.index(older.number) < message.body.index(newer.number)  # oldest due first
    assert "Tổng số dư còn phải thanh toán: 132.000.000 ₫" in message.body  # 110,000,000 + 22,000,000
    assert CollectionNotice.objects.get().level == CollectionLevel.OVERDUE  # the higher of L2 and L1
    assert sorted(CollectionStep.objects.values_list("invoice", "level")) == [(older.pk, 2), (newer.pk, 1)]


def test_the_email_lists_every_open_invoice_due_even_those_whose_step_was_taken_before():
    client = billing_client()
    chased_last_week = invoice_due(TODAY - timedelta(days=10), client=client)
    sweep(TODAY - timedelta(days=3))
    mail.outbox.clear()
    due_today = invoice_due(TODAY, client=client)
    small = invoice_due(TODAY - timedelta(days=12), client=client, net="50000")  # below the minimum
    not_due_yet = invoice_due(TODAY + timedelta(days=4), client=client)
    disputed = invoice_due(TODAY - timedelta(days=2), client=client, disputed=True)

    assert sweep(TODAY) == 1  # the invoice due today

    [message] = client_mail()
    assert chased_last_week.number in message.body and due_today.number in message.body and small.number in message.body
    assert not_due_yet.number not in message.body and disputed.number not in message.body
    assert "Tổng số dư còn phải thanh toán: 220.055.000 ₫" in message.body
    assert CollectionNotice.objects.get(sent_on=TODAY).level == CollectionLevel.DUE


def test_two_clients_get_one_email_each():
    first, second = billing_client(name="Công ty Hoa Mai"), billing_client(name="Công ty Đồng Xanh")
    invoice_due(TODAY, client=first)
    invoice_due(TODAY - timedelta(days=7), client=second)

    assert sweep(TODAY) == 2

    recipients = sorted(message.to[0] for message in client_mail())
    assert recipients == sorted([first.contacts.get().email, second.contacts.get().email])
    assert CollectionNotice.objects.count() == 2


def test_each_billing_contact_gets_one_message_in_their_language():
    client = billing_client(language="vi")
    english = ContactFactory(client=client, is_billing=True, preferred_language="en", email="finance@huongsen.test")
    ContactFactory(client=client, is_billing=False, email="ceo@huongsen.test")
    ContactFactory(client=client, is_billing=True, email="")
    invoice_due(TODAY - timedelta(days=7), client=client)

    sweep(TODAY)

    by_recipient = {message.to[0]: message for message in client_mail()}
    vietnamese = client.contacts.get(preferred_language="vi", is_billing=True, email__contains="ketoan")
    assert sorted(by_recipient) == sorted([vietnamese.email, english.email])
    assert by_recipient[vietnamese.email].extra_headers["Content-Language"] == "vi"
    assert by_recipient[english.email].extra_headers["Content-Language"] == "en"
    assert "Hóa đơn quá hạn" in by_recipient[vietnamese.email].subject
    assert "Overdue invoices" in by_recipient[english.email].subject
    assert NoticeDelivery.objects.count() == 2


def test_the_final_notice_copies_the_account_manager_and_earlier_ones_do_not():
    client = billing_client()
    invoice = invoice_due(TODAY - timedelta(days=14), client=client)

    sweep(TODAY - timedelta(days=1))  # L2
    sweep(TODAY)  # L3

    second_level, final = client_mail()
    assert second_level.cc == []
    assert final.cc == [client.owner.email]
    assert final.subject == f"[{AGENCY}] Thông báo cuối cùng: hóa đơn quá hạn thanh toán · {client.name}"
    assert levels(invoice) == [2, 3]


def test_the_tone_follows_the_highest_level_taken_that_day():
    client = billing_client(language="en")
    invoice_due(TODAY, client=client)
    invoice_due(TODAY - timedelta(days=14), client=client)

    sweep(TODAY)

    [message] = client_mail()
    assert message.subject == f"[{AGENCY}] Final notice: overdue invoices · {client.name}"
    assert CollectionNotice.objects.get().level == CollectionLevel.FINAL


def test_at_30_days_the_client_gets_no_email_directors_and_finance_hear_and_finance_gets_a_next_step(finance, director):
    UserFactory(role=Role.FINANCE, email="ke-toan-2@agency.test")  # a higher pk: not the task's owner
    retired = UserFactory(role=Role.DIRECTOR, is_active=False)
    colleague = UserFactory(role=Role.ACCOUNT_MANAGER)
    client = billing_client()
    invoice = invoice_due(TODAY - timedelta(days=30), client=client)

    assert sweep(TODAY) == 1

    assert client_mail() == []
    assert not NoticeDelivery.objects.exists()
    assert titles(finance) == titles(director) == [f"Collection escalated, 30 days overdue: {client.name}"]
    assert Notification.objects.count() == 3  # both finance users and the director
    assert titles(retired) == titles(colleague) == titles(client.owner) == []
    notification = Notification.objects.get(recipient=director)
    assert notification.body == (
        "No more reminders go to the client for these invoices; call them. Next steps for Trần Thu Hà, due "
        f"16/03/2026.\n\n{client.name} (account manager: Lê Minh Đức)\n"
        f"· {invoice.number}, due 14/02/2026: 110,000,000 ₫ outstanding (L4 · escalated)"
    )
    assert (notification.url, notification.level) == ("/collections/", "danger")
    task = Activity.objects.get(client=client)
    assert (task.next_step_owner, task.next_step_due, task.is_system) == (finance, TODAY, True)
    assert task.next_step == f"Call {client.name} about the invoices 30 days overdue: {invoice.number}"
    assert CollectionNotice.objects.get().level == CollectionLevel.ESCALATED
    assert InvoiceEvent.objects.get(invoice=invoice, kind=InvoiceEventKind.ESCALATED).actor is None


def test_the_escalations_of_a_batch_make_one_notification_per_person_naming_the_first_twenty_clients(finance):
    names = [f"Công ty Đối tác {number:02d}" for number in range(23)]
    for name in names:
        invoice_due(TODAY - timedelta(days=31), client=billing_client(name=name))

    assert sweep(TODAY) == 23

    [notification] = Notification.objects.filter(recipient=finance)
    assert notification.title == f"Collection escalated, 30 days overdue: {', '.join(names)}"[:200]
    assert all(f"{name} (account manager: Lê Minh Đức)" in notification.body for name in names[:20])
    assert names[20] not in notification.body
    assert notification.body.endswith("… and 3 more clients: see the Collections board.")
    assert Activity.objects.filter(next_step_owner=finance, next_step_due=TODAY).count() == 23


def test_without_finance_the_escalation_task_goes_to_a_director(director):
    later_director = UserFactory(role=Role.DIRECTOR)
    client = billing_client()
    invoice_due(TODAY - timedelta(days=45), client=client)

    sweep(TODAY)

    assert Activity.objects.get(client=client).next_step_owner == director
    assert len(titles(later_director)) == 1


def test_an_escalation_and_a_reminder_the_same_day_make_one_email_and_one_timeline_entry(finance):
    client = billing_client(language="en")
    escalated = invoice_due(TODAY - timedelta(days=30), client=client)
    due_today = invoice_due(TODAY, client=client)

    assert sweep(TODAY) == 2

    [message] = client_mail()
    assert message.subject == f"[{AGENCY}] Payment due today · {client.name}"
    assert escalated.number in message.body and due_today.number in message.body  # the balance is all of it
    assert titles(finance) == [f"Collection escalated, 30 days overdue: {client.name}"]
    entry = Activity.objects.get(client=client)
    assert entry.next_step_owner == finance and entry.kind == ActivityKind.EMAIL


def test_a_client_without_a_billing_email_address_has_its_account_manager_told_once_that_day():
    client = billing_client(contact=False)
    ContactFactory(client=client, is_billing=True, email="")
    ContactFactory(client=client, is_billing=False, email="ceo@huongsen.test")
    invoice = invoice_due(TODAY, client=client)

    sweep(TODAY)
    sweep(TODAY)

    assert client_mail() == []
    assert titles(client.owner) == [f"Follow-up not sent: {client.name} has no billing contact"]
    body = Notification.objects.get(recipient=client.owner).body
    assert "(L1 · due today)" in body and invoice.number in body
    assert Notification.objects.get(recipient=client.owner).url == f"/clients/{client.pk}/"
    assert levels(invoice) == [1]
    assert Activity.objects.get(client=client).subject == (
        f"Payment reminder not sent, no billing contact (L1 · due today): {invoice.number}"
    )


def test_an_account_manager_hears_once_a_sweep_of_all_their_clients_without_a_billing_address():
    first = billing_client(contact=False, name="Công ty Hương Sen")
    second = ClientFactory(name="Công ty Hoa Mai", owner=first.owner)
    invoices = [invoice_due(TODAY, client=first), invoice_due(TODAY - timedelta(days=7), client=second)]

    sweep(TODAY)
    sweep(TODAY)

    assert titles(first.owner) == ["Follow-up not sent: 2 clients have no billing contact"]
    body = Notification.objects.get(recipient=first.owner).body
    for client, invoice in zip((first, second), invoices, strict=True):
        assert client.name in body and invoice.number in body
    assert "(L2 · 7 days overdue)" in body
    assert [levels(invoice) for invoice in invoices] == [[1], [2]]
    assert Activity.objects.filter(client__in=[first, second]).count() == 2  # each client's timeline says so


# --- Logs --------------------------------------------------------------------------------------------------------


def test_every_step_is_logged_on_its_invoice_and_once_a_day_on_the_client_timeline():
    client = billing_client()
    contact = client.contacts.get()
    first = invoice_due(TODAY - timedelta(days=7), client=client)
    second = invoice_due(TODAY + timedelta(days=3), client=client)

    sweep(TODAY)

    notice = CollectionNotice.objects.get()
    assert (notice.client, notice.sent_on, notice.level) == (client, TODAY, CollectionLevel.OVERDUE)
    assert sorted(CollectionStep.objects.values_list("invoice", "level", "taken_on", "notice")) == [
        (first.pk, 2, TODAY, notice.pk),
        (second.pk, 0, TODAY, notice.pk),
    ]
    events = {event.invoice_id: event for event in InvoiceEvent.objects.filter(kind=InvoiceEventKind.FOLLOW_UP)}
    assert events[first.pk].note == f"L2 · 7 days overdue: e-mailed to Nguyễn Thị Lan <{contact.email}>"
    assert events[second.pk].note == f"L0 · courtesy reminder: e-mailed to Nguyễn Thị Lan <{contact.email}>"
    assert events[first.pk].actor is None
    entry = Activity.objects.get()
    assert (entry.client, entry.author, entry.is_system, entry.kind) == (client, client.owner, True, "email")
    assert entry.subject == f"Payment reminder e-mailed (L2 · 7 days overdue): {first.number}, {second.number}"
    assert f"{first.number}, due 09/03/2026: 110,000,000 ₫ outstanding (L2 · 7 days overdue)" in entry.body
    assert f"Sent to: Nguyễn Thị Lan <{contact.email}>" in entry.body
    assert entry.next_step == "" and entry.next_step_due is None


# --- The e-mail ----------------------------------------------------------------------------------------------------


def test_the_vietnamese_email_in_words_money_and_dates():
    client = billing_client(language="vi", name="Công ty TNHH Thực phẩm Đồng Nai")
    client.owner.phone = "+84 90 123 4567"
    client.owner.save(update_fields=["phone"])
    overdue = invoice_due(date(2026, 3, 8), client=client, net="100000000")
    pay(overdue, "10000000", on=date(2026, 3, 10))
    coming = invoice_due(date(2026, 3, 18), client=client, net="25000000")

    sweep(TODAY)

    [message] = client_mail()
    assert message.subject == f"[{AGENCY}] Hóa đơn quá hạn: đề nghị thanh toán · Công ty TNHH Thực phẩm Đồng Nai"
    body = message.body
    assert body.startswith("Kính gửi Nguyễn Thị Lan,\n\nTheo ghi nhận của chúng tôi, các hóa đơn dưới đây của ")
    assert (
        f"- {overdue.number} · ngày phát hành 06/02/2026 · hạn thanh toán 08/03/2026\n"
        "  Tổng tiền 110.000.000 ₫ · còn phải trả 100.000.000 ₫ · quá hạn 8 ngày"
    ) in body
    assert (
        f"- {coming.number} · ngày phát hành 16/02/2026 · hạn thanh toán 18/03/2026\n"
        "  Tổng tiền 27.500.000 ₫ · còn phải trả 27.500.000 ₫ · chưa đến hạn"
    ) in body
    assert "Tổng số dư còn phải thanh toán: 127.500.000 ₫" in body
    assert f"Thông tin thanh toán:\n{INSTRUCTIONS}" in body
    assert body.rstrip().endswith(f"Trân trọng,\n{AGENCY}\nLê Minh Đức · {client.owner.email} · +84 90 123 4567")
    html = message.alternatives[0]
    assert html[1] == "text/html"
    assert '<th style="border-bottom:1px solid #dee2e6">Số hóa đơn</th>' in html[0]
    assert "127.500.000 ₫" in html[0] and "Kính gửi Nguyễn Thị Lan," in html[0]
    assert "http" not in body and "href" not in html[0]  # no links into Accord in client mail
    assert message.reply_to == [client.owner.email]


def test_the_english_email_in_words_money_and_dates():
    client = billing_client(language="en", name="Công ty Cổ phần Bình Minh")
    invoice = invoice_due(date(2026, 3, 16), client=client, currency="USD", net="1136.82")

    sweep(TODAY)

    [message] = client_mail()
    assert message.subject == f"[{AGENCY}] Payment due today · Công ty Cổ phần Bình Minh"
    assert message.body.startswith(
        "Dear Nguyễn Thị Lan,\n\nThe invoices below for Công ty Cổ phần Bình Minh fall due today."
    )
    assert (
        f"- {invoice.number} · issued 14/02/2026 · due 16/03/2026\n"
        "  Amount 1,250.50 USD · outstanding 1,250.50 USD · due today"
    ) in message.body
    assert "Open balance: 1,250.50 USD" in message.body
    assert f"How to pay:\n{INSTRUCTIONS}" in message.body
    assert '<th style="border-bottom:1px solid #dee2e6">Invoice</th>' in message.alternatives[0][0]


def test_one_day_overdue_in_english_is_singular():
    client = billing_client(language="en")
    invoice_due(TODAY - timedelta(days=8), client=client)
    invoice_due(TODAY - timedelta(days=1), client=client)

    sweep(TODAY)

    [message] = client_mail()
    assert "· 8 days overdue" in message.body and "· 1 day overdue" in message.body


def test_the_balance_is_given_per_currency():
    client = billing_client(language="en")
    invoice_due(TODAY, client=client, currency="VND", net="10000000")
    invoice_due(TODAY, client=client, currency="USD", net="100")

    sweep(TODAY)

    [message] = client_mail()
    assert "Open balance: 110.00 USD + 11,000,000 ₫" in message.body


def test_without_payment_instructions_the_email_says_nothing_about_them(settings):
    settings.ACCORD_PAYMENT_INSTRUCTIONS = ""
    invoice_due(TODAY, client=billing_client(language="en"))

    sweep(TODAY)

    [message] = client_mail()
    assert "How to pay" not in message.body and "How to pay" not in message.alternatives[0][0]


def test_a_client_name_is_escaped_in_the_html_copy():
    invoice_due(TODAY, client=billing_client(language="en", name="Bánh & <Kem>"))

    sweep(TODAY)

    [message] = client_mail()
    assert "Bánh &amp; &lt;Kem&gt;" in message.alternatives[0][0] and "<Kem>" not in message.alternatives[0][0]
    assert message.subject == f"[{AGENCY}] Payment due today · Bánh & <Kem>"


# --- Once ------------------------------------------------------------------------------------------------------


def test_running_the_sweep_twice_the_same_day_sends_nothing_new():
    client = billing_client()
    invoice_due(TODAY, client=client)
    invoice_due(TODAY - timedelta(days=30), client=billing_client(contact=False))

    assert sweep(TODAY) == 2
    sent, notifications = len(mail.outbox), Notification.objects.count()
    assert sweep(TODAY) == 0

    assert len(mail.outbox) == sent
    assert Notification.objects.count() == notifications
    assert CollectionStep.objects.count() == 2 and CollectionNotice.objects.count() == 2
    assert (
        Activity.objects.count() == 2 and InvoiceEvent.objects.filter(kind__in=["follow_up", "escalated"]).count() == 2
    )


def test_a_client_followed_up_today_waits_until_tomorrow_for_an_invoice_issued_since():
    client = billing_client()
    invoice_due(TODAY - timedelta(days=7), client=client)
    sweep(TODAY)
    issued_later = invoice_due(TODAY, client=client)

    assert sweep(TODAY) == 0
    assert levels(issued_later) == []

    assert sweep(TODAY + timedelta(days=1)) == 1
    assert levels(issued_later) == [1]
    assert len(client_mail()) == 2


def test_a_notice_another_sweep_claimed_first_takes_no_step_of_that_client(monkeypatch):
    taken_client, free_client = billing_client(), billing_client()
    taken = invoice_due(TODAY, client=taken_client)
    free = invoice_due(TODAY, client=free_client)
    claim = the_sweep.claim_notices

    def another_sweep_claims_first(levels_by_client, today):
        CollectionNotice.objects.create(client=taken_client, sent_on=today, level=1)
        return claim(levels_by_client, today)

    monkeypatch.setattr(the_sweep, "claim_notices", another_sweep_claims_first)
    assert sweep(TODAY) == 1

    assert (levels(taken), levels(free)) == ([], [1])
    assert [message.to[0] for message in client_mail()] == [free_client.contacts.get().email]


def test_a_step_another_sweep_took_first_leaves_the_notice_at_what_was_taken(monkeypatch):
    client = billing_client(language="en")
    final = invoice_due(TODAY - timedelta(days=14), client=client)
    invoice_due(TODAY, client=client)
    claim = the_sweep.claim_steps

    def another_sweep_takes_the_final_notice(invoices, notices, today):
        CollectionStep.objects.create(invoice=final, level=3, taken_on=today)
        return claim(invoices, notices, today)

    monkeypatch.setattr(the_sweep, "claim_steps", another_sweep_takes_the_final_notice)
    assert sweep(TODAY) == 1

    assert CollectionNotice.objects.get().level == CollectionLevel.DUE
    [message] = client_mail()
    assert message.subject.startswith(f"[{AGENCY}] Payment due today")


def test_a_failed_batch_leaves_no_claim_log_or_notification(monkeypatch):
    invoice_due(TODAY - timedelta(days=30))
    invoice_due(TODAY, client=billing_client(contact=False))
    UserFactory(role=Role.FINANCE)

    def fail():
        raise OperationalError("the connection dropped")

    monkeypatch.setattr(the_sweep, "_pause_for_tests", fail)
    with pytest.raises(OperationalError):
        sweep(TODAY)

    assert not CollectionNotice.objects.exists() and not CollectionStep.objects.exists()
    assert not InvoiceEvent.objects.filter(kind__in=["follow_up", "escalated"]).exists()
    assert not Activity.objects.exists() and not Notification.objects.exists() and mail.outbox == []
    monkeypatch.undo()
    assert sweep(TODAY) == 2


def test_batches_walk_every_client():
    invoices = [invoice_due(TODAY) for _ in range(5)]

    assert sweep(TODAY, batch_size=2) == 5

    assert set(CollectionStep.objects.values_list("invoice", flat=True)) == {invoice.pk for invoice in invoices}
    assert len(client_mail()) == 5


@pytest.mark.parametrize("clients", [2, 20])
def test_a_batch_costs_a_fixed_number_of_queries_whatever_its_clients(clients):
    for _ in range(clients):
        client = billing_client()
        invoice_due(TODAY, client=client)
        invoice_due(TODAY - timedelta(days=7), client=client)

    with CaptureQueriesContext(connection) as captured:
        assert send_follow_ups(today=TODAY, batch_size=50) == 2 * clients

    # Fixed: the directors and finance; per batch, its savepoint, the clients' ids, their invoices, the notices'
    # INSERT, the steps' INSERT, the clients with their owners, the billing contacts, the invoice events' and the
    # timeline entries' INSERTs and the release; the empty batch that ends the walk: savepoint, SELECT, release.
    assert len(captured) == 1 + 10 + 3


def test_the_email_task_sends_each_contact_one_copy_however_often_it_runs():
    client = billing_client()
    invoice_due(TODAY, client=client)
    with TestCase.captureOnCommitCallbacks(execute=False):
        send_follow_ups(today=TODAY)
    notice, contact = CollectionNotice.objects.get(), client.contacts.get()

    with TestCase.captureOnCommitCallbacks(execute=True):  # the e-mail leaves once the claim commits
        assert deliver_notice_email(notice_id=notice.pk, contact_id=contact.pk) is True
        assert deliver_notice_email(notice_id=notice.pk, contact_id=contact.pk) is False

    assert len(client_mail()) == 1
    assert NoticeDelivery.objects.filter(notice=notice, contact=contact).count() == 1


def test_a_mail_server_failure_keeps_the_email_queued_and_the_claim_so_it_is_sent_once(smtp_server):
    client = billing_client()
    invoice_due(TODAY, client=client)
    with TestCase.captureOnCommitCallbacks(execute=False):
        send_follow_ups(today=TODAY)
    notice, contact = CollectionNotice.objects.get(), client.contacts.get()
    smtp_server.refusing = "421"

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert deliver_notice_email(notice_id=notice.pk, contact_id=contact.pk) is True
    email = OutgoingEmail.objects.get(to=[contact.email])
    assert (email.status, email.attempts) == ("queued", 1) and "421" in email.last_error
    assert NoticeDelivery.objects.filter(notice=notice, contact=contact).count() == 1

    smtp_server.refusing = None
    assert deliver_notice_email(notice_id=notice.pk, contact_id=contact.pk) is False
    assert mail_queue.deliver(email.pk) is True
    assert len(smtp_server.received_by(contact.email)) == 1


def test_an_email_whose_invoices_were_paid_since_the_sweep_is_not_sent():
    client = billing_client()
    invoice = invoice_due(TODAY, client=client)
    with TestCase.captureOnCommitCallbacks(execute=False):
        send_follow_ups(today=TODAY)
    pay(invoice, "110000000", on=TODAY)

    notice = CollectionNotice.objects.get()
    assert deliver_notice_email(notice_id=notice.pk, contact_id=client.contacts.get().pk) is False

    assert client_mail() == [] and not NoticeDelivery.objects.exists()


def test_an_escalation_notice_or_another_clients_contact_gets_no_email():
    client = billing_client()
    notice = CollectionNotice.objects.create(client=client, sent_on=TODAY, level=CollectionLevel.ESCALATED)
    invoice_due(TODAY - timedelta(days=30), client=client)
    stranger = ContactFactory(is_billing=True)
    ordinary = CollectionNotice.objects.create(client=client, sent_on=TODAY - timedelta(days=1), level=1)

    assert deliver_notice_email(notice_id=notice.pk, contact_id=client.contacts.get().pk) is False
    assert deliver_notice_email(notice_id=ordinary.pk, contact_id=stranger.pk) is False
    assert client_mail() == []


# --- Task and schedule ---------------------------------------------------------------------------------------------


def test_the_task_takes_the_follow_ups_of_the_day_it_is_given():
    invoice = invoice_due(TODAY)

    assert send_collection_follow_ups_task.delay(today=TODAY.isoformat()).get() == 1
    assert send_collection_follow_ups_task.delay(today=TODAY.isoformat(), batch_size=10).get() == 0

    assert levels(invoice) == [1]


def test_the_sweep_runs_every_day_at_nine_local_time():
    entry = settings.CELERY_BEAT_SCHEDULE["send-collection-follow-ups"]

    assert entry["task"] == "contracts.tasks.send_collection_follow_ups_task"
    assert entry["schedule"] == crontab(hour=9, minute=0)
    assert settings.CELERY_TIMEZONE == "Asia/Ho_Chi_Minh"
