"""/api/v1/contacts: the people at the clients whose details you may open."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from clients import selectors, services
from clients.api.common import (
    CONFLICT_RESPONSES,
    WRITE_RESPONSES,
    ScopedPrimaryKeyField,
    detailed_clients,
    ensure_client_editable,
    ordering_help,
)
from clients.models import Contact
from clients.text import fold
from core.api import ERROR_RESPONSES
from core.filters import TrueOrFalseFilter


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name, e-mail or phone (diacritics ignored)")
    # An id, not a choice among all clients: an existing but hidden client must look like an unknown one.
    client = django_filters.NumberFilter(field_name="client_id")
    email = django_filters.CharFilter(lookup_expr="iexact")
    is_billing = TrueOrFalseFilter()
    is_decision_maker = TrueOrFalseFilter()
    is_day_to_day = TrueOrFalseFilter()

    class Meta:
        model = Contact
        fields = ["q", "client", "email", "is_billing", "is_decision_maker", "is_day_to_day", "preferred_language"]

    def search(self, queryset, name, value):
        return queryset.filter(search_text__contains=fold(value))


class ContactSerializer(serializers.ModelSerializer):
    client = ScopedPrimaryKeyField(scope=detailed_clients, help_text="Set on creation; a contact never moves.")
    client_name = serializers.CharField(source="client.name", read_only=True)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="On update, send the version you read: if someone saved the contact since, the answer is 409.",
    )

    class Meta:
        model = Contact
        fields = [
            "id",
            "client",
            "client_name",
            "full_name",
            "title",
            "email",
            "phone",
            "preferred_language",
            "is_decision_maker",
            "is_billing",
            "is_day_to_day",
            "notes",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class ContactUpdateSerializer(ContactSerializer):
    client = serializers.PrimaryKeyRelatedField(read_only=True)


CONTACT_ORDERING = ["full_name", "email", "created_at"]


@extend_schema_view(
    list=extend_schema(
        summary="Contacts",
        description="Contacts of the clients whose details you may open." + ordering_help(CONTACT_ORDERING),
        responses={200: ContactSerializer, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(summary="One contact", responses={200: ContactSerializer, **ERROR_RESPONSES}),
    destroy=extend_schema(summary="Remove a contact", responses={204: None, **WRITE_RESPONSES}),
)
class ContactViewSet(viewsets.ModelViewSet):
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    ordering_fields = CONTACT_ORDERING

    def get_queryset(self):
        return selectors.contact_list(user=self.request.user)

    @extend_schema(
        summary="Add a contact",
        description="You must be able to change the client.",
        responses={201: ContactSerializer, **WRITE_RESPONSES},
    )
    def create(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {key: value for key, value in data.validated_data.items() if key != "version"}
        contact = services.contact_create(actor=request.user, **fields)
        return Response(self.get_serializer(contact).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a contact's details",
        request=ContactUpdateSerializer,
        responses={200: ContactSerializer, **CONFLICT_RESPONSES},
    )
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(
        summary="Change some of a contact's details",
        request=ContactUpdateSerializer,
        responses={200: ContactSerializer, **CONFLICT_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool) -> Response:
        contact = self.get_object()
        ensure_client_editable(user=request.user, client=contact.client)
        data = ContactUpdateSerializer(
            contact, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        contact = services.contact_update(
            contact=contact, actor=request.user, expected_version=fields.pop("version", None), **fields
        )
        return Response(self.get_serializer(contact).data)

    def destroy(self, request, pk=None):
        contact = self.get_object()
        ensure_client_editable(user=request.user, client=contact.client)
        services.contact_delete(contact=contact, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
