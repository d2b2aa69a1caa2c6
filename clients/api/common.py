"""Pieces every clients endpoint shares: people and record references, scoped ids, the editability check."""

import functools
from collections.abc import Callable

from django.db.models import Choices, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from accounts.models import User
from clients import selectors
from clients.models import Client
from core.api import ERROR_RESPONSES, ErrorSerializer
from core.errors import PermissionDeniedError

WRITE_RESPONSES = {
    **ERROR_RESPONSES,
    403: OpenApiResponse(ErrorSerializer, description="You may see the record but not change it."),
}
CONFLICT_RESPONSES = {
    **WRITE_RESPONSES,
    409: OpenApiResponse(
        ErrorSerializer, description="`version` is stale: someone saved the record since you read it."
    ),
}


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "full_name"]
        read_only_fields = fields


@functools.cache
def _enum_field_class(choices: type[Choices]) -> type[serializers.ChoiceField]:
    field_class = type(f"{choices.__name__}Field", (serializers.ChoiceField,), {})
    schema = {"type": "string", "enum": list(choices.values)}
    return extend_schema_field(schema, component_name=f"{choices.__name__}Enum")(field_class)


def enum_field(choices: type[Choices], **kwargs) -> serializers.ChoiceField:
    """A choice field documented as one enum component named after its choices (`RequestStatusEnum`).

    The schema's automatic naming goes by field name, so a set used under two names (a request's `status` and a
    transition's `to`) or two sets under one name (every `status`) get hashed names and a warning.
    """
    return _enum_field_class(choices)(choices=choices.choices, **kwargs)


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """The id of a record the requesting user may see. Any other id is "does not exist" (400), never "forbidden",
    so a body field leaks no more than a URL does."""

    def __init__(self, *, scope: Callable[[User], QuerySet], **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        return self.scope(self.context["request"].user)


def ordering_help(fields: list[str]) -> str:
    """The last sentence (leading space included) of a list description: which `?ordering=` values work."""
    return f" Order with `?ordering=`: {', '.join(f'`{field}`' for field in fields)}; a leading `-` reverses."


def active_users(user: User) -> QuerySet[User]:
    return User.objects.visible_to(user)


def detailed_clients(user: User) -> QuerySet[Client]:
    return Client.objects.detailed_for(user)


def ensure_client_editable(*, user: User, client: Client) -> None:
    """403 before any input is read when the user sees the client but may not change it (the services check again
    inside their transaction)."""
    if not selectors.can_edit_client(user=user, client=client):
        raise PermissionDeniedError(_("Only the client's owner or a director can change this client."))
