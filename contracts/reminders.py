"""Renewal reminders: 90, 60, 30 and 7 days before an active contract's notice deadline, each at most once, ever.

The sweep (Celery beat, daily 08:00 local) walks the contracts with a reminder due in keyset batches, one
transaction per batch. It first claims each (contract, offset) of the batch by inserting its RenewalReminder row
(one INSERT ... ON CONFLICT DO NOTHING for the batch), then notifies for the rows it inserted, in the same
transaction (``notify_many``: one INSERT for the batch's notifications, one for their e-mail tasks):

- two sweeps at once: the second one's insert waits for the first one's rows and skips them (unique constraint),
  so it sends nothing for those contracts;
- a worker killed mid-sweep: the open batch rolls back, claims and notifications together, and a rerun sends it;
  the batches committed before stay sent and are skipped.

Dates are the agency's (``timezone.localdate()``): a reminder belongs to a local calendar day.
"""

import os
import time
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, QuerySet, Value, When
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from accounts.models import NotificationLevel, Role, User
from accounts.services import NotificationDraft, notify_many
from contracts.models import Contract, RenewalReminder, Stage

REMINDER_OFFSETS = (90, 60, 30, 7)  # days before the notice deadline
DIRECTOR_OFFSETS = frozenset({30, 7})  # the director hears too
BATCH_SIZE = 500
# Test hook: seconds to wait at the end of each batch, inside its transaction, so a test can kill the worker there.
PAUSE_VARIABLE = "ACCORD_REMINDER_SWEEP_PAUSE"

_local_date = lazy(lambda day: formats.date_format(day, "SHORT_DATE_FORMAT"), str)


def due_offset(notice_deadline: date, today: date) -> int | None:
    """The reminder due on ``today``: the nearest offset whose day has come, so a contract that enters the window
    late gets that one only, never the missed ones. None outside the 90 days and once the deadline has passed."""
    days_left = (notice_deadline - today).days
    if days_left < 0:
        return None
    return min((offset for offset in REMINDER_OFFSETS if offset >= days_left), default=None)


def reminders_due(today: date) -> QuerySet[Contract]:
    """Active contracts whose due reminder (``due_offset``, as the function above) nobody has sent yet.

    Renewed and ended contracts are not active, so they get none; nor does one whose successor is already active.
    """
    nearest_first = sorted(REMINDER_OFFSETS)
    offset = Case(
        *(When(notice_deadline__lte=today + timedelta(days=days), then=Value(days)) for days in nearest_first),
        output_field=IntegerField(),
    )
    sent = RenewalReminder.objects.filter(contract=OuterRef("pk"), offset_days=OuterRef("due_offset"))
    return (
        Contract.objects.filter(
            stage=Stage.ACTIVE,
            notice_deadline__gte=today,
            notice_deadline__lte=today + timedelta(days=max(REMINDER_OFFSETS)),
        )
        .exclude(successor__stage=Stage.ACTIVE)
        .annotate(due_offset=offset)
        .filter(~Exists(sent))
    )


def send_renewal_reminders(*, today: date | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Send every reminder due on ``today`` (default: the agency's today) that was not sent before.

    Returns how many reminders this run sent (one per contract and offset, whatever the number of recipients).
    Safe to run any number of times, concurrently too; memory stays flat (``batch_size`` contracts at a time).
    """
    today = today or timezone.localdate()
    directors = list(User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk"))
    due = reminders_due(today).select_related("owner", "client").order_by("pk")
    sent, last_pk = 0, 0
    while True:
        with transaction.atomic():
            batch = list(due.filter(pk__gt=last_pk)[:batch_size])
            if not batch:
                return sent
            claimed = claim_reminders(batch)
            notify_many(
                draft
                for contract in batch
                if contract.pk in claimed
                for draft in _reminder_notifications(contract, today, directors)
            )
            sent += len(claimed)
            _pause_for_tests()
        last_pk = batch[-1].pk


def claim_reminders(contracts: list[Contract]) -> set[int]:
    """Insert the RenewalReminder rows of a batch (``due_offset`` each) in one statement; the ids of the contracts
    whose row this call inserted.

    ``ON CONFLICT DO NOTHING`` skips a row that exists. A row another open transaction has just inserted makes this
    one wait for it: skipped when that transaction commits, inserted here when it rolls back (a killed worker).
    Rows go in in id order, as every sweep takes them, so two sweeps never wait for each other in a circle.
    """
    if not contracts:
        return set()
    operations, quote = connection.ops, connection.ops.quote_name
    now = operations.adapt_datetimefield_value(timezone.now())
    rows = sorted(
        (contract.pk, contract.due_offset, operations.adapt_datefield_value(contract.notice_deadline), now)
        for contract in contracts
    )
    columns = ", ".join(quote(column) for column in ("contract_id", "offset_days", "notice_deadline", "sent_at"))
    statement = (
        f"INSERT INTO {quote(RenewalReminder._meta.db_table)} ({columns}) "  # noqa: S608 - names, not values
        f"VALUES {', '.join(['(%s, %s, %s, %s)'] * len(rows))} "
        f"ON CONFLICT ({quote('contract_id')}, {quote('offset_days')}) DO NOTHING RETURNING {quote('contract_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [value for row in rows for value in row])
        return {contract_id for (contract_id,) in cursor.fetchall()}


def _reminder_notifications(contract: Contract, today: date, directors: list[User]) -> list[NotificationDraft]:
    """The notifications of a reminder this sweep has claimed: the owner's, and the active directors' at 30 and 7
    days."""
    offset = contract.due_offset
    recipients = [contract.owner] if contract.owner.is_active else []
    if offset in DIRECTOR_OFFSETS:
        recipients += [director for director in directors if director.pk != contract.owner_id]
    return [_notification(recipient, contract, offset, today) for recipient in recipients]


def _notification(recipient: User, contract: Contract, offset: int, today: date) -> NotificationDraft:
    if contract.auto_renew:
        body = gettext_lazy(
            "%(title)s · %(client)s. It ends on %(end)s and renews automatically unless notice is given by "
            "%(deadline)s (days left: %(days)s)."
        )
    else:
        body = gettext_lazy(
            "%(title)s · %(client)s. It ends on %(end)s: agree the renewal or give notice by %(deadline)s "
            "(days left: %(days)s)."
        )
    return NotificationDraft(
        user=recipient,
        title=gettext_lazy("Renewal: %(number)s, notice deadline %(deadline)s"),
        body=body,
        url=reverse("contracts:detail", args=[contract.pk]),
        level=NotificationLevel.WARNING if offset in DIRECTOR_OFFSETS else NotificationLevel.INFO,
        params={
            "number": contract.number,
            "title": contract.title,
            "client": contract.client.name,
            "end": _local_date(contract.end_date),
            "deadline": _local_date(contract.notice_deadline),
            "days": (contract.notice_deadline - today).days,
        },
    )


def _pause_for_tests() -> None:
    seconds = float(os.environ.get(PAUSE_VARIABLE) or 0)
    if seconds > 0:
        time.sleep(seconds)
