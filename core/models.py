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
