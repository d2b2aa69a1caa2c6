"""/api/v1/requests and /api/v1/handovers: what clients ask for, its SLA, and the work handed to departments."""

from django.utils import timezone
from django.utils.translation import gettext as _
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
    ensure_client_editable,
    enum_field,
    ordering_help,
)
from clients.api.timeline import visible_contacts
from clients.filters import HandoverFilter, RequestFilter
from clients.models import Department, Handover, HandoverStatus, Request, RequestStatus
from core.api import ERROR_RESPONSES, STALE_VERSION_RESPONSE

# --- Requests ---------------------------------------------------------------------------------------------


class RequestHandoverSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)
    assignee = UserSummarySerializer(read_only=True)
    status = enum_field(HandoverStatus, read_only=True)

    class Meta:
        model = Handover
        fields = ["id", "department", "department_name", "assignee", "due_date", "status"]
        read_only_fields = fields


class RequestSerializer(serializers.ModelSerializer):
    client = ScopedPrimaryKeyField(scope=detailed_clients)
    client_name = serializers.CharField(source="client.name", read_only=True)
    contact = ScopedPrimaryKeyField(
        scope=visible_contacts, required=False, allow_null=True, help_text="Who asked: a contact of the same client."
    )
    contact_name = serializers.CharField(source="contact.full_name", read_only=True, allow_null=True)
    status = enum_field(RequestStatus, read_only=True, help_text="Moves through `POST /requests/{id}/transition`.")
    owner = UserSummarySerializer(read_only=True, help_text="The client's owner when the request was recorded.")
    sla_state = serializers.SerializerMethodField(help_text="`ok`, `warning` (past 75 % of the time) or `breached`.")
    handovers = RequestHandoverSerializer(many=True, read_only=True)

    class Meta:
        model = Request
        fields = [
            "id",
            "client",
            "client_name",
            "kind",
            "title",
            "description",
            "priority",
            "status",
            "contact",
            "contact_name",
            "owner",
            "received_at",
            "sla_warning_at",
            "sla_due_at",
            "sla_state",
            "resolved_at",
            "closed_at",
            "version",
            "handovers",
            "created_at",
            "updated_at",
        ]
        # Status moves only through /transition; the SLA times follow from the priority and the receipt time.
        read_only_fields = [
            "status",
            "sla_warning_at",
            "sla_due_at",
            "resolved_at",
            "closed_at",
            "version",
            "created_at",
            "updated_at",
        ]

    def get_sla_state(self, request: Request) -> str:
        return request.sla_state()


class RequestUpdateSerializer(serializers.ModelSerializer):
    contact = ScopedPrimaryKeyField(scope=visible_contacts, required=False, allow_null=True)
    version = serializers.IntegerField(
        required=False, help_text="The version you read; if someone saved since, the answer is 409."
    )

    class Meta:
        model = Request
        fields = ["kind", "title", "description", "priority", "contact", "version"]
        extra_kwargs = {
            "kind": {"required": False},
            "title": {"required": False},
            "priority": {"required": False, "help_text": "A new priority recomputes the SLA from `received_at`."},
        }


class RequestTransitionSerializer(serializers.Serializer):
    to = enum_field(RequestStatus)
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="Kept on the timeline.")


REQUEST_ORDERING = ["sla_due_at", "received_at", "created_at"]


