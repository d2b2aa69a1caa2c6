"""Outbound webhooks: the endpoints admins register, the events Accord emits, one delivery per (event, endpoint).

An event's payload is frozen when it is emitted (later edits to the record do not change it). A delivery is the
unit of work the worker claims; its ``next_attempt_at`` drives the retries (see integrations/delivery.py).
"""

import secrets
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class EventType(models.TextChoices):
    CLIENT_CREATED = "client.created", _("Client created")
    CLIENT_UPDATED = "client.updated", _("Client updated")
    CONTRACT_STAGE_CHANGED = "contract.stage_changed", _("Contract moved to another stage")
    CONTRACT_SIGNED = "contract.signed", _("Contract signed")
    PROPOSAL_SENT = "proposal.sent", _("Proposal sent")
    PROPOSAL_ACCEPTED = "proposal.accepted", _("Proposal accepted")
    PROPOSAL_DECLINED = "proposal.declined", _("Proposal declined")
    INVOICE_ISSUED = "invoice.issued", _("Invoice issued")
    INVOICE_OVERDUE = "invoice.overdue", _("Invoice overdue")
    INVOICE_PAID = "invoice.paid", _("Invoice paid")
    REQUEST_CREATED = "request.created", _("Request created")
    REQUEST_SLA_BREACHED = "request.sla_breached", _("Request SLA breached")


PING = "ping"  # the test event an admin sends to one endpoint; nobody subscribes to it


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


class WebhookEndpoint(TimeStampedModel):
    """A URL that receives the events it subscribes to, signed with its secret.

    The secret is stored as is (not hashed): Accord must sign with it, and admins may show it again. After a
    rotation the previous secret keeps signing too (a second ``v1=``) until ``previous_secret_expires_at``.
    """

    url = models.URLField(_("URL"), max_length=1000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """Something that happened, with the payload as it was then. ``once_key`` makes an emission idempotent
    (``invoice.overdue:42`` is emitted once per invoice, however often the sweep runs)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=50)
    created = models.DateTimeField(_("created"), db_index=True)
    data = models.JSONField(_("data"), default=dict)
    once_key = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["once_key"], condition=~Q(once_key=""), name="webhook_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    def payload(self) -> dict:
        """The JSON document POSTed to the endpoints."""
        created = DjangoJSONEncoder().default(self.created)  # as the datetimes in ``data``: ms, "Z" for UTC
        return {"id": str(self.id), "type": self.type, "created": created, "data": self.data}


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    GAVE_UP = "gave_up", _("Gave up")


DUE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


class WebhookDelivery(TimeStampedModel):
    """One event to one endpoint: attempted until a 2xx answer or 24 hours after it was created.

    ``failed``: refused without retrying (the endpoint was switched off, or its URL now resolves to a private
    address); ``gave_up``: still failing 24 hours after the delivery was created.
    """

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices, default="pending")
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_status_code = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    last_error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.TextField(_("response"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    redelivery_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The retry sweep: what is due, oldest first; finished deliveries are not in the index at all.
            models.Index(fields=["next_attempt_at"], condition=Q(status__in=DUE_STATUSES), name="webhook_delivery_due"),
            # The delivery log of an endpoint, newest first, optionally by status.
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
            models.Index(fields=["endpoint", "status", "-created_at"], name="webhook_delivery_log_status"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}"
