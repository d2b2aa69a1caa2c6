"""Billing's part of the client health score: receivables overdue for more than 30 days.

The oldest open invoice's days past due cost points: more than 30 days −10, more than 60 −20, more than 90 −30.
A disputed invoice, or one with a promise to pay, still counts: follow-ups pause for them, but the money is late
all the same and the account is at risk until it comes in. A paid, void or written-off invoice never counts.

The score's points: for each rule, the set of clients with an open invoice more than its days past due, computed
once for a whole list. The client page's explanation: one subquery per client, served by the (client, status,
due_date) index: the oldest due date among its open invoices more than 30 days past due, as days past due (NULL
when there is none).
"""

from datetime import timedelta

from django.db.models import DurationField, ExpressionWrapper, F, OuterRef, Subquery, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clients.health import Factor, HealthRule, tiered_penalty
from contracts.models import OPEN_STATUSES, Invoice

# (more than this many days past due, points lost), the longest first
OVERDUE_RULES = ((90, 30), (60, 20), (30, 10))
LEAST_DAYS = min(days for days, _points in OVERDUE_RULES)


def _annotations(now) -> dict:
    today = timezone.localdate(now)
    oldest = (
        Invoice.objects.filter(
            client=OuterRef("pk"), status__in=OPEN_STATUSES, due_date__lt=today - timedelta(days=LEAST_DAYS)
        )
        .order_by("due_date")
        .values(late=ExpressionWrapper(Value(today) - F("due_date"), output_field=DurationField()))[:1]
    )
    return {"oldest_overdue_invoice_late": Subquery(oldest, output_field=DurationField())}


def _penalty(now):
    """The points of ``oldest_overdue_invoice_late`` without a look-up per client: for each rule, the clients with an
    open invoice more than its days past due, a set computed once for a whole list (the open invoices' partial
    index by due date and client, ``invoice_open_client``, without reading the table), the longest first."""
    today = timezone.localdate(now)
    open_invoices = Invoice.objects.filter(status__in=OPEN_STATUSES).order_by()
    return tiered_penalty(
        [
            (open_invoices.filter(due_date__lt=today - timedelta(days=days)).values("client"), points)
            for days, points in OVERDUE_RULES
        ]
    )


def overdue_points(days_late: int) -> int:
    return next((points for days, points in OVERDUE_RULES if days_late > days), 0)


def _explain(client, now) -> Factor | None:
    late = getattr(client, "oldest_overdue_invoice_late", None)
    if late is None or not overdue_points(late.days):
        return None
    detail = ngettext(
        "Invoices overdue: the oldest is %(days)d day past due.",
        "Invoices overdue: the oldest is %(days)d days past due.",
        late.days,
    )
    return Factor(_("Overdue receivables"), overdue_points(late.days), detail % {"days": late.days})


OVERDUE_RECEIVABLES_RULE = HealthRule(annotations=_annotations, penalty=_penalty, explain=_explain)
