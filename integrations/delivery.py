"""Sending one delivery: claim the attempt, POST the signed event, record the answer and when to try again.

The retry schedule lives in the row (``next_attempt_at``), not in the broker: a beat sweep every minute
(``enqueue_due_deliveries``) queues what is due, so a lost message or a worker killed mid-send delays a delivery by
at most ``LEASE`` and never loses it. An attempt is claimed with one conditional UPDATE on (id, attempts): of two
tasks for the same attempt (the sweep's and a redelivered message) one sends, the other does nothing. The claim
also pushes ``next_attempt_at`` a lease ahead, so the sweep leaves an attempt in flight alone; should the worker die
during the POST, the sweep takes the delivery again after the lease (the receiver then sees the same event id
twice: deliveries are at least once).

After a non-2xx answer, a network error or a timeout the next attempt waits 1, 2, 4, … minutes (at most an hour,
±10 % jitter); past 24 hours after the delivery was created it gives up.
"""

import json
import random
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.models import DUE_STATUSES, DeliveryStatus, WebhookDelivery
from integrations.network import Response, UnsafeURLError, check_url, post
from integrations.signing import signature_header

LEASE = timedelta(minutes=5)  # longer than the task's hard time limit
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
RETRY_WINDOW = timedelta(hours=24)
JITTER = 0.1
USER_AGENT = "Accord-Webhooks/1"


def retry_delay(attempts: int, *, jitter: float | None = None) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 1 min doubling to 1 h, ±10 % (``jitter`` in
    [-1, 1] picks the point in that band; random by default, so endpoints that failed together spread out)."""
    jitter = random.uniform(-1, 1) if jitter is None else jitter  # noqa: S311 - spreading load, not a secret
    base = min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_RETRY)
    return base * (1 + JITTER * jitter)


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.event.payload(), ensure_ascii=False, separators=(",", ":")).encode()


def signing_secrets(endpoint, now: datetime) -> list[str]:
    """The endpoint's secret, and the one it replaced during the grace period after a rotation."""
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        secrets.append(endpoint.previous_secret)
    return secrets


def headers_for(delivery: WebhookDelivery, body: bytes, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accord-Webhook-Id": str(delivery.event_id),
        "Accord-Webhook-Event": delivery.event.type,
        "Accord-Webhook-Timestamp": str(timestamp),
        "Accord-Signature": signature_header(signing_secrets(delivery.endpoint, now), timestamp, body),
    }


def claim(delivery_id: int, attempts: int, now: datetime) -> WebhookDelivery | None:
    """Take attempt number ``attempts + 1`` of the delivery; None when it was taken, finished or is not due."""
    taken = WebhookDelivery.objects.filter(
        pk=delivery_id, attempts=attempts, status__in=DUE_STATUSES, next_attempt_at__lte=now + LEASE
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + LEASE, last_attempt_at=now, updated_at=now)
    if not taken:
        return None
    return WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)


def attempt_delivery(*, delivery_id: int, attempts: int, now: datetime | None = None) -> str | None:
    """Make attempt ``attempts + 1`` of a delivery; its status afterwards, or None when there was nothing to do."""
    now = now or timezone.now()
    delivery = claim(delivery_id, attempts, now)
    if delivery is None:
        return None
    if now > delivery.created_at + RETRY_WINDOW:  # attempts that crashed the task (never recorded) end here too
        return _record(delivery, Response(None, "", 0, _("No answer within 24 hours.")), now, final=True, gave_up=True)
    if not delivery.endpoint.is_active:
        return _record(delivery, Response(None, "", 0, _("The endpoint is switched off.")), now, final=True)
    try:
        target = check_url(delivery.endpoint.url)
    except UnsafeURLError as error:
        return _record(delivery, Response(None, "", 0, error.message), now, final=True)
    body = body_of(delivery)
    return _record(delivery, post(target, body, headers_for(delivery, body, now)), now)


def _record(
    delivery: WebhookDelivery, response: Response, now: datetime, *, final: bool = False, gave_up: bool = False
) -> str:
    """Write the attempt's outcome, unless another worker took a later attempt meanwhile (its lease ran out)."""
    if response.status_code is not None and 200 <= response.status_code < 300:
        status, next_attempt = DeliveryStatus.SUCCEEDED, None
    elif final:
        status, next_attempt = (DeliveryStatus.GAVE_UP if gave_up else DeliveryStatus.FAILED), None
    else:
        next_attempt = now + retry_delay(delivery.attempts)
        status = DeliveryStatus.RETRYING
        if next_attempt > delivery.created_at + RETRY_WINDOW:
            status, next_attempt = DeliveryStatus.GAVE_UP, None
    error = response.error or ("" if status == DeliveryStatus.SUCCEEDED else _("HTTP %s") % response.status_code)
    WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
        status=status,
        next_attempt_at=next_attempt,
        last_status_code=response.status_code,
        last_error=error[:500],
        response_excerpt=response.excerpt,
        duration_ms=response.duration_ms,
        updated_at=timezone.now(),
    )
    return status


def due_deliveries(now: datetime, limit: int) -> list[tuple[int, int]]:
    """(id, attempts) of the deliveries whose next attempt is due, oldest first; each is leased for ``LEASE`` so the
    next sweeps leave it to the task queued now."""
    due = list(
        WebhookDelivery.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", "attempts")[:limit]
    )
    if due:
        WebhookDelivery.objects.filter(pk__in=[pk for pk, _attempts in due], status__in=DUE_STATUSES).update(
            next_attempt_at=now + LEASE
        )
    return due
