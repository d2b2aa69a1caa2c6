"""Invoices from billing schedules (Celery beat, daily 07:00 local): each item of a contract's schedule, once.

What a schedule calls for (``schedule_items``), in the contract's currency, net of VAT (each scheduled invoice
adds the standard 10 %; an invoice at another rate is made by hand):

- ``monthly_retainer``: one invoice per calendar month the contract's period touches (a period from 15 January to
  14 January next year touches 13 months), key ``retainer:YYYY-MM``. Each falls due on
  ``settings.ACCORD_RETAINER_INVOICE_DAY`` of its month, kept inside the period: the first month's on the later of
  that day and the start, the last month's on the earlier of that day and the end. The value is split evenly
  over the months, not pro rata by days.
- ``milestones``: one invoice per delivery phase once it is finished (its actual end has come), key
  ``milestone:<phase id>``; the value is split by the phases' budgets (evenly when none has a budget). A milestone
  contract without phases is billed by hand.
- ``one_off``: one invoice for the whole value on the start date, key ``one-off``.

Each amount is rounded to the currency (``core.money.round_money``, VND to the đồng, USD to the cent) and the
last item (last month, last phase by order) takes the remainder, so the invoices of a schedule add up exactly to
the contract's value. Should the value or the phase budgets change once invoicing has begun, issued invoices stay
as they are, the items still to come follow the new terms, and the last item settles the difference; nothing is
ever invoiced beyond the value (a schedule switched after invoicing began bills only what is left of it).

When: an item is invoiced on the first run on or after its day, so a contract signed late (or a worker that was
down) gets all the missed months at once. Every invoice is issued on the day the sweep creates it, with the
contract's full payment terms: on schedule that is the item's own day; a caught-up item is never overdue at birth.

Which contracts: active ones, plus renewed and expired ones until ``ENDED_GRACE_DAYS`` after their end (signing a
renewal marks the contract renewed before its period is over, and a phase may be closed a few days after the end).
Terminated contracts get nothing more: what is owed after a termination is settled by hand.

Descriptions are stored once for every reader (statements and e-mails go out in each contact's language), so they
use no translated words: the contract's number and title with the month (``11/2026``) or the phase's name.

Idempotent and safe to run concurrently: every invoice is created and issued in its own transaction, and a
unique (contract, schedule key) index lets one invoice per item exist; a sweep that loses the race rolls back that
item (its number goes back too) and moves on. Contracts are walked in keyset batches with a fixed number of
queries per batch, so memory stays flat. Each contract owner hears once per run how many invoices went out.
"""

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy, ngettext_lazy

from accounts.models import User
from accounts.services import notify
from contracts.billing import services
from contracts.models import BillingSchedule, Contract, Invoice, Phase, Stage
from core.errors import DomainError
from core.money import round_money

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
# Renewed and expired contracts keep their remaining items coming this many days after their end date.
ENDED_GRACE_DAYS = 60
DESCRIPTION_LENGTH = Invoice._meta.get_field("description").max_length
SEPARATOR = " · "


@dataclass(frozen=True)
class ScheduleItem:
    key: str
    day: date | None  # when it may be invoiced; None: not yet known (a phase still running)
    amount: Decimal
    description: str
    phase: Phase | None = None


def billed_contracts(today: date) -> QuerySet[Contract]:
    """Contracts whose billing schedule may have an item due on ``today``."""
    grace = today - timedelta(days=ENDED_GRACE_DAYS)
    return Contract.objects.filter(
        Q(stage=Stage.ACTIVE) | Q(stage__in=(Stage.RENEWED, Stage.EXPIRED), end_date__gte=grace),
        start_date__lte=today,
        value__gt=0,
    )


