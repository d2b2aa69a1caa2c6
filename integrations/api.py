"""Read-only API for administrators: the webhook endpoints and their delivery log (the secret is not in it)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from accounts.models import Role
from accounts.permissions import HasRole
from integrations import selectors
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.CharField(), read_only=True)
    recent_deliveries = serializers.IntegerField(read_only=True, help_text="Deliveries in the last 24 hours.")
    recent_trouble = serializers.IntegerField(read_only=True, help_text="Of those, retrying, failed or given up.")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "is_active", "created_at", "updated_at"]
        fields += ["recent_deliveries", "recent_trouble"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "endpoint", "event_id", "event_type", "status", "attempts", "next_attempt_at"]
        fields += ["last_attempt_at", "last_status_code", "last_error", "duration_ms", "created_at", "updated_at"]
        read_only_fields = fields


class WebhookDeliveryFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status"]


ADMINS_ONLY = "Administrators only; endpoints are registered and changed on the Webhooks page."


@extend_schema_view(
    list=extend_schema(
        summary="Webhook endpoints",
        description=f"Where Accord sends events, with the deliveries of the last 24 hours. {ADMINS_ONLY}",
    ),
    retrieve=extend_schema(summary="One webhook endpoint", description=f"Its secret is never shown. {ADMINS_ONLY}"),
)
class WebhookEndpointViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = WebhookEndpointSerializer
    permission_classes = [HasRole.of(Role.ADMIN)]
    filter_backends = []

    def get_queryset(self):
        return selectors.endpoint_list()


@extend_schema_view(
    list=extend_schema(
        summary="Webhook deliveries",
        description=(
            "The delivery log, newest first: each event sent to each endpoint, its status, attempts, the last "
            f"answer's status code and error. Filter by `endpoint` and `status`. {ADMINS_ONLY}"
        ),
    ),
    retrieve=extend_schema(summary="One webhook delivery", description=ADMINS_ONLY),
)
class WebhookDeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = WebhookDeliverySerializer
    permission_classes = [HasRole.of(Role.ADMIN)]
    filterset_class = WebhookDeliveryFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return (
            WebhookDelivery.objects.select_related("event")
            .defer("event__data", "response_excerpt")
            .order_by("-created_at", "-pk")
        )
