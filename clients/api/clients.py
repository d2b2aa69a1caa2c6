"""/api/v1/clients: the account list and card, create, edit with optimistic locking, reassignment by a director."""

from functools import partial

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from accounts.api import TeamSummarySerializer
from accounts.models import Role, User
from accounts.permissions import is_director
from clients import selectors, services
from clients.api.common import (
    CONFLICT_RESPONSES,
    WRITE_RESPONSES,
    UserSummarySerializer,
    ensure_client_editable,
    enum_field,
)
from clients.filters import ClientFilter, client_filter_for
from clients.models import Client, ClientReassignment, ClientStatus
from core.api import ERROR_RESPONSES, SlimPagination
from core.errors import PermissionDeniedError
from core.history_api import history_answer, history_schema
from core.money import Currency

CLIENT_OWNER_ROLES = [Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR]


PAGING = ("page", "page_size")  # not part of what names a kept list


class TagListField(serializers.ListField):
    """Tags by name: a list of strings both ways; unknown names are created."""

    child = serializers.CharField(max_length=50)

    def to_representation(self, tags) -> list[str]:
        return [tag.name for tag in tags.all()]


class ClientSummarySerializer(serializers.ModelSerializer):
    """What sales may know of a client it does not own: its name and its owner."""

    owner = UserSummarySerializer(read_only=True)

    class Meta:
        model = Client
        fields = ["id", "name", "owner"]
        read_only_fields = fields


class ClientSerializer(serializers.ModelSerializer):
    owner = UserSummarySerializer(read_only=True)
    team = TeamSummarySerializer(read_only=True, allow_null=True)
    status = enum_field(ClientStatus, read_only=True)
    billing_currency = enum_field(Currency, required=False)
    tags = TagListField(required=False)
    health_score = serializers.IntegerField(read_only=True, help_text="0–100; lower is worse.")
    open_requests = serializers.IntegerField(read_only=True)
    last_activity_at = serializers.DateTimeField(read_only=True, allow_null=True)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="On update, send the version you read: if someone saved the client since, the answer is 409.",
    )

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "legal_name",
            "tax_code",
            "industry",
            "tier",
            "status",
            "owner",
            "team",
            "billing_currency",
            "payment_terms_days",
            "website",
            "phone",
            "city",
            "address",
            "billing_address",
            "notes",
            "tags",
            "health_score",
            "open_requests",
            "last_activity_at",
            "version",
            "created_at",
            "updated_at",
        ]
        # Status is derived (at risk from the health score, churned from the contracts); owner and team change only
        # through a director's reassignment.
        read_only_fields = ["status", "owner", "team", "created_at", "updated_at"]

    def to_representation(self, client: Client) -> dict:
        if not getattr(client, "is_detailed", False):
            return ClientSummarySerializer(client, context=self.context).data
        return super().to_representation(client)


class ClientCreateSerializer(ClientSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True, role__in=CLIENT_OWNER_ROLES),
        required=False,
        help_text="Directors only: the account manager or sales person the client belongs to. Default: you.",
    )


class ClientSummaryExtension(OpenApiSerializerExtension):
    """A summary row has nothing but its three fields, so a full card never also matches it (`oneOf` below)."""

    target_class = ClientSummarySerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


CLIENT_ROW = PolymorphicProxySerializer(
    component_name="ClientRow",
    serializers=[ClientSerializer, ClientSummarySerializer],
    resource_type_field_name=None,
)


class ReassignSerializer(serializers.Serializer):
    to_owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        help_text="An active account manager, sales person or director.",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="Sent to both owners.")


class ReassignmentSerializer(serializers.ModelSerializer):
    from_owner = UserSummarySerializer(read_only=True)
    to_owner = UserSummarySerializer(read_only=True)
    reassigned_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = ClientReassignment
        fields = [
            "id",
            "client",
            "from_owner",
            "to_owner",
            "reassigned_by",
            "reassigned_at",
            "note",
            "moved_next_steps",
            "moved_requests",
        ]
        read_only_fields = fields


