"""Reads for the webhook pages and API: every list is bounded (a fixed number of queries, paginated)."""

from datetime import timedelta

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

TROUBLE = (DeliveryStatus.RETRYING, DeliveryStatus.FAILED, DeliveryStatus.GAVE_UP)


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    """Endpoints with their deliveries of the last 24 hours: sent, and in trouble (retrying, failed, gave up).
    Counted per endpoint by subqueries on the (endpoint, created) index, not by joining the whole log."""
    since = timezone.now() - timedelta(hours=24)
    return (
        WebhookEndpoint.objects.select_related("created_by")
        .annotate(
            recent_deliveries=_recent_count(since),
            recent_trouble=_recent_count(since, status__in=TROUBLE),
        )
        .order_by("pk")
    )


def _recent_count(since, **filters) -> Coalesce:
    deliveries = (
        WebhookDelivery.objects.filter(endpoint=OuterRef("pk"), created_at__gte=since, **filters)
        .order_by()
        .values("endpoint")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(deliveries, output_field=IntegerField()), 0)


def delivery_log(*, endpoint: WebhookEndpoint, status: str = "") -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, with their event's id and type (not its payload)."""
    deliveries = (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .defer("event__data", "response_excerpt")
        .order_by("-created_at", "-pk")
    )
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    return deliveries


def delivery_detail() -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.select_related("event", "endpoint")
