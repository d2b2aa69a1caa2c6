"""Background work of accounts: notification e-mails and inbox housekeeping."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.models import Notification

logger = logging.getLogger(__name__)

READ_NOTIFICATIONS_KEPT_DAYS = 180


@shared_task
def send_notification_email_task(notification_id: int) -> bool:
    """E-mail one notification to its recipient, in their language, at most once.

    The row is locked while the e-mail is queued (core/mail.py) and ``emailed_at`` set in the same transaction: a
    concurrent or redelivered task waits, then finds it e-mailed and does nothing. The mail queue delivers it,
    retrying a mail server that refuses; one that never accepts leaves it failed in the admin, not lost.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id, send_email=True, emailed_at__isnull=True)
            .first()
        )
        if notification is None:
            return False
        recipient = notification.recipient
        with translation.override(recipient.preferred_language):
            context = {
                "notification": notification,
                "recipient": recipient,
                "site_url": settings.ACCORD_SITE_URL,
            }
            send_mail(
                subject=f"[Accord] {notification.title}",
                message=render_to_string("accounts/email/notification.txt", context),
                from_email=None,
                recipient_list=[recipient.email],
            )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


@shared_task
def prune_notifications_task(batch_size: int = 1000) -> int:
    """Delete notifications read more than 180 days ago, in batches; safe to run any number of times."""
    cutoff = timezone.now() - timedelta(days=READ_NOTIFICATIONS_KEPT_DAYS)
    deleted = 0
    while True:
        ids = list(Notification.objects.filter(read_at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        deleted += Notification.objects.filter(pk__in=ids).delete()[0]
    logger.info("pruned %s read notifications", deleted)
    return deleted
