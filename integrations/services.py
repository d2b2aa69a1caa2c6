"""Writes for webhooks: emitting events, and the endpoints admins manage (all of them admin-only but ``emit``).

``emit`` is what the domain services call, inside their transaction, right where the change happens: the event
and its deliveries are written in that transaction and queued after it commits, so a rolled-back change sends
nothing and a committed one is never lost (the retry sweep takes any delivery whose message went missing).
"""

from datetime import timedelta

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.permissions import has_role
from core.errors import DomainError, PermissionDeniedError
from core.outbox import enqueue
from integrations.models import (
    PING,
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    new_secret,
)
from integrations.network import check_url
from integrations.payloads import as_json, record_data

PREVIOUS_SECRET_GRACE = timedelta(hours=24)


def emit(event_type: str, record: models.Model | None = None, *, once_key: str = "", **extra) -> WebhookEvent | None:
    """Record that ``event_type`` happened to ``record`` and queue one delivery per active endpoint subscribed to it.

    The payload's ``data`` is ``{"object": <record>, **extra}``, frozen now. Nothing is written (one query) when no
    endpoint subscribes. ``once_key``: at most one event with that key, ever (None the second time). Call it inside
    the transaction of the change.
    """
    endpoint_ids = subscribers(EventType(event_type))
    if not endpoint_ids:
        return None
    data = {"object": record_data(event_type, record)} if record is not None else {}
    event = WebhookEvent(type=event_type, created=timezone.now(), data=as_json({**data, **extra}), once_key=once_key)
    if once_key:
        try:
            with transaction.atomic():  # a savepoint: the caller's transaction survives a duplicate
                event.save(force_insert=True)
        except IntegrityError:
            if WebhookEvent.objects.filter(once_key=once_key).exists():
                return None
            raise
    else:
        event.save(force_insert=True)
    _deliver(event, endpoint_ids)
    return event


def subscribers(event_type: str) -> list[int]:
    """Ids of the active endpoints subscribed to ``event_type`` (one query; a handful of rows)."""
    endpoints = WebhookEndpoint.objects.filter(is_active=True).values_list("pk", "events")
    return [pk for pk, events in endpoints if event_type in events]


def _deliver(event: WebhookEvent, endpoint_ids: list[int]) -> list[WebhookDelivery]:
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(event=event, endpoint_id=pk, next_attempt_at=now) for pk in endpoint_ids]
    )
    from integrations.tasks import deliver_webhook_task

    for delivery in deliveries:
        enqueue(deliver_webhook_task, delivery.pk, 0)
    return deliveries


# --- Endpoints (admins) -----------------------------------------------------------------------------------


def _ensure_admin(actor: User) -> None:
    if not has_role(actor, Role.ADMIN):
        raise PermissionDeniedError(_("Only administrators manage webhooks."))


def _check_events(events: list[str]) -> list[str]:
    unknown = set(events) - set(EventType.values)
    if unknown or not events:
        message = _("Choose at least one event.") if not events else _("Unknown events: %s") % ", ".join(unknown)
        raise DomainError(message, fields={"events": [message]})
    return [value for value in EventType.values if value in events]  # the documented order, each once


@transaction.atomic
def endpoint_create(*, actor: User, url: str, events: list[str], description: str = "", is_active: bool = True):
    """Register an endpoint with a new secret. Raises UnsafeURLError for a URL that resolves to a private address."""
    _ensure_admin(actor)
    check_url(url)
    endpoint = WebhookEndpoint(
        url=url, events=_check_events(events), description=description, is_active=is_active, created_by=actor
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, actor: User, **fields) -> WebhookEndpoint:
    """Change the URL (checked again), the events, the description or whether it is active; the secret stays."""
    _ensure_admin(actor)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if "url" in fields and fields["url"] != endpoint.url:
        check_url(fields["url"])
    if "events" in fields:
        fields["events"] = _check_events(fields["events"])
    for name in set(fields) & {"url", "events", "description", "is_active"}:
        setattr(endpoint, name, fields[name])
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor: User) -> WebhookEndpoint:
    """A new secret signs from now on; the old one signs too (a second ``v1``) for 24 hours, so receivers can
    switch without losing events."""
    _ensure_admin(actor)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret, endpoint.secret = endpoint.secret, new_secret()
    endpoint.previous_secret_expires_at = timezone.now() + PREVIOUS_SECRET_GRACE
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, actor: User) -> None:
    """The endpoint and its delivery log go; events other endpoints received stay."""
    _ensure_admin(actor)
    endpoint.delete()


@transaction.atomic
def endpoint_ping(*, endpoint: WebhookEndpoint, actor: User) -> WebhookDelivery:
    """Send a ``ping`` event to this endpoint only, to test its URL and secret (refused while it is switched off)."""
    _ensure_admin(actor)
    if not endpoint.is_active:
        raise DomainError(_("Switch the endpoint on before sending a test event."))
    event = WebhookEvent.objects.create(
        type=PING,
        created=timezone.now(),
        data={"endpoint_id": endpoint.pk, "message": "Accord webhook test", "sent_by": actor.email},
    )
    return _deliver(event, [endpoint.pk])[0]


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery, actor: User) -> WebhookDelivery:
    """A new delivery of the same event (same id and payload) to the same endpoint, with a fresh 24-hour window."""
    _ensure_admin(actor)
    if not delivery.endpoint.is_active:
        raise DomainError(_("Switch the endpoint on before redelivering."))
    redelivery = WebhookDelivery.objects.create(
        event_id=delivery.event_id,
        endpoint_id=delivery.endpoint_id,
        next_attempt_at=timezone.now(),
        status=DeliveryStatus.PENDING,
        redelivery_of=delivery,
    )
    from integrations.tasks import deliver_webhook_task

    enqueue(deliver_webhook_task, redelivery.pk, 0)
    return redelivery
