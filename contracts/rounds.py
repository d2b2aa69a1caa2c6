"""What changed from one negotiation round to the next: a pure function over rounds already loaded."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from contracts.models import NegotiationRound

PERCENT = Decimal("0.1")


@dataclass(frozen=True)
class RoundChange:
    """One round beside the round before it. The deltas are None for the first round (nothing to compare)."""

    round: NegotiationRound
    previous: NegotiationRound | None
    value_delta: Decimal | None
    value_delta_percent: Decimal | None
    discount_delta: Decimal | None
    payment_terms_delta: int | None
    scope_changed: bool

    @property
    def is_first(self) -> bool:
        return self.previous is None

    @property
    def value_delta_size(self) -> Decimal | None:
        """The size of the value's move without its sign, for showing as "+ 5,000,000 ₫" or "− 5,000,000 ₫"."""
        return None if self.value_delta is None else abs(self.value_delta)

    @property
    def changed_anything(self) -> bool:
        return bool(self.value_delta or self.discount_delta or self.payment_terms_delta or self.scope_changed)


def _percent_change(before: Decimal, after: Decimal) -> Decimal | None:
    """The change as a share of ``before``, to one decimal; None when ``before`` is zero (no base to compare)."""
    if not before:
        return None
    return ((after - before) * 100 / before).quantize(PERCENT)


def round_changes(rounds: Iterable[NegotiationRound]) -> list[RoundChange]:
    """Each round with its differences from the round before, in round order.

    Value: the amount and the percentage it moved; discount: the change in percentage points; payment terms:
    the change in days; scope: whether the summary differs (ignoring surrounding blanks).
    """
    changes = []
    previous = None
    for negotiation_round in sorted(rounds, key=lambda item: item.number):
        if previous is None:
            changes.append(RoundChange(negotiation_round, None, None, None, None, None, False))
        else:
            changes.append(
                RoundChange(
                    round=negotiation_round,
                    previous=previous,
                    value_delta=negotiation_round.value - previous.value,
                    value_delta_percent=_percent_change(previous.value, negotiation_round.value),
                    discount_delta=negotiation_round.discount_percent - previous.discount_percent,
                    payment_terms_delta=negotiation_round.payment_terms_days - previous.payment_terms_days,
                    scope_changed=negotiation_round.scope_summary.strip() != previous.scope_summary.strip(),
                )
            )
        previous = negotiation_round
    return changes
