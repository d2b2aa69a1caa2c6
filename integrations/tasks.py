"""Webhook tasks: one attempt of one delivery, and the sweep (beat, every minute) that queues the due ones."""

import logging

from celery import shared_task

from integrations import delivery

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 2000  # deliveries queued per sweep; the rest are still due a minute later


@shared_task(soft_time_limit=45, time_limit=60)
def deliver_webhook_task(delivery_id: int, attempts: int) -> str | None:
    """Make attempt ``attempts + 1`` of a delivery (nothing when another task took it): at most once per attempt."""
    return delivery.attempt_delivery(delivery_id=delivery_id, attempts=attempts)


@shared_task(time_limit=120)
def send_due_webhooks_task(limit: int = SWEEP_LIMIT) -> int:
    """Queue every delivery whose next attempt is due: retries, and first attempts whose message was lost or whose
    worker died. Safe to run concurrently (the attempt's claim decides)."""
    from django.utils import timezone

    due = delivery.due_deliveries(timezone.now(), limit)
    for delivery_id, attempts in due:
        deliver_webhook_task.delay(delivery_id, attempts)
    if due:
        logger.info("queued %s due webhook deliveries", len(due))
    return len(due)