def create_scheduled_invoices(*, today: date | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Create and issue every schedule item due by ``today`` (default: the agency's today) not invoiced yet.

    Returns how many invoices this run issued. Safe to run any number of times, concurrently too: an item is
    invoiced once, ever. A contract whose item the services refuse is logged and skipped; the others go on.
    """
    today = today or timezone.localdate()
    issued = Counter()
    for contracts in _batches(today, batch_size):
        billed = _billed_items([contract.pk for contract in contracts])
        for contract in contracts:
            for item in due_items(contract, billed.get(contract.pk, {}), today):
                if _invoice(contract, item, today):
                    issued[contract.owner_id] += 1
    _tell_owners(issued)
    return sum(issued.values())


def due_items(contract: Contract, billed: dict[str, Decimal], today: date) -> list[ScheduleItem]:
    """The items of ``contract``'s schedule whose day has come, with no invoice yet (``billed``: key → net).

    Never more than what is left of the value, whatever was invoiced under other keys (a schedule changed after
    invoicing began): a schedule bills the contract's value once at most."""
    left, due = contract.value - sum(billed.values()), []
    for item in settled(contract, schedule_items(contract), billed):
        if item.key in billed or item.day is None or item.day > today:
            continue
        amount = min(item.amount, left)
        if amount > 0:
            due.append(replace(item, amount=amount))
            left -= amount
    return due


def schedule_items(contract: Contract) -> list[ScheduleItem]:
    """Every item of the contract's billing schedule, in order, with amounts adding up to its value."""
    if contract.billing_schedule == BillingSchedule.MONTHLY_RETAINER:
        return retainer_items(contract)
    if contract.billing_schedule == BillingSchedule.MILESTONES:
        return milestone_items(contract)
    return [ScheduleItem("one-off", contract.start_date, contract.value, _description(contract))]


def retainer_items(contract: Contract) -> list[ScheduleItem]:
    months = calendar_months(contract.start_date, contract.end_date)
    amounts = split(contract.value, [Decimal(1)] * len(months), contract.currency)
    return [
        ScheduleItem(
            f"retainer:{month:%Y-%m}", _invoice_day(contract, month), amount, _description(contract, f"{month:%m/%Y}")
        )
        for month, amount in zip(months, amounts, strict=True)
    ]


def _invoice_day(contract: Contract, month: date) -> date:
    """The month's invoice day, kept inside the contract's period (first and last month)."""
    day = month.replace(day=settings.ACCORD_RETAINER_INVOICE_DAY)
    return min(max(day, contract.start_date), contract.end_date)


def milestone_items(contract: Contract) -> list[ScheduleItem]:
    phases = sorted(contract.phases.all(), key=lambda phase: (phase.order, phase.pk))  # prefetched by the sweep
    budgets = [phase.budget for phase in phases]
    weights = budgets if sum(budgets) > 0 else [Decimal(1)] * len(phases)
    return [
        ScheduleItem(f"milestone:{phase.pk}", phase.actual_end, amount, _description(contract, phase.name), phase)
        for phase, amount in zip(phases, split(contract.value, weights, contract.currency), strict=True)
    ]


def calendar_months(start: date, end: date) -> list[date]:
    """The first day of every calendar month from ``start``'s to ``end``'s, both included."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def split(total: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """``total`` shared by ``weights``, each share rounded to the currency, the last one taking the remainder, so
    the shares add up exactly to ``total``. No share goes below zero, even for a total of a few đồng."""
    if not weights:
        return []
    whole, left, shares = sum(weights), total, []
    for weight in weights[:-1]:
        share = min(round_money(total * weight / whole, currency), left)
        shares.append(share)
        left -= share
    return [*shares, left]


def settled(contract: Contract, items: list[ScheduleItem], billed: dict[str, Decimal]) -> list[ScheduleItem]:
    """The items with the last one settling the value against what was already invoiced under other keys, so the
    schedule still adds up to the value after its terms changed. Unchanged terms leave the items as they are."""
    if not items or items[-1].key in billed:
        return items
    last = items[-1]
    others = sum(net for key, net in billed.items() if key != last.key)
    others += sum(item.amount for item in items[:-1] if item.key not in billed)
    return [*items[:-1], replace(last, amount=contract.value - others)]


def _description(contract: Contract, detail: str = "") -> str:
    """``HD-2026-00042 · Title · 11/2026``: no translated words; the title is shortened to fit the field."""
    others = [part for part in (contract.number, detail) if part]
    room = DESCRIPTION_LENGTH - len(SEPARATOR.join(others)) - len(SEPARATOR)
    return SEPARATOR.join([contract.number, Truncator(contract.title).chars(room), *others[1:]])


def _batches(today: date, batch_size: int) -> Iterator[list[Contract]]:
    """The contracts to bill, ``batch_size`` at a time in id order, each batch with its phases (two queries)."""
    last_pk = 0
    while True:
        contracts = list(
            billed_contracts(today).filter(pk__gt=last_pk).order_by("pk").prefetch_related("phases")[:batch_size]
        )
        if contracts:
            yield contracts
        if len(contracts) < batch_size:
            return
        last_pk = contracts[-1].pk


def _billed_items(contract_ids: list[int]) -> dict[int, dict[str, Decimal]]:
    """Per contract, the schedule keys invoiced already (whatever became of the invoice) and their net amounts."""
    billed: dict[int, dict[str, Decimal]] = {}
    rows = Invoice.objects.filter(contract__in=contract_ids).exclude(schedule_key="")
    for contract_id, key, net in rows.values_list("contract_id", "schedule_key", "net_amount"):
        billed.setdefault(contract_id, {})[key] = net
    return billed


def _invoice(contract: Contract, item: ScheduleItem, today: date) -> bool:
    """Create and issue one item's invoice in its own transaction; False when another sweep got there first."""
    try:
        with transaction.atomic():
            services.invoice_create(
                contract=contract,
                actor=None,
                net_amount=item.amount,
                description=item.description,
                issue_date=today,
                phase=item.phase,
                schedule_key=item.key,
                issue=True,
            )
    except IntegrityError:
        if Invoice.objects.filter(contract=contract, schedule_key=item.key).exists():
            return False  # a concurrent sweep created this item's invoice: its transaction won the unique index
        raise
    except (DomainError, ValidationError) as error:  # this contract's terms need a person; the others go on
        logger.warning("Billing schedule: %s %s not invoiced: %s", contract.number, item.key, error)
        return False
    return True


def _tell_owners(issued: Counter) -> None:
    """One notification per contract owner and run: how many invoices went out for their contracts."""
    for owner in User.objects.filter(pk__in=issued, is_active=True):
        count = issued[owner.pk]
        notify(
            user=owner,
            title=ngettext_lazy(
                "%(count)s invoice issued for your clients", "%(count)s invoices issued for your clients", count
            ),
            body=gettext_lazy("Issued today from the billing schedules of your contracts."),
            url=reverse("contracts:invoices"),
            params={"count": count},
        )
