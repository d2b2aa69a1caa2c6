from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Base for every domain model: when a row was created and last changed (aware datetimes)."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key`` header, replayed to its retries for 24 hours.

    The row is inserted, the request handled and its response stored in one transaction (core/idempotency.py):
    the unique constraint makes a concurrent twin wait for that transaction, then replay what it stored.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, full path and body.")
    # Empty only inside the transaction that handles the request: nobody else ever sees it so.
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.BinaryField(blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="core_idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class OutboxMessage(models.Model):
    """A background task asked for in a transaction and not yet handed to the broker (core/outbox.py).

    Written in the transaction that asks for the task, so the task exists exactly when the change that needs it
    committed; deleted once the broker took it. A row that stays here is a task the broker refused (Redis down):
    the relay hands it over when the broker is back, and an administrator sees it, with its last error, in the
    admin under "Queued background tasks".
    """

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    created_at = models.DateTimeField(_("asked for"), default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts to queue"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("queued background task")
        verbose_name_plural = _("queued background tasks")

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)!r}"


class OutgoingEmailStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENT = "sent", _("delivered")
    FAILED = "failed", _("failed")


class OutgoingEmail(models.Model):
    """One e-mail Accord sends, kept until the mail server took it (core/mail.py).

    Every ``send_mail``/``EmailMessage.send()`` writes one row in the caller's transaction (EMAIL_BACKEND is
    ``core.mail.QueuedEmailBackend``), so the e-mail exists exactly when the change that sends it committed. The
    worker hands it to the real backend (ACCORD_EMAIL_DELIVERY_BACKEND) and marks it sent; a refused attempt is
    counted, its error kept and the next attempt scheduled with backoff, until ACCORD_EMAIL_MAX_ATTEMPTS make it
    failed. Failed e-mails stay, for an administrator to see and retry (admin, "Outgoing e-mails").
    """

    status = models.CharField(
        _("status"), max_length=10, choices=OutgoingEmailStatus.choices, default=OutgoingEmailStatus.QUEUED
    )
    from_email = models.CharField(_("sender"), max_length=500)
    to = models.JSONField(_("recipients"), default=list, blank=True)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    bcc = models.JSONField(_("bcc"), default=list, blank=True)
    reply_to = models.JSONField(_("reply to"), default=list, blank=True)
    subject = models.TextField(_("subject"), blank=True)
    body = models.TextField(_("text"), blank=True)
    # Alternatives ([content, mimetype]: the HTML version) and attachments ([filename, base64 content, mimetype]).
    alternatives = models.JSONField(_("alternatives"), default=list, blank=True)
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="core_outgoing_email_due"),
            models.Index(fields=["status", "sent_at"], name="core_outgoing_email_sent"),
        ]

    def __str__(self) -> str:
        return f"{', '.join(self.to)}: {self.subject}"
