"""What an event says about its record: the fields an integration needs, as JSON, frozen when the event is emitted.

Records are read by attribute only (this app imports no domain app: they import it). Money is a decimal string,
datetimes ISO 8601 in UTC, dates ISO 8601; related records by id; ``url`` is the record's page in Accord.
"""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.urls import reverse

# Per kind of record (the event type's prefix): the fields sent, and the page's URL name.
FIELDS = {
    "client": (
        ("id", "name", "legal_name", "tax_code", "industry", "tier", "status", "owner_id", "team_id"),
        ("billing_currency", "payment_terms_days", "website", "phone", "city", "created_at", "updated_at"),
    ),
    "contract": (
        ("id", "number", "title", "client_id", "owner_id", "kind", "stage", "probability", "value", "currency"),
        ("billing_schedule", "payment_terms_days", "expected_close", "signed_at", "start_date", "end_date"),
        ("auto_renew", "notice_days", "notice_deadline", "renewal_of_id", "stage_changed_at", "lost_reason"),
    ),
    "proposal": (
        ("id", "number", "version", "title", "client_id", "contract_id", "owner_id", "status", "currency"),
        ("subtotal", "net_amount", "total", "discount_percent", "valid_until", "sent_at", "decided_at"),
        ("decided_by_name", "decline_reason"),
    ),
    "invoice": (
        ("id", "number", "client_id", "contract_id", "description", "issue_date", "due_date", "currency"),
        ("net_amount", "vat_rate", "vat_amount", "gross_amount", "paid_amount", "status", "issued_at", "paid_on"),
        ("disputed",),
    ),
    "request": (
        ("id", "client_id", "kind", "title", "description", "priority", "status", "owner_id", "received_at"),
        ("sla_due_at", "resolved_at"),
    ),
}
PAGES = {
    "client": "clients:detail",
    "contract": "contracts:detail",
    "proposal": "proposals:detail",
    "invoice": "contracts:invoice_detail",
    "request": "clients:request",
}


def record_data(event_type: str, record: models.Model) -> dict:
    """The record as the event's ``data.object``, read afresh (inside the caller's transaction: its own writes
    included, whatever the caller's instance still holds)."""
    kind = event_type.split(".", 1)[0]
    record = type(record)._base_manager.get(pk=record.pk)
    data = {name: getattr(record, name) for group in FIELDS[kind] for name in group}
    if kind == "invoice":
        data["outstanding_amount"] = record.gross_amount - record.paid_amount
    data["url"] = settings.ACCORD_SITE_URL + reverse(PAGES[kind], args=[record.pk])
    return data


def as_json(data: dict) -> dict:
    """Only JSON types left: Decimal → string, datetime/date → ISO 8601, UUID → string."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))
