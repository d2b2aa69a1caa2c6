"""The outbox (core/outbox.py): a task asked for while the broker refuses it waits in the database instead of
failing the request or being lost, and the relay hands it over later. The broker's refusal is simulated here;
tests/core/test_outbox_worker.py stops a real Redis."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.tasks import send_notification_email_task
from config.celery import app
from core import outbox
from core.models import OutboxMessage
from core.tasks import relay_outbox_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(monkeypatch):
    """A broker as seen from the web process: ``down`` refuses every task, ``taken`` lists what it accepted."""

    class Broker:
        down = False
        taken: list = []

        def delay(self, *args):
            if self.down:
                raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
            self.taken.append(args)

    fake = Broker()
    fake.taken = []
    monkeypatch.setattr(send_notification_email_task, "delay", fake.delay)
    app.conf.task_always_eager = False  # a broker is configured (the suite's autouse fixture restores the setting)
    yield fake
    app.conf.task_always_eager = True


def test_a_task_is_handed_over_after_the_commit_and_forgotten(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.enqueue(send_notification_email_task, 42)
        assert OutboxMessage.objects.count() == 1  # written with the change that needs it
        assert broker.taken == []

    assert broker.taken == [(42,)]
    assert not OutboxMessage.objects.exists()


def test_a_task_the_broker_refuses_waits_with_its_error(broker, django_capture_on_commit_callbacks):
    broker.down = True

    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue(send_notification_email_task, 42)  # no exception reaches the page that asked

    message = OutboxMessage.objects.get()
    assert (message.task, message.args, message.attempts) == ("accounts.tasks.send_notification_email_task", [42], 1)
    assert "Connection refused" in message.last_error


def test_a_rolled_back_change_asks_for_nothing(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.enqueue(send_notification_email_task, 42)
        transaction.set_rollback(True)

    assert broker.taken == []
    assert not OutboxMessage.objects.exists()


def test_the_relay_hands_over_what_waited_oldest_first_once_the_broker_is_back(broker):
    old = timezone.now() - timedelta(minutes=5)
    for number in (1, 2):
        OutboxMessage.objects.create(task=send_notification_email_task.name, args=[number], created_at=old)
    OutboxMessage.objects.create(task=send_notification_email_task.name, args=[3])  # its request is handing it over

    assert relay_outbox_task() == 2

    assert broker.taken == [(1,), (2,)]
    assert list(OutboxMessage.objects.values_list("args", flat=True)) == [[3]]


def test_the_relay_stops_at_the_first_refusal_and_keeps_everything(broker):
    old = timezone.now() - timedelta(minutes=5)
    for number in (1, 2, 3):
        OutboxMessage.objects.create(task=send_notification_email_task.name, args=[number], created_at=old)
    broker.down = True

    assert outbox.relay() == (0, 3)

    assert OutboxMessage.objects.count() == 3
    assert list(OutboxMessage.objects.order_by("pk").values_list("attempts", flat=True)) == [1, 0, 0]


def test_without_a_broker_the_task_runs_in_process_after_the_commit(django_capture_on_commit_callbacks, monkeypatch):
    ran = []
    monkeypatch.setattr(send_notification_email_task, "delay", lambda *args: ran.append(args))

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.enqueue(send_notification_email_task, 7)
        assert ran == []

    assert ran == [(7,)]
    assert not OutboxMessage.objects.exists()  # nothing to keep: no broker to wait for


def test_the_admin_lists_waiting_tasks_read_only(admin_client):
    OutboxMessage.objects.create(task=send_notification_email_task.name, args=[5], attempts=2, last_error="refused")

    page = admin_client.get("/admin/core/outboxmessage/")

    assert page.status_code == 200
    assert "send_notification_email_task" in page.content.decode()
    assert admin_client.get("/admin/core/outboxmessage/add/").status_code == 403
