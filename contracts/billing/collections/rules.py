"""When a follow-up is due: the levels by days past the due date, and which invoices the sweep and the e-mail take."""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When

from contracts.models import CollectionLevel, CollectionPause, CollectionStep, Invoice

# (level, first day of it): days past the due date, negative before it. Highest first: the first that has come.
LEVEL_DAYS = (
    (CollectionLevel.ESCALATED, 30),
    (CollectionLevel.FINAL, 14),
    (CollectionLevel.OVERDUE, 7),
    (CollectionLevel.DUE, 0),
    (CollectionLevel.COURTESY, -3),
)
NOTICE_WINDOW = timedelta(days=3)  # an e-mail lists the invoices due within this, and those overdue


def level_due(due_date: date, today: date) -> int | None:
    """The follow-up level an invoice due on ``due_date`` has reached on ``today``; None more than 3 days ahead."""
    days_overdue = (today - due_date).days
    return next((level for level, first_day in LEVEL_DAYS if days_overdue >= first_day), None)


def _not_on_hold(today: date) -> Q:
    """Not disputed, not paused (the invoice or its client), no promise to pay today or later."""
    client_paused = CollectionPause.objects.filter(client=OuterRef("client_id"))
    return (
        Q(disputed=False, followups_paused=False)
        & (Q(promise_to_pay__isnull=True) | Q(promise_to_pay__lt=today))
        & ~Exists(client_paused)
    )


def chased_invoices(today: date) -> QuerySet[Invoice]:
    """Open invoices with something left to pay, due within 3 days or overdue, not on hold: what a follow-up
    e-mail lists (the minimum amount aside: a small invoice is listed, it just never starts a follow-up)."""
    return (
        Invoice.objects.open()
        .filter(gross_amount__gt=F("paid_amount"), due_date__lte=today + NOTICE_WINDOW)
        .filter(_not_on_hold(today))
    )


def _at_least_the_minimum() -> Q:
    """Outstanding at least ``settings.ACCORD_COLLECTION_MINIMUM`` of its currency (no minimum for others)."""
    minimum = settings.ACCORD_COLLECTION_MINIMUM
    condition = ~Q(currency__in=list(minimum))
    for currency, amount in minimum.items():
        condition |= Q(currency=currency, gross_amount__gte=F("paid_amount") + Decimal(amount))
    return condition


def follow_ups_due(today: date) -> QuerySet[Invoice]:
    """The invoices with a follow-up level due on ``today`` that they have not reached before, annotated
    ``due_level`` (``level_due``, as the function above). A step at that level or higher means nothing is due."""
    level = Case(
        *(When(due_date__lte=today - timedelta(days=first), then=Value(level)) for level, first in LEVEL_DAYS),
        output_field=IntegerField(),
    )
    taken = CollectionStep.objects.filter(invoice=OuterRef("pk"), level__gte=OuterRef("due_level"))
    return chased_invoices(today).filter(_at_least_the_minimum()).annotate(due_level=level).filter(~Exists(taken))


def notice_level(levels) -> int:
    """The tone of a client's day: its highest e-mail level (L0–L3); L4 when only escalations were taken."""
    return max((level for level in levels if level != CollectionLevel.ESCALATED), default=CollectionLevel.ESCALATED)
