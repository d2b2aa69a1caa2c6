"""Webhooks with a real ``celery worker`` on Redis and PostgreSQL, delivering to a real receiver on 127.0.0.1.

The workers here read a queue of this test run's own, with WEBHOOKS_ALLOW_PRIVATE=true in their environment (the
receiver is on loopback); the test sends the delivery tasks to that queue, so the session's shared worker, which
refuses private addresses, never takes them.
"""

import os
import signal
import threading
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from clients import services as client_services
from integrations.models import DeliveryStatus, WebhookDelivery
from integrations.signing import sign
from integrations.tasks import deliver_webhook_task, send_due_webhooks_task
from tests.conftest import celery_worker as run_celery_worker
from tests.conftest import forget_queue, redis_answers, require, wait_for
from tests.factories import UserFactory

from .conftest import make_endpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = f"webhooks-test-{os.getpid()}"


@pytest.fixture
def broker():
    require(bool(settings.REDIS_URL), "needs Redis (set REDIS_URL=redis://127.0.0.1:6379/13)")
    require(redis_answers(settings.REDIS_URL), f"Redis does not answer at {settings.REDIS_URL}")
    require(settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), "needs PostgreSQL (set DATABASE_URL)")
    connection = redis.Redis.from_url(settings.REDIS_URL)
    connection.delete(QUEUE)
    yield connection
    forget_queue(connection, QUEUE)  # and the killed worker's task


@pytest.fixture
def to_this_run_s_queue(monkeypatch):
    monkeypatch.setattr(
        deliver_webhook_task, "delay", lambda *args: deliver_webhook_task.apply_async(args, queue=QUEUE)
    )


@contextmanager
def celery_worker(tmp_path: Path, name: str):
    """A solo ``celery worker`` in its own process group, on the test database, reading only this run's queue."""
    log = tmp_path / f"{name}.log"
    with run_celery_worker(log, name, queues=QUEUE, environment={"WEBHOOKS_ALLOW_PRIVATE": "true"}) as process:
        yield SimpleNamespace(process=process, log=log)


def delivery_of_new_client(receiver) -> WebhookDelivery:
    """A client created by its account manager; the webhook is queued when the transaction commits."""
    endpoint = make_endpoint(url=receiver.url, events=["client.created"])
    with transaction.atomic():
        client_services.client_create(actor=UserFactory(role=Role.ACCOUNT_MANAGER), name="Công ty Sữa Ba Vì")
    return WebhookDelivery.objects.select_related("endpoint").get(endpoint=endpoint)


def status_of(delivery: WebhookDelivery) -> tuple[str, int]:
    delivery.refresh_from_db()
    return delivery.status, delivery.attempts


def make_due(delivery: WebhookDelivery) -> None:
    """Skip the wait: the next attempt (a retry, or a retake after a lease) is due now."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_the_worker_delivers_after_commit_and_retries_a_500(
    broker, to_this_run_s_queue, receiver, allow_private, tmp_path
):
    receiver.statuses = [500, 200]
    with celery_worker(tmp_path, "webhooks"):
        delivery = delivery_of_new_client(receiver)
        wait_for(lambda: status_of(delivery) == (DeliveryStatus.RETRYING, 1), timeout=30)
        assert delivery.last_status_code == 500

        make_due(delivery)
        assert send_due_webhooks_task() == 1  # the beat sweep, run here: it queues the retry for the worker
        wait_for(lambda: status_of(delivery) == (DeliveryStatus.SUCCEEDED, 2), timeout=30)

    assert delivery.last_status_code == 200
    first, second = receiver.requests
    assert first.headers["Accord-Webhook-Id"] == second.headers["Accord-Webhook-Id"] == str(delivery.event_id)
    for request in (first, second):
        timestamp = int(request.headers["Accord-Webhook-Timestamp"])
        expected = f"t={timestamp},v1={sign(delivery.endpoint.secret, timestamp, request.body)}"
        assert request.headers["Accord-Signature"] == expected


def test_a_worker_killed_mid_delivery_loses_nothing(broker, to_this_run_s_queue, receiver, allow_private, tmp_path):
    receiver.hold = threading.Event()  # the receiver keeps the first request waiting
    with celery_worker(tmp_path, "killed") as worker:
        delivery = delivery_of_new_client(receiver)
        wait_for(lambda: len(receiver.requests) == 1, timeout=30)
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait()
    receiver.hold.set()  # the killed worker's request gets its answer into a closed socket
    receiver.hold = None
    assert status_of(delivery) == (DeliveryStatus.PENDING, 1)  # claimed, never recorded
    assert send_due_webhooks_task() == 0  # its lease has not run out: nobody takes it yet

    with celery_worker(tmp_path, "second"):
        make_due(delivery)  # the lease ran out
        assert send_due_webhooks_task() == 1
        wait_for(lambda: status_of(delivery) == (DeliveryStatus.SUCCEEDED, 2), timeout=30)

    assert len(receiver.requests) == 2  # at least once: the receiver dedupes by Accord-Webhook-Id
    assert {request.headers["Accord-Webhook-Id"] for request in receiver.requests} == {str(delivery.event_id)}
