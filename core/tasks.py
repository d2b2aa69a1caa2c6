"""Background work of core: housekeeping of the API's idempotency keys."""

import logging

from celery import shared_task
from django.utils import timezone

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