class ClientFilterBackend(DjangoFilterBackend):
    """The filter set the user's role allows, the one the pages and the export use (ClientFilter in the schema)."""

    def get_filterset_class(self, view, queryset=None):
        return client_filter_for(view.request.user)


@extend_schema_view(
    list=extend_schema(
        summary="Clients",
        description=(
            "Every client you may know of, with owner, team, health score, open requests and last activity. "
            "Order with `?sort=` (this endpoint has no `?ordering=`). Sales sees every client's name and owner, "
            "but a client it does not own comes as a `ClientSummary` row: `id`, `name` and `owner` only; for "
            "sales only `q`, `owner`, `team` and `sort` by `name`, `-name` or `owner` apply, other filters are "
            "ignored."
        ),
        responses={200: CLIENT_ROW, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One client",
        description="The full card, or `id`, `name` and `owner` only for sales on a client it does not own.",
        responses={200: CLIENT_ROW, **ERROR_RESPONSES},
    ),
)
class ClientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ClientSerializer
    filterset_class = ClientFilter
    filter_backends = [ClientFilterBackend]  # `sort` is the one way to order clients
    pagination_class = SlimPagination  # each client's health score: computed for the page's rows only
    http_method_names = ["get", "post", "put", "patch", "head", "options"]  # clients are never deleted

    def get_queryset(self) -> QuerySet[Client]:
        user = self.request.user
        detailed = Client.objects.detailed_for(user).filter(pk=OuterRef("pk"))
        return selectors.client_list(user=user).annotate(is_detailed=Exists(detailed))

    def kept_order(self, clients: QuerySet[Client]):
        """The list's ids in order, from the cache while no client input changes (``selectors.client_order_kept``,
        as the list page), named by who asks and the query's parameters."""
        user = self.request.user
        params = sorted((key, value) for key, value in self.request.query_params.lists() if key not in PAGING)
        return partial(selectors.client_order_kept, clients, ("api", user.pk, user.role, user.team_id, repr(params)))

    def _answer(self, client: Client, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=client.pk)).data, status=code)

    @extend_schema(
        summary="Create a client",
        description="The client is yours and in your team; a director may name another `owner`.",
        request=ClientCreateSerializer,
        responses={201: ClientSerializer, **WRITE_RESPONSES},
    )
    def create(self, request):
        data = ClientCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = {key: value for key, value in data.validated_data.items() if key != "version"}
        client = services.client_create(actor=request.user, **fields)
        return self._answer(client, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a client's details",
        description="Owner, team and status cannot be set here. Send `version` to be protected from lost updates.",
        responses={200: ClientSerializer, **CONFLICT_RESPONSES},
    )
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(
        summary="Change some of a client's details",
        description="Owner, team and status cannot be set here. Send `version` to be protected from lost updates.",
        responses={200: ClientSerializer, **CONFLICT_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool) -> Response:
        client = self.get_object()
        ensure_client_editable(user=request.user, client=client)
        data = ClientSerializer(client, data=request.data, partial=partial, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        services.client_update(
            client=client,
            actor=request.user,
            expected_version=fields.pop("version", None),
            tags=fields.pop("tags", None),
            **fields,
        )
        return self._answer(client)

    @extend_schema(
        summary="Reassign a client (directors)",
        description="Gives the client to another owner; its team, open next steps and open requests follow.",
        request=ReassignSerializer,
        responses={200: ReassignmentSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        client = self.get_object()
        if not is_director(request.user):
            raise PermissionDeniedError(_("Only a director can reassign a client."))
        data = ReassignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = services.client_reassign(client=client, actor=request.user, **data.validated_data)
        return Response(ReassignmentSerializer(record).data)

    @history_schema(
        resource="client",
        description="Changes to the client and to its contacts (`object_type` says which), for those who may open "
        "the client's details (sales: only the clients it owns).",
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, pk=None):
        client = get_object_or_404(Client.objects.detailed_for(request.user), pk=pk)
        return history_answer(request, selectors.client_history_sources(client=client))
