"""The mail queue (issue 9, faults: SMTP failing → mail retried, not lost, and visible to an administrator).

Every e-mail is a row written with the change that sends it; delivery goes through a mail server the test owns
(tests/mail_support.py, set as EMAIL_URL), which refuses, then recovers.
"""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives, send_mail
from django.db import transaction
from django.utils import timezone

from accounts.services import notify
from core import mail as mail_queue
from core.models import OutgoingEmail, OutgoingEmailStatus
from core.tasks import prune_sent_emails_task, retry_due_emails_task
from tests.conftest import BASE_DIR
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

QUEUED, SENT, FAILED = OutgoingEmailStatus.QUEUED, OutgoingEmailStatus.SENT, OutgoingEmailStatus.FAILED


def backoff_elapses() -> None:
    """Time passes: every queued e-mail's next attempt is due."""
    OutgoingEmail.objects.filter(status=QUEUED).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_refusing_mail_server_keeps_the_email_queued_and_the_sweep_delivers_it_once(
    smtp_server, django_capture_on_commit_callbacks
):
    user = UserFactory(email="hanh@agency.test")
    smtp_server.refusing = "451"

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(user=user, title="Contract HD-2026-014 was signed")

    notification.refresh_from_db()
    assert notification.emailed_at is not None  # handed to the mail queue, for good
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts, email.to) == (QUEUED, 1, ["hanh@agency.test"])
    assert email.last_error.startswith("SMTPSenderRefused") and "451" in email.last_error
    assert timedelta(seconds=50) < email.next_attempt_at - timezone.now() <= timedelta(minutes=1)
    assert smtp_server.messages == []

    assert retry_due_emails_task() == 0  # not due yet: nothing tried
    assert smtp_server.attempts == 1
    backoff_elapses()
    assert retry_due_emails_task() == 0  # due, and refused again: the wait doubles
    email.refresh_from_db()
    assert (email.status, email.attempts) == (QUEUED, 2)
    assert timedelta(seconds=110) < email.next_attempt_at - timezone.now() <= timedelta(minutes=2)

    smtp_server.refusing = None
    backoff_elapses()
    assert retry_due_emails_task() == 1
    assert retry_due_emails_task() == 0
    assert mail_queue.deliver(email.pk) is False  # a redelivered task finds it sent

    [received] = smtp_server.messages
    assert received.recipients == ["hanh@agency.test"]
    assert received.message["Subject"] == "[Accord] Contract HD-2026-014 was signed"
    email.refresh_from_db()
    assert (email.status, email.attempts, email.next_attempt_at) == (SENT, 3, None)
    assert email.sent_at is not None
    assert received.message["Message-ID"] == email.headers["Message-ID"]  # fixed when queued, the same on retries


def test_the_sweep_stops_at_the_first_refusal_and_leaves_the_rest_for_its_next_run(smtp_server):
    smtp_server.refusing = "421"
    for number in range(3):
        send_mail(f"Reminder {number}", "Body", None, [f"person{number}@agency.test"])
    backoff_elapses()

    assert mail_queue.retry_due() == (0, 1)

    attempts = list(OutgoingEmail.objects.order_by("pk").values_list("attempts", flat=True))
    assert attempts == [1, 0, 0]
    assert OutgoingEmail.objects.get(attempts=1).last_error.startswith("SMTPConnectError")


def test_an_email_whose_task_was_lost_is_sent_by_the_sweep(smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # the task never reaches a worker
        send_mail("Statement of account", "Body", None, ["ketoan@client.test"])
    assert len(callbacks) == 1
    assert retry_due_emails_task() == 0  # the task still has its minute

    backoff_elapses()
    assert retry_due_emails_task() == 1

    assert [received.recipients for received in smtp_server.messages] == [["ketoan@client.test"]]
    callbacks[0]()  # the task comes after all: nothing twice
    assert len(smtp_server.messages) == 1


def test_after_the_last_attempt_the_email_is_failed_kept_and_not_retried(smtp_server, settings):
    settings.ACCORD_EMAIL_MAX_ATTEMPTS = 3
    smtp_server.refusing = "421"
    send_mail("Invoice INV-2026-0042", "Body", None, ["ketoan@client.test"])

    for _attempt in range(4):
        backoff_elapses()
        mail_queue.retry_due()

    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts, email.next_attempt_at) == (FAILED, 3, None)
    assert "421" in email.last_error
    assert smtp_server.attempts == 3
    assert mail_queue.prune_sent() == 0 and OutgoingEmail.objects.exists()


def test_password_reset_with_the_mail_server_down_shows_the_sent_page_and_the_link_arrives_later(
    client, smtp_server, django_capture_on_commit_callbacks
):
    UserFactory(email="phuc@agency.test", full_name="Lê Văn Phúc")
    smtp_server.refusing = "421"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/password/reset/", {"email": "phuc@agency.test"}, follow=True)

    assert response.status_code == 200
    assert "Check your e-mail" in response.content.decode()
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts, email.to) == (QUEUED, 1, ["phuc@agency.test"])
    assert smtp_server.messages == []

    smtp_server.refusing = None
    backoff_elapses()
    assert mail_queue.retry_due() == (1, 0)

    [received] = smtp_server.received_by("phuc@agency.test")
    body = received.message.get_payload(decode=True).decode()
    link = next(line for line in body.splitlines() if "/password/reset/" in line).split("testserver")[1]
    assert "Choose a new password" in client.get(link, follow=True).content.decode()


