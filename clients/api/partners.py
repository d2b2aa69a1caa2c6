"""/api/v1/partners and /api/v1/partner-relationships: the agency's partners and their part in each account."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from clients import selectors, services
from clients.api.common import (
    WRITE_RESPONSES,
    ScopedPrimaryKeyField,
    detailed_clients,
    ensure_client_editable,
    enum_field,
    ordering_help,
)
from clients.models import Partner, PartnerKind, PartnerRelationship, RelationshipLink, RelationshipStatus
from clients.text import fold
from core.api import ERROR_RESPONSES
from core.money import Currency

# --- Partners ---------------------------------------------------------------------------------------------


class PartnerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name, tax code or e-mail (diacritics ignored)")
    kind = django_filters.ChoiceFilter(choices=PartnerKind.choices)

    class Meta:
        model = Partner
        fields = ["q", "kind"]

    def search(self, queryset, name, value):
        return queryset.filter(search_text__contains=fold(value))


class PartnerSerializer(serializers.ModelSerializer):
    client_count = serializers.IntegerField(
        read_only=True, help_text="How many of the clients whose details you may open it works for."
    )

    class Meta:
        model = Partner
        fields = [
            "id",
            "name",
            "kind",
            "tax_code",
            "website",
            "email",
            "phone",
            "notes",
            "client_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


PARTNER_ORDERING = ["name", "kind", "created_at", "client_count"]


@extend_schema_view(
    list=extend_schema(
        summary="Partners",
        description=(
            "Every partner of the agency (sponsors, consultants, suppliers, vendors)." + ordering_help(PARTNER_ORDERING)
        ),
        responses={200: PartnerSerializer, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(summary="One partner", responses={200: PartnerSerializer, **ERROR_RESPONSES}),
)
class PartnerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Account managers and directors keep the list; everyone reads it. Partners are not deleted here."""

    serializer_class = PartnerSerializer
    filterset_class = PartnerFilter
    ordering_fields = PARTNER_ORDERING

    def get_queryset(self):
        return selectors.partner_list(user=self.request.user)

    def _answer(self, partner: Partner, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=partner.pk)).data, status=code)

    @extend_schema(
        summary="Add a partner",
        description="Account managers and directors.",
        responses={201: PartnerSerializer, **WRITE_RESPONSES},
    )
    def create(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        partner = services.partner_create(actor=request.user, **data.validated_data)
        return self._answer(partner, status.HTTP_201_CREATED)

    @extend_schema(summary="Replace a partner's details", responses={200: PartnerSerializer, **WRITE_RESPONSES})
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(summary="Change some of a partner's details", responses={200: PartnerSerializer, **WRITE_RESPONSES})
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool) -> Response:
        partner = self.get_object()
        data = self.get_serializer(partner, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        services.partner_update(partner=partner, actor=request.user, **data.validated_data)
        return self._answer(partner)


# --- Partner relationships --------------------------------------------------------------------------------


class PartnerRelationshipFilter(django_filters.FilterSet):
    # Ids, not choices among all rows: an existing but hidden client must look like an unknown one.
    client = django_filters.NumberFilter(field_name="client_id")
    partner = django_filters.NumberFilter(field_name="partner_id")
    status = django_filters.ChoiceFilter(choices=RelationshipStatus.choices)
    link = django_filters.ChoiceFilter(choices=RelationshipLink.choices)

    class Meta:
        model = PartnerRelationship
        fields = ["client", "partner", "status", "link"]


class PartnerRelationshipSerializer(serializers.ModelSerializer):
    client = ScopedPrimaryKeyField(scope=detailed_clients, help_text="Set on creation.")
    client_name = serializers.CharField(source="client.name", read_only=True)
    partner = serializers.PrimaryKeyRelatedField(queryset=Partner.objects.all(), help_text="Set on creation.")
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    status = enum_field(RelationshipStatus, required=False)
    currency = enum_field(Currency, required=False)

    class Meta:
        model = PartnerRelationship
        fields = [
            "id",
            "client",
            "client_name",
            "partner",
            "partner_name",
            "link",
            "role",
            "since",
            "status",
            "value",
            "currency",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class PartnerRelationshipUpdateSerializer(PartnerRelationshipSerializer):
    client = serializers.PrimaryKeyRelatedField(read_only=True)
    partner = serializers.PrimaryKeyRelatedField(read_only=True)


RELATIONSHIP_ORDERING = ["since", "value", "created_at", "partner__name", "client__name"]


@extend_schema_view(
    list=extend_schema(
        summary="Partner relationships",
        description=(
            "Which partner works for which client, where you may open the client."
            + ordering_help(RELATIONSHIP_ORDERING)
        ),
        responses={200: PartnerRelationshipSerializer, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One partner relationship", responses={200: PartnerRelationshipSerializer, **ERROR_RESPONSES}
    ),
    destroy=extend_schema(summary="Unlink a partner from a client", responses={204: None, **WRITE_RESPONSES}),
)
class PartnerRelationshipViewSet(viewsets.ModelViewSet):
    serializer_class = PartnerRelationshipSerializer
    filterset_class = PartnerRelationshipFilter
    ordering_fields = RELATIONSHIP_ORDERING

    def get_queryset(self):
        return selectors.partner_relationships(user=self.request.user)

    def _answer(self, relationship: PartnerRelationship, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=relationship.pk)).data, status=code)

    @extend_schema(
        summary="Link a partner to a client",
        description="You must be able to change the client.",
        responses={201: PartnerRelationshipSerializer, **WRITE_RESPONSES},
    )
    def create(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        relationship = services.partner_relationship_create(actor=request.user, **data.validated_data)
        return self._answer(relationship, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a relationship's details",
        request=PartnerRelationshipUpdateSerializer,
        responses={200: PartnerRelationshipSerializer, **WRITE_RESPONSES},
    )
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(
        summary="Change some of a relationship's details",
        request=PartnerRelationshipUpdateSerializer,
        responses={200: PartnerRelationshipSerializer, **WRITE_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool) -> Response:
        relationship = self.get_object()
        ensure_client_editable(user=request.user, client=relationship.client)
        data = PartnerRelationshipUpdateSerializer(
            relationship, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        services.partner_relationship_update(relationship=relationship, actor=request.user, **data.validated_data)
        return self._answer(relationship)

    def destroy(self, request, pk=None):
        relationship = self.get_object()
        ensure_client_editable(user=request.user, client=relationship.client)
        services.partner_relationship_delete(relationship=relationship, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
