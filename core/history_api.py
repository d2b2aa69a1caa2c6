"""The API's read-only history endpoints (``GET /api/v1/<resource>/{id}/history``): one page of a record's audit
history, newest first, each entry with who, when and the fields that changed (core.history).

A viewset adds the route with ``history_action(...)``; the record's visibility is the viewset's own question.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from core.api import ERROR_RESPONSES, whole_number_parameter
from core.history import HistorySource, history_page


class HistoryUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field's name, as in the record's own endpoint.")
    label = serializers.CharField(help_text="The field's name in the request's language.")
    old = serializers.CharField(
        allow_null=True, help_text="The value before, as the pages show it; null when empty or on creation."
    )
    new = serializers.CharField(allow_null=True, help_text="The value after, as the pages show it; null when empty.")


class HistoryEntrySerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The entry's stable id: `<app>.<model>:<n>`.")
    at = serializers.DateTimeField(help_text="When the change was saved.")
    kind = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    object_type = serializers.CharField(help_text="What changed: the record itself or a part of it (`payment`).")
    object_id = serializers.IntegerField()
    object_label = serializers.CharField(help_text="The changed record's name at the time.")
    user = HistoryUserSerializer(allow_null=True, help_text="Who saved it; null for Accord itself (a background task).")
    changes = HistoryChangeSerializer(
        many=True, help_text="The fields that changed; on creation every field that was set (`old` null)."
    )


class HistoryPageSerializer(serializers.Serializer):
    results = HistoryEntrySerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The page of older entries; null on the last page.")


EXAMPLE = {
    "results": [
        {
            "id": "contracts.invoice:418",
            "at": "2026-11-27T10:42:13.511208+07:00",
            "kind": "changed",
            "object_type": "invoice",
            "object_id": 42,
            "object_label": "INV-2026-00042",
            "user": {"id": 7, "full_name": "Vũ Đức Thắng"},
            "changes": [
                {"field": "status", "label": "Status", "old": "Issued", "new": "Partially paid"},
                {"field": "paid_amount", "label": "Paid", "old": "0 ₫", "new": "55,000,000 ₫"},
            ],
        }
    ],
    "next": "https://accord.example/api/v1/invoices/42/history?before=1795150933511208",
}


def history_schema(*, resource: str, description: str):
    """The schema of a history endpoint: its summary, description, cursor parameter and example."""
    return extend_schema(
        summary=f"The change history of a {resource}",
        description=(
            f"{description} Newest first, 20 entries a page; `next` gives the older ones. Each entry says when, "
            "who (null: Accord itself, a background task) and, field by field, the value before and after, written "
            "as the pages write it (choices by their label, people and records by name, money with its currency, "
            "dates in the agency's time zone). Read-only: nobody can change or delete history. A record you may "
            "not see is a 404."
        ),
        parameters=[
            OpenApiParameter(
                "before",
                {"type": "integer", "minimum": 1},
                description="The cursor of an older page, from `next`: entries saved before it.",
            )
        ],
        responses={200: HistoryPageSerializer, **ERROR_RESPONSES},
        examples=[OpenApiExample("An invoice partly paid", value=EXAMPLE, response_only=True)],
    )


def history_answer(request: Request, sources: list[HistorySource]) -> Response:
    """One page of the history of ``sources``; a ``before`` that is not a whole number of at least 1 is a 400."""
    before = whole_number_parameter(request, "before")
    page = history_page(sources=sources, before=before)
    url = request.build_absolute_uri()
    data = {
        "results": [
            {
                "id": entry.id,
                "at": entry.at,
                "kind": entry.kind,
                "object_type": entry.object_type,
                "object_id": entry.object_id,
                "object_label": entry.object_label,
                "user": {"id": entry.user.pk, "full_name": entry.user.full_name} if entry.user else None,
                "changes": [vars(change) for change in entry.changes],
            }
            for entry in page.entries
        ],
        "next": replace_query_param(url, "before", page.older) if page.older else None,
    }
    return Response(HistoryPageSerializer(data).data)
