"""The daily sweep: keyset batches of clients, one transaction each, claims first (see the package's docstring)."""

import os
import time
from datetime import date
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from clients.models import Activity, Client
from contracts.models import CollectionNotice, Invoice, InvoiceEvent

from .claims import claim_notices, claim_steps
from .notices import (
    ClientDay,
    Escalation,
    attach_billing_contacts,
    escalate,
    escalation_people,
    invoice_events,
    queue_notice_emails,
    tell_the_account_managers,
    timeline_entry,
)
from .rules import follow_ups_due, notice_level

BATCH_SIZE = 500  # clients per batch
# What the sweep reads of an invoice and of its client (a first sweep reads thousands); the client's owner whole:
# a handful of account managers, and a field left out would cost a query per notification.
INVOICE_FIELDS = ("client", "number", "due_date", "currency", "gross_amount", "paid_amount")
CLIENT_FIELDS = ("name", "owner")
# Test hook: seconds to wait at the end of each batch, inside its transaction, so a test can kill the worker there.
PAUSE_VARIABLE = "ACCORD_COLLECTION_SWEEP_PAUSE"


def send_follow_ups(*, today: date | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Take every follow-up due on ``today`` (default: the agency's today) that was not taken before.

    Returns how many (invoice, level) steps this run took. Safe to run any number of times, concurrently too;
    memory stays flat (``batch_size`` clients at a time) and each batch costs a fixed number of queries plus the
    notifications (a client with no billing contact, an escalation).
    """
    today = today or timezone.localdate()
    escalation = escalation_people()
    due = follow_ups_due(today)
    taken, last_client = 0, 0
    while True:
        with transaction.atomic():
            clients = list(
                due.filter(client_id__gt=last_client)
                .order_by("client_id")
                .values_list("client_id", flat=True)
                .distinct()[:batch_size]
            )
            if not clients:
                return taken
            invoices = due.filter(client_id__in=clients).only(*INVOICE_FIELDS).order_by("client_id", "pk")
            taken += _take(list(invoices), today, escalation)
            _pause_for_tests()
        last_client = clients[-1]


def _take(invoices: list[Invoice], today: date, escalation: Escalation) -> int:
    """Claim a batch's notices and steps, log them, notify, and queue the e-mails after commit."""
    by_client: dict[int, list[Invoice]] = {}
    for invoice in invoices:
        by_client.setdefault(invoice.client_id, []).append(invoice)
    levels = {client_id: notice_level(invoice.due_level for invoice in group) for client_id, group in by_client.items()}
    notices = claim_notices(levels, today)
    taken = claim_steps([invoice for invoice in invoices if invoice.client_id in notices], notices, today)
    clients = Client.objects.filter(pk__in=list(notices)).select_related("owner").only(*CLIENT_FIELDS).in_bulk()
    days = [
        ClientDay(
            client=clients[client_id],
            notice_id=notices[client_id],
            invoices=[invoice for invoice in group if invoice.pk in taken],
        )
        for client_id, group in by_client.items()
        if client_id in notices
    ]
    days = _settle_notices(days, levels)
    attach_billing_contacts([day for day in days if day.emails])
    with translation.override(settings.LANGUAGE_CODE):
        events = [event for day in days for event in invoice_events(day, escalation)]
    tell_the_account_managers([day for day in days if day.emails and not day.contacts])
    deliveries = [(day.notice_id, contact.pk) for day in days if day.emails for contact in day.contacts]
    if deliveries:
        transaction.on_commit(partial(queue_notice_emails, deliveries))
    entries = [timeline_entry(day, escalation, today) for day in days]
    escalate([day for day in days if day.escalated], escalation, today)
    InvoiceEvent.objects.bulk_create(events)
    Activity.objects.bulk_create(entries)
    return len(taken)


def _settle_notices(days: list[ClientDay], levels: dict[int, int]) -> list[ClientDay]:
    """A step another sweep took first (one running for another day) leaves a notice with fewer steps: its level
    follows what was taken, and a notice with none goes. Rare: no query otherwise."""
    empty = [day.notice_id for day in days if not day.invoices]
    if empty:
        CollectionNotice.objects.filter(pk__in=empty).delete()
    kept = [day for day in days if day.invoices]
    for day in kept:
        if day.level != levels[day.client.pk]:
            CollectionNotice.objects.filter(pk=day.notice_id).update(level=day.level)
    return kept


def _pause_for_tests() -> None:
    seconds = float(os.environ.get(PAUSE_VARIABLE) or 0)
    if seconds > 0:
        time.sleep(seconds)
