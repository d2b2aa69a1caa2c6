"""Pieces every contracts endpoint shares: the editability check and the querysets of a contract's parts."""

from decimal import Decimal

from django.db.models import QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.models import User
from contracts.models import Contract, CostEntry, NegotiationRound, Phase
from contracts.selectors import MONEY
from core.errors import PermissionDeniedError


def ensure_contract_editable(*, user: User, contract: Contract) -> None:
    """403 before any input is read when the user sees the contract but may not change it (the services check
    again inside their transaction)."""
    if not Contract.objects.editable_by(user).filter(pk=contract.pk).exists():
        raise PermissionDeniedError(
            _("Only the deal's owner, the client's owner or a director can change this contract.")
        )


# The shapes of the contract page's lists (contracts.selectors.contract_detail prefetches the same), one query
# per page each.


def rounds_of(contract: Contract) -> QuerySet[NegotiationRound]:
    return NegotiationRound.objects.filter(contract=contract).select_related("recorded_by").order_by("number")


def phases_with_spending() -> QuerySet[Phase]:
    return Phase.objects.annotate(
        spent=Coalesce(Sum("costs__amount"), Value(Decimal("0")), output_field=MONEY)
    ).order_by("order", "id")


def costs_of(contract: Contract) -> QuerySet[CostEntry]:
    return CostEntry.objects.filter(contract=contract).select_related("phase", "department", "partner", "recorded_by")
