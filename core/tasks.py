"""Background work of core: housekeeping of the API's idempotency keys, and the outbox relay."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from core import outbox
from core.idempotency import KEY_LIFETIME
from core.models import IdempotencyKey

logger = logging.getLogger(__name__)


@shared_task
def prune_idempotency_keys_task(batch_size: int = 1000) -> int:
    """Delete idempotency keys older than 24 hours, in batches; safe to run any number of times, concurrently too."""
    cutoff = timezone.now() - KEY_LIFETIME
    deleted = 0
    while True:
        ids = list(IdempotencyKey.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        deleted += IdempotencyKey.objects.filter(pk__in=ids).delete()[0]
    logger.info("pruned %s idempotency keys", deleted)
    return deleted


@shared_task
def relay_outbox_task(older_than_seconds: int = 30) -> int:
    """Hand the background tasks that waited for the broker (it was down when they were asked for) to it."""
    sent, waiting = outbox.relay(older_than=timedelta(seconds=older_than_seconds))
    if sent or waiting:
        logger.info("outbox: %s tasks handed to the broker, %s still waiting", sent, waiting)
    return sent
