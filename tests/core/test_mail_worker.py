"""SMTP failing (issue 9, faults), end to end: a real ``celery worker`` on Redis delivers the mail queue through a
mail server the test owns (tests/mail_support.py), which refuses, then recovers. The e-mail waits, is retried by
the sweep, and arrives once.

The worker reads a queue of this test's own (the mail tasks are routed to it from this process), so the session's
shared worker, which delivers to a file mailbox, cannot take them.
"""

import os
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.models import OutgoingEmail, OutgoingEmailStatus
from core.tasks import deliver_email_task, retry_due_emails_task
from tests.conftest import celery_worker, forget_queue, redis_answers, require, wait_for
from tests.factories import UserFactory
from tests.mail_support import FakeSmtpServer

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = f"mail-test-{os.getpid()}"


@pytest.fixture
def mail_tasks_on_own_queue(settings, monkeypatch):
    require(bool(settings.REDIS_URL), "needs Redis (set REDIS_URL=redis://127.0.0.1:6379/4)")
    require(redis_answers(settings.REDIS_URL), f"Redis does not answer at {settings.REDIS_URL}")
    require(settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), "needs PostgreSQL (set DATABASE_URL)")
    for task in (deliver_email_task, retry_due_emails_task):
        monkeypatch.setattr(task, "delay", lambda *args, task=task: task.apply_async(args, queue=QUEUE))
    import redis

    broker = redis.Redis.from_url(settings.REDIS_URL)
    yield
    forget_queue(broker, QUEUE)


def finished_deliveries(log) -> list[str]:
    return [line for line in log.read_text().splitlines() if "deliver_email_task[" in line and "succeeded" in line]


def test_a_refused_email_is_retried_by_the_worker_and_delivered_once(mail_tasks_on_own_queue, tmp_path):
    UserFactory(email="phuc@agency.test", full_name="Lê Văn Phúc")
    log = tmp_path / "worker.log"
    with (
        FakeSmtpServer(refusing="421") as smtp_server,
        celery_worker(log, "mail", queues=QUEUE, environment={"EMAIL_URL": smtp_server.url, "EMAIL_TIMEOUT": "5"}),
    ):
        response = Client().post("/password/reset/", {"email": "phuc@agency.test"}, follow=True)

        assert response.status_code == 200 and "Check your e-mail" in response.content.decode()
        email = OutgoingEmail.objects.get()
        wait_for(lambda: OutgoingEmail.objects.filter(pk=email.pk, attempts=1).exists(), timeout=60)
        email.refresh_from_db()
        assert email.status == OutgoingEmailStatus.QUEUED and "421" in email.last_error
        assert smtp_server.attempts == 1 and smtp_server.messages == []

        smtp_server.refusing = None
        OutgoingEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        retry_due_emails_task.delay()
        wait_for(lambda: OutgoingEmail.objects.filter(pk=email.pk, status=OutgoingEmailStatus.SENT).exists(), 60)

        deliver_email_task.delay(email.pk)  # a redelivered task: finds it sent
        wait_for(lambda: len(finished_deliveries(log)) == 2, timeout=60)

    [received] = smtp_server.messages
    assert received.recipients == ["phuc@agency.test"]
    assert "/password/reset/" in received.message.get_payload(decode=True).decode()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmailStatus.SENT, 2)
    assert [line.rsplit(": ", 1)[1] for line in finished_deliveries(log)] == ["False", "False"]
    assert "retry_due_emails_task" in log.read_text()
