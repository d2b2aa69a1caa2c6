"""Every e-mail Accord sends goes through a durable queue: a mail server that fails delays it, never loses it.

``QueuedEmailBackend`` is the EMAIL_BACKEND: ``send_mail``, ``EmailMessage.send()`` and Django's own senders (the
password reset) write an ``OutgoingEmail`` row in the caller's transaction and hand ``deliver_email_task`` to the
worker once it commits (through core/outbox.py, so a broker that is down delays it too, and no more). The task
sends the row through the real backend, ACCORD_EMAIL_DELIVERY_BACKEND (what EMAIL_URL names), and marks it sent
in the same transaction, under the row's lock: a concurrent or redelivered task skips it or finds it sent.

A refused attempt is counted, its error kept, and the next one scheduled with exponential backoff; the sweep
``retry_due_emails_task`` (beat, every minute) sends the rows that are due, and so also any whose task was lost.
After ACCORD_EMAIL_MAX_ATTEMPTS the row is failed: kept, listed in the admin ("Outgoing e-mails") with its error,
and sent again from there ("Retry now"). Sent rows are pruned after ACCORD_EMAIL_KEEP_SENT_DAYS; failed ones stay.

Exactly once as far as SMTP allows: the row is marked sent right after the server accepted the message, in the
transaction that locked it; only a commit failing after that acceptance would send it again (with the same
Message-ID, fixed when it was queued, which lets a receiving server recognise the copy).

With no broker (the embedded default) delivery runs in-process after the commit, and a failure is recorded, not
raised: the page that sent the e-mail still succeeds.
"""

import base64
import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from email.mime.base import MIMEBase

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from core.models import OutgoingEmail, OutgoingEmailStatus
from core.outbox import enqueue

logger = logging.getLogger(__name__)

RETRY_FIRST_DELAY = timedelta(minutes=1)  # doubled after each refused attempt ...
RETRY_LONGEST_DELAY = timedelta(hours=1)  # ... up to this
RETRY_BATCH = 100
PRUNE_BATCH = 1000


class QueuedEmailBackend(BaseEmailBackend):
    """Stores each message for the worker to deliver (see the module's docstring); never talks to a mail server."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        with transaction.atomic():
            queued = [queue(message) for message in email_messages if message.recipients()]
        return len(queued)


def queue(message: EmailMessage) -> OutgoingEmail:
    """Store ``message`` and deliver it once the current transaction commits (at once outside of one)."""
    from core.tasks import deliver_email_task

    headers = {str(name): str(value) for name, value in message.extra_headers.items()}
    if not any(name.lower() == "message-id" for name in headers):
        headers["Message-ID"] = make_msgid(domain=DNS_NAME)
    email = OutgoingEmail.objects.create(
        from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        reply_to=list(message.reply_to),
        subject=str(message.subject),
        body=str(message.body),
        alternatives=[[_text(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])],
        attachments=[_stored_attachment(attachment) for attachment in message.attachments],
        headers=headers,
        next_attempt_at=timezone.now() + RETRY_FIRST_DELAY,  # the sweep's turn if the task never comes
    )
    enqueue(deliver_email_task, email.pk)
    return email


def _text(content: str | bytes) -> str:
    return content.decode() if isinstance(content, bytes) else str(content)


def _stored_attachment(attachment) -> list:
    if isinstance(attachment, MIMEBase):
        filename, content = attachment.get_filename(), attachment.get_payload(decode=True)
        mimetype = attachment.get_content_type()
    else:
        filename, content, mimetype = attachment
    data = content.encode() if isinstance(content, str) else bytes(content)
    return [filename, base64.b64encode(data).decode("ascii"), mimetype]


def message_of(email: OutgoingEmail) -> EmailMultiAlternatives:
    """The stored e-mail as a message for a Django backend."""
    return EmailMultiAlternatives(
        subject=email.subject,
        body=email.body,
        from_email=email.from_email,
        to=email.to,
        cc=email.cc,
        bcc=email.bcc,
        reply_to=email.reply_to,
        headers=email.headers,
        alternatives=[(content, mimetype) for content, mimetype in email.alternatives],
        attachments=[(name, base64.b64decode(data), mimetype) for name, data, mimetype in email.attachments],
    )


# --- Delivery ------------------------------------------------------------------------------------------------


def deliver(email_id: int) -> bool:
    """Send one queued e-mail through the real backend; True when it went out now. Nothing happens (False) when
    it is sent or failed already or another process holds it; a refused attempt is recorded (False), not raised."""
    return _attempt(email_id) == OutgoingEmailStatus.SENT


def _attempt(email_id: int) -> str | None:
    """Status of the e-mail after one attempt to send it, None when there was nothing to attempt."""
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutgoingEmailStatus.QUEUED)
            .first()
        )
        if email is None:
            return None
        email.attempts += 1
        try:
            connection = get_connection(settings.ACCORD_EMAIL_DELIVERY_BACKEND, fail_silently=False)
            connection.send_messages([message_of(email)])
        except Exception as error:  # whatever the backend raises (smtplib, socket, a timeout): keep the e-mail
            _record_refusal(email, error)
        else:
            email.status, email.sent_at, email.next_attempt_at = OutgoingEmailStatus.SENT, timezone.now(), None
        email.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "sent_at"])
    return email.status


def _record_refusal(email: OutgoingEmail, error: Exception) -> None:
    email.last_error = f"{type(error).__name__}: {error}"[:2000]
    if email.attempts >= settings.ACCORD_EMAIL_MAX_ATTEMPTS:
        email.status, email.next_attempt_at = OutgoingEmailStatus.FAILED, None
        logger.error("e-mail %s to %s failed after %s attempts: %s", email.pk, email.to, email.attempts, error)
        return
    email.next_attempt_at = timezone.now() + retry_delay(email.attempts)
    logger.warning("e-mail %s to %s refused (attempt %s), retried later: %s", email.pk, email.to, email.attempts, error)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` refused attempts: 1, 2, 4, ... minutes, at most an hour."""
    return min(RETRY_FIRST_DELAY * 2 ** (attempts - 1), RETRY_LONGEST_DELAY)


