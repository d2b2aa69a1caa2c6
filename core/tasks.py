"""Background work of core: housekeeping of the API's idempotency keys, the outbox relay and the mail queue."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from core import mail, outbox
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


# --- The mail queue (core/mail.py) ----------------------------------------------------------------------------


@shared_task(soft_time_limit=90, time_limit=120)
def deliver_email_task(email_id: int) -> bool:
    """Send one queued e-mail, at most once; a refusal is recorded on it for the sweep to retry, not raised."""
    return mail.deliver(email_id)


@shared_task(soft_time_limit=240, time_limit=300)
def retry_due_emails_task() -> int:
    """Send the queued e-mails whose next attempt is due (beat, every minute); how many went out."""
    sent, refused = mail.retry_due()
    if sent or refused:
        logger.info("mail queue: %s e-mails sent, %s refused again", sent, refused)
    return sent


@shared_task
def prune_sent_emails_task() -> int:
    """Delete e-mails sent longer ago than ACCORD_EMAIL_KEEP_SENT_DAYS (failed ones stay); safe to rerun."""
    deleted = mail.prune_sent()
    logger.info("pruned %s sent e-mails", deleted)
    return deleted
