"""The nightly contract sweep (Celery beat, 00:30 local): auto-renewals at the notice deadline, then expiries.

- An auto-renewing active contract whose notice deadline has come gets its successor draft, as "Renew" would
  create it, on behalf of its owner. ``renewal_of`` is one-to-one, so a second successor cannot exist: a sweep
  that loses the race (the contract's row lock, or the unique index) creates nothing.
- An active contract past its end date (its end date was yesterday or earlier) without an active successor
  moves to expired, with its stage-change row, under the stage rules of ``contracts.services``.

Each contract is handled in its own short transaction, so a killed worker leaves every contract either done or
untouched; the candidates are walked in keyset batches, so memory stays flat.
"""

from collections.abc import Callable, Iterator
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts.models import NotificationLevel
from accounts.services import notify
from contracts.models import DEFAULT_PROBABILITY, Contract, Stage, StageChange
from contracts.services import _create_successor, check_move
from core.errors import ConflictError, TransitionError

BATCH_SIZE = 200


def auto_renewals_due(today: date) -> QuerySet[Contract]:
    """Active auto-renewing contracts whose notice deadline is today or past, still without a successor."""
    return Contract.objects.filter(
        stage=Stage.ACTIVE, auto_renew=True, notice_deadline__lte=today, successor__isnull=True
    )


def expiries_due(today: date) -> QuerySet[Contract]:
    """Active contracts that ended before ``today`` and have no active successor."""
    return Contract.objects.filter(stage=Stage.ACTIVE, end_date__lt=today).exclude(successor__stage=Stage.ACTIVE)


def renew_and_expire_contracts(*, today: date | None = None, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Create the due auto-renewals, then expire the ended contracts; how many of each this run did.

    Idempotent: a second run on the same day (or a concurrent one) finds nothing left to do.
    """
    today = today or timezone.localdate()
    renewed = sum(_auto_renew(pk, today) for pk in _keyset(lambda: auto_renewals_due(today), batch_size))
    expired = sum(_expire(pk, today) for pk in _keyset(lambda: expiries_due(today), batch_size))
    return {"renewed": renewed, "expired": expired}


def _keyset(candidates: Callable[[], QuerySet[Contract]], batch_size: int) -> Iterator[int]:
    """The candidates' ids in ascending order, ``batch_size`` per query, re-asking the database each batch."""
    last_pk = 0
    while True:
        ids = list(candidates().filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size])
        yield from ids
        if len(ids) < batch_size:
            return
        last_pk = ids[-1]


def _auto_renew(contract_id: int, today: date) -> bool:
    try:
        with transaction.atomic():
            contract = Contract.objects.select_for_update(of=("self",)).select_related("owner").get(pk=contract_id)
            if not (contract.stage == Stage.ACTIVE and contract.auto_renew and contract.notice_deadline <= today):
                return False  # changed since it was listed
            successor = _create_successor(contract, contract.owner)  # refuses a second successor (ConflictError)
            notify(
                user=contract.owner,
                title=gettext_lazy("%(number)s renews automatically: renewal %(successor)s drafted"),
                body=gettext_lazy("The notice deadline has passed. Review the renewal's terms and get it signed."),
                url=reverse("contracts:detail", args=[successor.pk]),
                params={"number": contract.number, "successor": successor.number},
            )
    except (ConflictError, TransitionError):
        return False  # another sweep or a person renewed it first
    except IntegrityError:
        if Contract.objects.filter(renewal_of=contract_id).exists():
            return False  # the one-to-one index stopped a second successor
        raise
    return True


def _expire(contract_id: int, today: date) -> bool:
    with transaction.atomic():
        contract = Contract.objects.select_for_update(of=("self",)).select_related("owner").get(pk=contract_id)
        if contract.stage != Stage.ACTIVE or contract.end_date >= today:
            return False  # renewed, terminated or extended since it was listed
        if Contract.objects.filter(renewal_of=contract, stage=Stage.ACTIVE).exists():
            return False
        # The owner stands in as the actor: the sweep acts on their contract, and an actor is required.
        note = gettext("Ended on %(end)s: expired automatically.") % {"end": contract.end_date.isoformat()}
        check_move(contract, Stage.EXPIRED, contract.owner, lost_reason="", note=note)
        now = timezone.now()
        StageChange.objects.create(
            contract=contract,
            source=contract.stage,
            target=Stage.EXPIRED,
            actor=contract.owner,
            note=note,
            changed_at=now,
        )
        Contract.objects.filter(pk=contract.pk).update(
            stage=Stage.EXPIRED,
            probability=DEFAULT_PROBABILITY[Stage.EXPIRED],
            stage_changed_at=now,
            version=F("version") + 1,
            updated_at=now,
        )
        notify(
            user=contract.owner,
            title=gettext_lazy("%(number)s has expired"),
            body=gettext_lazy("%(title)s ended on %(end)s without a signed renewal."),
            url=reverse("contracts:detail", args=[contract.pk]),
            level=NotificationLevel.WARNING,
            email=False,
            params={"number": contract.number, "title": contract.title, "end": contract.end_date.isoformat()},
        )
    return True
