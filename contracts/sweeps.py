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

from django.db.models import QuerySet
from django.utils import timezone

from contracts.models import Contract, Stage
from contracts.services import contract_auto_renew, contract_expire

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
    return contract_auto_renew(contract_id=contract_id, today=today)


def _expire(contract_id: int, today: date) -> bool:
    return contract_expire(contract_id=contract_id, today=today)
