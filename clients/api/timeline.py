"""/api/v1/activities: the client timeline (append-only) and its next steps."""

from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from clients import selectors, services
from clients.api.common import (
    WRITE_RESPONSES,
    ScopedPrimaryKeyField,
    UserSummarySerializer,
    active_users,
    detailed_clients,
    ordering_help,
)
from clients.filters import ActivityFilter
from clients.models import Activity, Contact
from core.api import ERROR_RESPONSES


def visible_contacts(user):
    return Contact.objects.visible_to(user)


class ActivitySerializer(serializers.ModelSerializer):
    client = ScopedPrimaryKeyField(scope=detailed_clients)
    client_name = serializers.CharField(source="client.name", read_only=True)
    author = UserSummarySerializer(read_only=True)
    contact = ScopedPrimaryKeyField(
        scope=visible_contacts, required=False, allow_null=True, help_text="A contact of the same client."
    )
    contact_name = serializers.CharField(source="contact.full_name", read_only=True, allow_null=True)
    next_step_owner = ScopedPrimaryKeyField(
        scope=active_users, required=False, allow_null=True, help_text="Who owns the next step; you by default."
    )
    next_step_owner_name = serializers.CharField(source="next_step_owner.full_name", read_only=True, allow_null=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "client",
            "client_name",
            "kind",
            "subject",
            "body",
            "occurred_at",
            "author",
            "contact",
            "contact_name",
            "next_step",
            "next_step_due",
            "next_step_owner",
            "next_step_owner_name",
            "next_step_done_at",
            "created_at",
        ]
        read_only_fields = ["next_step_done_at", "created_at"]


ACTIVITY_ORDERING = ["occurred_at", "next_step_due", "created_at"]


@extend_schema_view(
    list=extend_schema(
        summary="Timeline entries",
        description=(
            "Calls, meetings, e-mails, notes and status reports on the clients whose details you may open, "
            "newest first. `?open_next_step=true` lists open next steps." + ordering_help(ACTIVITY_ORDERING)
        ),
        responses={200: ActivitySerializer, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(summary="One timeline entry", responses={200: ActivitySerializer, **ERROR_RESPONSES}),
)
class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The timeline is a record of what happened: entries are added, never edited or deleted."""

    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    ordering_fields = ACTIVITY_ORDERING

    def get_queryset(self):
        activities = selectors.activity_list(user=self.request.user)
        if self.action == "complete_next_step":
            # The owner of a next step may close it even on a client they cannot open (as on the home page).
            mine = Activity.objects.filter(next_step_owner=self.request.user.pk).values("pk")
            visible = activities.values("pk")
            return Activity.objects.filter(Q(pk__in=visible) | Q(pk__in=mine)).select_related("client")
        return activities

    @extend_schema(
        summary="Add to a client's timeline",
        description="You must be able to change the client. A `next_step_due` needs a `next_step`.",
        responses={201: ActivitySerializer, **WRITE_RESPONSES},
    )
    def create(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        activity = services.activity_log(actor=request.user, **data.validated_data)
        return Response(self.get_serializer(activity).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Mark the next step done",
        description="For the next step's owner, or whoever may change the client.",
        request=None,
        responses={200: ActivitySerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path="complete-next-step")
    def complete_next_step(self, request, pk=None):
        activity = services.next_step_complete(activity=self.get_object(), actor=request.user)
        return Response(self.get_serializer(activity).data)
