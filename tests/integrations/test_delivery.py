"""Delivery: signed POSTs to a real HTTP receiver on 127.0.0.1, retries with exponential backoff and jitter until
24 hours after the delivery was created, one sender per attempt, and the sweep that takes what is due or lost."""

import json
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from integrations import services
from integrations.delivery import (
    LEASE,
    RETRY_WINDOW,
    attempt_delivery,
    due_deliveries,
    retry_delay,
    signing_secrets,
)
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from integrations.signing import sign, verify
from integrations.tasks import send_due_webhooks_task
from tests.factories import ClientFactory

from .conftest import make_endpoint

pytestmark = pytest.mark.django_db


def pending_delivery(endpoint, event_type="client.created") -> WebhookDelivery:
    with transaction.atomic():
        event = services.emit(event_type, ClientFactory(name="Công ty Sữa Ba Vì"))
    return WebhookDelivery.objects.get(event=event, endpoint=endpoint)


def test_backoff_doubles_from_a_minute_to_an_hour_with_ten_percent_jitter():
    assert [retry_delay(attempts, jitter=0) for attempts in (1, 2, 3, 4, 7, 8, 30)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
        timedelta(hours=1),
        timedelta(hours=1),
        timedelta(hours=1),
    ]
    assert retry_delay(3, jitter=1) == timedelta(minutes=4.4)
    assert retry_delay(3, jitter=-1) == timedelta(minutes=3.6)
    assert all(timedelta(minutes=3.6) <= retry_delay(3) <= timedelta(minutes=4.4) for _ in range(50))


def test_a_signed_post_reaches_a_real_receiver(receiver, allow_private, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(url=receiver.url, events=["client.created"])

    # The task runs in-process when the transaction commits.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = services.emit("client.created", ClientFactory(name="Công ty Sữa Ba Vì"))

    delivery = WebhookDelivery.objects.get(event=event)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.SUCCEEDED, 1, 200)
    assert delivery.response_excerpt == '{"ok": true}'
    assert delivery.duration_ms is not None
    [request] = receiver.requests
    assert request.path == "/hooks/accord"
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Accord-Webhooks/1"
    assert headers["Accord-Webhook-Id"] == str(event.id)
    assert headers["Accord-Webhook-Event"] == "client.created"
    timestamp = headers["Accord-Webhook-Timestamp"]
    assert headers["Accord-Signature"] == f"t={timestamp},v1={sign(endpoint.secret, int(timestamp), request.body)}"
    assert verify(endpoint.secret, headers["Accord-Signature"], request.body, now=int(time.time()))
    assert not verify("whsec_wrong", headers["Accord-Signature"], request.body, now=int(time.time()))
    assert not verify(endpoint.secret, headers["Accord-Signature"], request.body + b" ", now=int(time.time()))
    payload = json.loads(request.body)
    assert payload == {"id": str(event.id), "type": "client.created", "created": payload["created"], "data": event.data}
    assert payload["data"]["object"]["name"] == "Công ty Sữa Ba Vì"


def test_a_500_is_retried_and_the_next_attempt_succeeds(receiver, allow_private):
    receiver.statuses = [500, 200]
    endpoint = make_endpoint(url=receiver.url)
    delivery = pending_delivery(endpoint)
    now = timezone.now()

    assert attempt_delivery(delivery_id=delivery.pk, attempts=0, now=now) == DeliveryStatus.RETRYING
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (1, 500, "HTTP 500")
    assert delivery.response_excerpt == "receiver says no"
    assert now + timedelta(seconds=54) <= delivery.next_attempt_at <= now + timedelta(seconds=66)

    assert due_deliveries(now, 100) == []  # not due yet
    later = delivery.next_attempt_at
    assert due_deliveries(later, 100) == [(delivery.pk, 1)]
    assert attempt_delivery(delivery_id=delivery.pk, attempts=1, now=later) == DeliveryStatus.SUCCEEDED

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        DeliveryStatus.SUCCEEDED,
        2,
        200,
        "",
    )
    assert delivery.next_attempt_at is None
    assert len(receiver.requests) == 2
    assert receiver.requests[0].headers["Accord-Webhook-Id"] == receiver.requests[1].headers["Accord-Webhook-Id"]


def test_a_failing_endpoint_is_given_up_24_hours_after_the_delivery(receiver, allow_private):
    receiver.statuses = [503]
    delivery = pending_delivery(make_endpoint(url=receiver.url))
    now, attempts, gaps = timezone.now(), 0, []

    while (status := attempt_delivery(delivery_id=delivery.pk, attempts=attempts, now=now)) == "retrying":
        delivery.refresh_from_db()
        attempts += 1
        gaps.append(delivery.next_attempt_at - now)
        now = delivery.next_attempt_at

    delivery.refresh_from_db()
    assert status == DeliveryStatus.GAVE_UP
    assert delivery.next_attempt_at is None
    assert delivery.attempts == attempts + 1 == len(receiver.requests)
    assert 25 <= delivery.attempts <= 32  # 1, 2, 4 … 32 minutes, then hourly, for a day
    assert now <= delivery.created_at + RETRY_WINDOW < now + timedelta(hours=1.1)
    assert gaps[0] < timedelta(minutes=1.2) and gaps[5] > timedelta(minutes=28) and max(gaps) <= timedelta(hours=1.1)
    assert due_deliveries(now + timedelta(days=2), 100) == []


