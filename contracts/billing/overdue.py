"""``invoice.overdue`` webhooks: once per invoice, the day after its due date passes with money still owed.

A daily sweep (beat, 00:45 local) looks at the open invoices due in the last ``LOOKBACK`` days (so a sweep that
did not run for a few days catches up, and an endpoint registered today is not sent years of old debts). The
event's ``once_key`` makes a second announcement impossible, however often or concurrently the sweep runs.
Disputed and paused invoices are announced too (the payload says ``disputed``): being overdue is a fact, chasing
it is the collection cadence's business.
"""

from datetime import date, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from contracts.models import Invoice
from integrations.models import WebhookEvent
from integrations.services import EventType, emit, subscribers

LOOKBACK = timedelta(days=7)
BATCH_SIZE = 200


def once_key(invoice_id: int) -> str:
    return f"{EventType.INVOICE_OVERDUE}:{invoice_id}"


def announce_overdue_invoices(*, today: date | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Emit ``invoice.overdue`` for each invoice that became overdue in the last week and was not announced yet;
    how many were announced. No query beyond one when no endpoint subscribes."""
    if not subscribers(EventType.INVOICE_OVERDUE):
        return 0
    today = today or timezone.localdate()
    overdue = Invoice.objects.overdue(today).filter(due_date__gte=today - LOOKBACK, gross_amount__gt=F("paid_amount"))
    announced, last = 0, 0
    while True:
        ids = list(overdue.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return announced
        done = set(
            WebhookEvent.objects.filter(once_key__in=[once_key(pk) for pk in ids]).values_list("once_key", flat=True)
        )
        fresh = [pk for pk in ids if once_key(pk) not in done]
        with transaction.atomic():
            for invoice in Invoice.objects.filter(pk__in=fresh).only("due_date"):
                days_overdue = (today - invoice.due_date).days
                event = emit(
                    EventType.INVOICE_OVERDUE, invoice, once_key=once_key(invoice.pk), days_overdue=days_overdue
                )
                announced += event is not None
        last = ids[-1]