def retry_due(*, batch: int = RETRY_BATCH) -> tuple[int, int]:
    """Send the queued e-mails whose next attempt is due, oldest first; (sent, still queued or failed).

    Stops at the first refusal: the mail server is likely down, and the next run tries again.
    """
    ids = list(
        OutgoingEmail.objects.filter(status=OutgoingEmailStatus.QUEUED, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    sent = refused = 0
    for email_id in ids:
        status = _attempt(email_id)
        if status == OutgoingEmailStatus.SENT:
            sent += 1
        elif status is not None:
            refused += 1
            break
    return sent, refused


def requeue(*, email_ids: Iterable[int]) -> int:
    """Send the given queued or failed e-mails again now (an administrator's "Retry now"); how many were queued.

    A failed e-mail gets one more attempt: refused again, it is failed again, with the new error.
    """
    with transaction.atomic():
        emails = OutgoingEmail.objects.select_for_update(skip_locked=True).filter(
            pk__in=list(email_ids), status__in=[OutgoingEmailStatus.QUEUED, OutgoingEmailStatus.FAILED]
        )
        ids = list(emails.values_list("pk", flat=True))
        OutgoingEmail.objects.filter(pk__in=ids).update(
            status=OutgoingEmailStatus.QUEUED, next_attempt_at=timezone.now()
        )
        from core.tasks import deliver_email_task

        for email_id in ids:
            enqueue(deliver_email_task, email_id)
    return len(ids)


def prune_sent(*, batch: int = PRUNE_BATCH) -> int:
    """Delete the e-mails sent more than ACCORD_EMAIL_KEEP_SENT_DAYS ago, in batches; failed ones are kept."""
    cutoff = timezone.now() - timedelta(days=settings.ACCORD_EMAIL_KEEP_SENT_DAYS)
    sent = OutgoingEmail.objects.filter(status=OutgoingEmailStatus.SENT, sent_at__lt=cutoff)
    deleted = 0
    while ids := list(sent.values_list("pk", flat=True)[:batch]):
        deleted += OutgoingEmail.objects.filter(pk__in=ids).delete()[0]
    return deleted


def queue_counts() -> dict[str, int]:
    """How many e-mails wait for the mail server and how many failed for good (for /healthz)."""
    waiting = OutgoingEmail.objects.filter(status__in=[OutgoingEmailStatus.QUEUED, OutgoingEmailStatus.FAILED])
    return waiting.aggregate(
        queued=Count("pk", filter=Q(status=OutgoingEmailStatus.QUEUED)),
        failed=Count("pk", filter=Q(status=OutgoingEmailStatus.FAILED)),
    )