def test_a_failed_email_is_listed_in_the_admin_and_retry_now_sends_it(
    admin_client, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.ACCORD_EMAIL_MAX_ATTEMPTS = 1
    smtp_server.refusing = "451"
    send_mail("Follow-up: invoice INV-2026-0042", "Body", None, ["ketoan@client.test"])
    send_mail("Weekly KPI digest", "Body", None, ["director@agency.test"])
    backoff_elapses()
    assert [mail_queue.retry_due(), mail_queue.retry_due()] == [(0, 1), (0, 1)]  # failed after one attempt each
    failed = OutgoingEmail.objects.get(to=["ketoan@client.test"])
    assert failed.status == FAILED

    page = admin_client.get("/admin/core/outgoingemail/", {"status__exact": "failed", "q": "ketoan@client"})

    assert page.status_code == 200
    listed = page.content.decode()
    assert "Follow-up: invoice INV-2026-0042" in listed and "Weekly KPI digest" not in listed
    assert "SMTPSenderRefused" in listed
    assert admin_client.get(f"/admin/core/outgoingemail/{failed.pk}/change/").status_code == 200
    assert admin_client.get("/admin/core/outgoingemail/add/").status_code == 403

    smtp_server.refusing = None
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/core/outgoingemail/", {"action": "retry_now", "_selected_action": [failed.pk]}, follow=True
        )

    assert "1 e-mail queued to be sent again." in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (SENT, 2)
    assert [received.recipients for received in smtp_server.messages] == [["ketoan@client.test"]]


def test_a_rolled_back_change_sends_no_email(smtp_server, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send_mail("Never", "Body", None, ["nobody@agency.test"])
        raise RuntimeError("the change failed")

    assert not OutgoingEmail.objects.exists()
    assert smtp_server.attempts == 0


def test_the_stored_email_is_the_email_sent(django_capture_on_commit_callbacks):
    message = EmailMultiAlternatives(
        subject="Đề xuất: chiến dịch Tết 2027",
        body="Kính gửi anh Minh,",
        from_email="Accord Agency <accord@agency.test>",
        to=["minh@client.test"],
        cc=["lan@agency.test"],
        bcc=["archive@agency.test"],
        reply_to=["lan@agency.test"],
        headers={"Content-Language": "vi"},
    )
    message.attach_alternative("<p>Kính gửi anh Minh,</p>", "text/html")
    message.attach("bao-gia.csv", "hạng mục;giá\n", "text/csv")
    message.attach("logo.png", b"\x89PNG\r\n\x00\xff", "image/png")

    with django_capture_on_commit_callbacks(execute=True):
        assert message.send() == 1

    [sent] = mail.outbox
    assert (sent.subject, sent.body, sent.from_email) == (message.subject, message.body, message.from_email)
    assert (sent.to, sent.cc, sent.bcc, sent.reply_to) == (message.to, message.cc, message.bcc, message.reply_to)
    assert sent.extra_headers["Content-Language"] == "vi"
    assert list(sent.alternatives) == [("<p>Kính gửi anh Minh,</p>", "text/html")]
    assert [tuple(attachment) for attachment in sent.attachments] == [
        ("bao-gia.csv", "hạng mục;giá\n", "text/csv"),
        ("logo.png", b"\x89PNG\r\n\x00\xff", "image/png"),
    ]
    assert OutgoingEmail.objects.get().status == SENT


def test_sent_emails_are_pruned_after_the_kept_days_and_failed_ones_stay(settings):
    settings.ACCORD_EMAIL_KEEP_SENT_DAYS = 30
    now = timezone.now()
    old_sent = OutgoingEmail.objects.create(to=["a@x.test"], status=SENT, sent_at=now - timedelta(days=31))
    recent_sent = OutgoingEmail.objects.create(to=["b@x.test"], status=SENT, sent_at=now - timedelta(days=29))
    old_failed = OutgoingEmail.objects.create(to=["c@x.test"], status=FAILED, created_at=now - timedelta(days=90))
    old_queued = OutgoingEmail.objects.create(to=["d@x.test"], status=QUEUED, created_at=now - timedelta(days=90))

    assert prune_sent_emails_task() == 1

    assert set(OutgoingEmail.objects.values_list("pk", flat=True)) == {recent_sent.pk, old_failed.pk, old_queued.pk}
    assert not OutgoingEmail.objects.filter(pk=old_sent.pk).exists()


def test_healthz_reports_waiting_and_failed_emails_without_failing(client):
    OutgoingEmail.objects.create(to=["a@x.test"], status=FAILED)
    OutgoingEmail.objects.create(to=["b@x.test"], status=QUEUED)
    OutgoingEmail.objects.create(to=["c@x.test"], status=QUEUED)
    OutgoingEmail.objects.create(to=["d@x.test"], status=SENT)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["mail"] == {"queued": 2, "failed": 1}


def test_the_retry_delay_doubles_up_to_an_hour():
    delays = [mail_queue.retry_delay(attempts) for attempts in (1, 2, 3, 6, 7, 12)]

    assert delays == [timedelta(minutes=minutes) for minutes in (1, 2, 4, 32, 60, 60)]


def test_in_the_embedded_default_an_email_is_printed_on_the_console_at_once(tmp_path):
    environment = {
        key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "EMAIL_URL", "DATABASE_URL")
    }
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'accord.sqlite3'}"

    def manage(*arguments: str) -> str:
        command = [sys.executable, "manage.py", *arguments]
        result = subprocess.run(command, cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return result.stdout

    manage("migrate", "--skip-checks", "-v", "0")
    code = "from django.core.mail import send_mail; send_mail('Your first e-mail', 'Welcome to Accord', None, %r)"
    printed = manage("shell", "-c", code % ["lan@agency.test"])

    assert "Subject: Your first e-mail" in printed and "Welcome to Accord" in printed
    assert "To: lan@agency.test" in printed