def test_a_network_error_is_retried(allow_private):
    delivery = pending_delivery(make_endpoint(url="http://127.0.0.1:9/closed-port"))

    assert attempt_delivery(delivery_id=delivery.pk, attempts=0) == DeliveryStatus.RETRYING

    delivery.refresh_from_db()
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("ConnectError")


def test_a_redirect_is_not_followed(receiver, allow_private):
    receiver.statuses = [302]
    delivery = pending_delivery(make_endpoint(url=receiver.url))

    assert attempt_delivery(delivery_id=delivery.pk, attempts=0) == DeliveryStatus.RETRYING
    assert len(receiver.requests) == 1


def test_an_attempt_is_sent_once_however_many_tasks_carry_it(receiver, allow_private):
    delivery = pending_delivery(make_endpoint(url=receiver.url))

    assert attempt_delivery(delivery_id=delivery.pk, attempts=0) == DeliveryStatus.SUCCEEDED
    assert attempt_delivery(delivery_id=delivery.pk, attempts=0) is None  # a redelivered message
    assert attempt_delivery(delivery_id=delivery.pk, attempts=1) is None  # finished

    assert len(receiver.requests) == 1


def test_an_attempt_in_flight_is_left_alone_then_retaken_after_a_dead_worker_s_lease(receiver, allow_private):
    receiver.statuses = [200]
    delivery = pending_delivery(make_endpoint(url=receiver.url))
    now = timezone.now()
    # A worker claimed attempt 1 and died before it recorded anything.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=1, next_attempt_at=now + LEASE)

    assert due_deliveries(now + LEASE - timedelta(seconds=1), 100) == []
    assert send_due_webhooks_task.apply(kwargs={}).get() == 0

    assert due_deliveries(now + LEASE, 100) == [(delivery.pk, 1)]
    assert attempt_delivery(delivery_id=delivery.pk, attempts=1, now=now + LEASE) == DeliveryStatus.SUCCEEDED
    delivery.refresh_from_db()
    assert delivery.attempts == 2


def test_the_sweep_queues_a_first_attempt_whose_message_was_lost(receiver, allow_private):
    delivery = pending_delivery(make_endpoint(url=receiver.url))  # queued on a commit that never ran here

    assert send_due_webhooks_task.apply(kwargs={}).get() == 1  # in-process: queued and run

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert send_due_webhooks_task.apply(kwargs={}).get() == 0


def test_a_switched_off_endpoint_fails_the_delivery_without_a_request(receiver, allow_private):
    endpoint = make_endpoint(url=receiver.url)
    delivery = pending_delivery(endpoint)
    endpoint.is_active = False
    endpoint.save()

    assert attempt_delivery(delivery_id=delivery.pk, attempts=0) == DeliveryStatus.FAILED
    assert receiver.requests == []


def test_after_a_rotation_both_secrets_sign_for_a_day(receiver, allow_private, admin):
    endpoint = make_endpoint(url=receiver.url)
    old_secret = endpoint.secret
    endpoint = services.endpoint_rotate_secret(endpoint=endpoint, actor=admin)
    delivery = pending_delivery(endpoint)

    attempt_delivery(delivery_id=delivery.pk, attempts=0)

    [request] = receiver.requests
    header = request.headers["Accord-Signature"]
    assert header.count("v1=") == 2
    assert verify(endpoint.secret, header, request.body, now=int(time.time()))
    assert verify(old_secret, header, request.body, now=int(time.time()))
    tomorrow = timezone.now() + timedelta(hours=25)
    assert signing_secrets(endpoint, tomorrow) == [endpoint.secret]


def test_redeliver_sends_the_same_event_again_as_a_new_delivery(receiver, allow_private, admin):
    receiver.statuses = [410]
    delivery = pending_delivery(make_endpoint(url=receiver.url))
    attempt_delivery(delivery_id=delivery.pk, attempts=0)
    receiver.statuses = [200]

    again = services.delivery_redeliver(delivery=delivery, actor=admin)
    assert attempt_delivery(delivery_id=again.pk, attempts=0) == DeliveryStatus.SUCCEEDED

    assert again.pk != delivery.pk and again.redelivery_of_id == delivery.pk
    assert [request.headers["Accord-Webhook-Id"] for request in receiver.requests] == [str(delivery.event_id)] * 2
    assert WebhookEvent.objects.count() == 1


def test_a_delivery_whose_attempts_keep_crashing_the_task_ends_after_24_hours(receiver, allow_private):
    delivery = pending_delivery(make_endpoint(url=receiver.url))
    # Every attempt so far was claimed and then lost (the task crashed or its worker died): nothing was recorded.
    later = delivery.created_at + RETRY_WINDOW + timedelta(minutes=1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=40, next_attempt_at=later - LEASE)

    assert attempt_delivery(delivery_id=delivery.pk, attempts=40, now=later) == DeliveryStatus.GAVE_UP
    assert receiver.requests == []
