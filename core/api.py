"""The API's shared parts: pagination, the schema's shared parts and the single error format.

Every error body is ``{"error": {"code": str, "message": str, "fields": {field: [message, ...]}}}``.
"""

import copy
from functools import partial

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.fields import get_error_detail
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError
from core.pagination import SlimPaginator


class StandardPagination(PageNumberPagination):
    """`?page=N&page_size=M` (default 50, at most 200); envelope count/next/previous/results."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        """A `page_size` that is not a whole number of at least 1 is a 400, not silently the default."""
        whole_number_parameter(request, self.page_size_query_param)
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (self.page_query_param, self.page_size_query_param):
                parameter["schema"]["minimum"] = 1
        return parameters


class SlimPagination(StandardPagination):
    """StandardPagination over rows costly to compute (core/pagination.py ``SlimPaginator``): the page's ids, then
    its rows by id. A view with ``kept_order(queryset)`` hands the list's ids in order (kept in a cache)."""

    def paginate_queryset(self, queryset, request, view=None):
        kept = view.kept_order(queryset) if hasattr(view, "kept_order") else None
        self.django_paginator_class = partial(SlimPaginator, ordered_ids=kept)
        return super().paginate_queryset(queryset, request, view)


def whole_number_parameter(request, name: str) -> int | None:
    """The query parameter ``name`` as a whole number of at least 1, None when absent; a 400 naming it otherwise."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
        raise exceptions.ValidationError({name: [_("Enter a whole number of at least 1.")]})
    return int(raw)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `invalid`, `not_found`.")
    message = serializers.CharField(help_text="Human-readable summary in the request's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per-field messages for validation errors; empty otherwise.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input or a business rule refused the action."),
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(ErrorSerializer, description="Authenticated but not allowed."),
    404: OpenApiResponse(ErrorSerializer, description="No such record, or not visible to you."),
}
STALE_VERSION_RESPONSE = OpenApiResponse(
    ErrorSerializer, description="Someone saved the record since the `version` you sent: `conflict`; reload."
)


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {message}" for key, value in detail.items() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for item in detail for message in _flatten(item)]
    return [str(detail)]


def _validation_body(detail) -> dict:
    if isinstance(detail, dict):
        general_keys = ("non_field_errors", "__all__")
        fields = {key: _flatten(value) for key, value in detail.items() if key not in general_keys}
        general = [message for key in general_keys for message in _flatten(detail.get(key, []))]
    else:
        fields, general = {}, _flatten(detail)
    message = " ".join(general) or _("Some fields are not valid.")
    return error_body("invalid", message, fields)


def exception_handler(exc, context):
    """DRF's handler, then one body shape for every error it or a service raised."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        # Model validation run by a service (full_clean): the same 400 as a serializer's.
        exc = exceptions.ValidationError(detail=get_error_detail(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc.detail)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        response.data = error_body(code if isinstance(code, str) else "error", str(detail))
    return response


# --- The schema: what every operation shares (postprocessing hook, SPECTACULAR_SETTINGS) -----------------------

_ERROR_SCHEMA = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Any unique string of printable ASCII characters (a new UUID per request is best), at most 255. A retry "
        "with the same key within 24 hours "
        "gets the first answer again, with `Idempotent-Replayed: true`, and creates nothing twice; a concurrent "
        "twin waits for the first to finish. The same key with another body or path is 422 "
        "`idempotency_key_reused`. Keys are per user."
    ),
    # No example value: one key shared by every request would make each POST after the first a 422.
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}
_REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
_THROTTLED_RESPONSE = {
    "description": "Too many requests for this token (or user) or this address: `throttled`; retry later.",
    "headers": {
        "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}},
    },
    "content": _ERROR_SCHEMA,
}
_KEY_REUSED_RESPONSE = {
    "description": "The Idempotency-Key was already used for another request: `idempotency_key_reused`.",
    "content": _ERROR_SCHEMA,
}


_ERROR_RESPONSE_DESCRIPTIONS = {
    "400": "Invalid input (body, filter or page size) or a business rule refused the action: `invalid` and others.",
    "401": "Not authenticated: no token, or an unknown, revoked or expired one.",
    "403": "Authenticated but not allowed: your role, or a read-only token on a write (`token_read_only`).",
    "404": "No such record, not visible to you, or no such page of a list: `not_found`.",
}
_PAGINATION_PARAMETERS = {"page", "page_size"}


def _error_response(status: str) -> dict:
    return {"description": _ERROR_RESPONSE_DESCRIPTIONS[status], "content": copy.deepcopy(_ERROR_SCHEMA)}


def _document_errors(operation: dict) -> None:
    """The error answers every operation can give: 401/403 always, 400 with input, 404 with an id or a page."""
    responses = operation["responses"]
    parameters = operation.get("parameters", [])
    statuses = ["401", "403"]
    if parameters or "requestBody" in operation:
        statuses.append("400")
    if any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters):
        statuses.append("404")
    for status in statuses:
        responses.setdefault(status, _error_response(status))


def _empty_filter_means_unfiltered(operation: dict) -> None:
    """django-filter ignores an empty filter value (`?client=`): say so, so the schema does not call it invalid."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter["in"] != "query" or parameter["name"] in _PAGINATION_PARAMETERS:
            continue
        if schema.get("type") in ("integer", "number", "boolean") or schema.get("format") in ("date", "date-time"):
            parameter["schema"] = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}


def _any_of_untagged_rows(components: dict) -> None:
    """A row that is one of several shapes without a tag (a full record or its summary) matches any of them."""
    for component in components.values():
        if "oneOf" in component and "discriminator" not in component:
            component["anyOf"] = component.pop("oneOf")


def schema_postprocess(result, generator, request, public):
    """Errors each operation can answer; 429 everywhere; every POST takes an Idempotency-Key (core/idempotency.py)."""
    _any_of_untagged_rows(result.get("components", {}).get("schemas", {}))
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            _document_errors(operation)
            _empty_filter_means_unfiltered(operation)
            responses.setdefault("429", copy.deepcopy(_THROTTLED_RESPONSE))
            if method != "post":
                continue
            operation.setdefault("parameters", []).append(copy.deepcopy(_IDEMPOTENCY_KEY_PARAMETER))
            responses.setdefault("400", _error_response("400"))  # a malformed key: `invalid_idempotency_key`
            responses.setdefault("422", copy.deepcopy(_KEY_REUSED_RESPONSE))
            for status, response in responses.items():
                if str(status).startswith("2"):
                    response.setdefault("headers", {}).update(copy.deepcopy(_REPLAYED_HEADER))
    return result