@extend_schema_view(
    list=extend_schema(
        summary="Client requests",
        description=(
            "Requests of the clients whose details you may open, with their SLA and hand-overs. "
            "`?state=breached` lists open requests past their SLA." + ordering_help(REQUEST_ORDERING)
        ),
        responses={200: RequestSerializer, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One request",
        description="Also open to whoever a hand-over of it is assigned to.",
        responses={200: RequestSerializer, **ERROR_RESPONSES},
    ),
)
class RequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = RequestSerializer
    filterset_class = RequestFilter
    ordering_fields = REQUEST_ORDERING

    def get_queryset(self):
        if self.action == "list":
            return selectors.request_list(user=self.request.user)
        return selectors.request_detail(user=self.request.user)

    def _answer(self, client_request: Request, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=client_request.pk)).data, status=code)

    @extend_schema(
        summary="Record a client request",
        description=(
            "You must be able to change the client. The owner is the client's owner; the SLA warning and due "
            "times follow from the priority in business hours from `received_at` (now by default)."
        ),
        responses={201: RequestSerializer, **WRITE_RESPONSES},
    )
    def create(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        client_request = services.request_create(actor=request.user, **data.validated_data)
        return self._answer(client_request, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a request",
        description="Kind, title, description, priority (the SLA follows) and contact. Send `version` to refuse "
        "a stale update with 409.",
        request=RequestUpdateSerializer,
        responses={200: RequestSerializer, **WRITE_RESPONSES, 409: STALE_VERSION_RESPONSE},
    )
    def partial_update(self, request, pk=None):
        client_request = self.get_object()
        ensure_client_editable(user=request.user, client=client_request.client)
        data = RequestUpdateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        version = fields.pop("version", None)
        services.request_update(request=client_request, actor=request.user, expected_version=version, **fields)
        return self._answer(client_request)

    @extend_schema(
        summary="Move a request on",
        description=(
            "new → triaged → in progress ⇄ waiting for the client → resolved → closed (resolved may reopen to in "
            "progress). A move the rules forbid is a 400 with code `invalid_transition`."
        ),
        request=RequestTransitionSerializer,
        responses={200: RequestSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        client_request = self.get_object()
        ensure_client_editable(user=request.user, client=client_request.client)
        data = RequestTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.request_transition(request=client_request, actor=request.user, **data.validated_data)
        return self._answer(client_request)


# --- Hand-overs -------------------------------------------------------------------------------------------


def requests_seen_by(user):
    return selectors.request_detail(user=user)


class HandoverSerializer(serializers.ModelSerializer):
    request = ScopedPrimaryKeyField(scope=requests_seen_by, help_text="An open request.")
    request_title = serializers.CharField(source="request.title", read_only=True)
    client = serializers.IntegerField(source="request.client_id", read_only=True)
    client_name = serializers.CharField(source="request.client.name", read_only=True)
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.filter(is_active=True))
    department_name = serializers.CharField(source="department.name", read_only=True)
    assignee = ScopedPrimaryKeyField(scope=active_users, help_text="Notified at once.")
    assignee_name = serializers.CharField(source="assignee.full_name", read_only=True)
    status = enum_field(HandoverStatus, read_only=True, help_text="Moves through `POST /handovers/{id}/status`.")
    created_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = Handover
        fields = [
            "id",
            "request",
            "request_title",
            "client",
            "client_name",
            "department",
            "department_name",
            "assignee",
            "assignee_name",
            "brief",
            "due_date",
            "status",
            "created_by",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        # Status moves only through /status.
        read_only_fields = ["status", "completed_at", "created_at", "updated_at"]

    def validate_due_date(self, value):
        if value < timezone.localdate():
            raise serializers.ValidationError(_("The due date has passed."))
        return value


class HandoverStatusSerializer(serializers.Serializer):
    to = enum_field(HandoverStatus)


HANDOVER_ORDERING = ["due_date", "status", "created_at"]


@extend_schema_view(
    list=extend_schema(
        summary="Hand-overs",
        description=(
            "Requests handed to departments, on the clients whose details you may open and wherever you are "
            "the assignee." + ordering_help(HANDOVER_ORDERING)
        ),
        responses={200: HandoverSerializer, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(summary="One hand-over", responses={200: HandoverSerializer, **ERROR_RESPONSES}),
)
class HandoverViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = HandoverSerializer
    filterset_class = HandoverFilter
    ordering_fields = HANDOVER_ORDERING

    def get_queryset(self):
        return selectors.handover_list(user=self.request.user)

    def _answer(self, handover: Handover, code: int = status.HTTP_200_OK) -> Response:
        # The hand-over as it now is; an assignee who just finished it may no longer list it, but gets the answer.
        fresh = Handover.objects.select_related("request__client", "department", "assignee", "created_by")
        return Response(self.get_serializer(fresh.get(pk=handover.pk)).data, status=code)

    @extend_schema(
        summary="Hand a request over to a department",
        description="You must be able to change the client; a new or triaged request moves to in progress.",
        responses={201: HandoverSerializer, **WRITE_RESPONSES},
    )
    def create(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        handover = services.handover_create(actor=request.user, **data.validated_data)
        return self._answer(handover, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Set a hand-over's status",
        description="For the assignee, or whoever may change the client. A done or cancelled hand-over is final.",
        request=HandoverStatusSerializer,
        responses={200: HandoverSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        handover = self.get_object()
        data = HandoverStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.handover_set_status(handover=handover, actor=request.user, **data.validated_data)
        return self._answer(handover)
