"""Writes for contracts: every change goes through here, with its history row in the same transaction."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import NotificationLevel, Role, User
from accounts.permissions import is_director
from accounts.services import notify
from clients.models import Client
from clients.services import client_mark_active
from contracts.models import (
    DEFAULT_PROBABILITY,
    BudgetAlert,
    Contract,
    ContractKind,
    ContractNumber,
    CostEntry,
    NegotiationRound,
    Phase,
    Stage,
    StageChange,
)
from core.errors import ConflictError, DomainError, PermissionDeniedError, TransitionError
from core.history import record_history
from core.money import round_money
from integrations.services import EventType, emit

# Moves a person may make; "renewed" happens only when the successor is signed.
MOVES = {
    Stage.DRAFT: {Stage.NEGOTIATION, Stage.AWAITING_SIGNATURE, Stage.LOST},
    Stage.NEGOTIATION: {Stage.DRAFT, Stage.AWAITING_SIGNATURE, Stage.ACTIVE, Stage.LOST},
    Stage.AWAITING_SIGNATURE: {Stage.NEGOTIATION, Stage.ACTIVE, Stage.LOST},
    Stage.ACTIVE: {Stage.EXPIRED, Stage.TERMINATED},
    Stage.RENEWED: set(),
    Stage.EXPIRED: set(),
    Stage.TERMINATED: set(),
    Stage.LOST: set(),
}
TERMS_FIELDS = (
    "title",
    "kind",
    "value",
    "currency",
    "budget",
    "billing_schedule",
    "payment_terms_days",
    "expected_close",
    "start_date",
    "end_date",
    "auto_renew",
    "notice_days",
    "scope",
)
BUDGET_THRESHOLDS = (80, 100)


def _ensure_can_edit(contract: Contract, actor: User) -> None:
    if not Contract.objects.editable_by(actor).filter(pk=contract.pk).exists():
        raise PermissionDeniedError(
            _("Only the deal's owner, the client's owner or a director can change this contract.")
        )


def _next_number(year: int) -> str:
    """HD-2026-00042: the year's next number, taken under a row lock so two new contracts never share one."""
    try:
        with transaction.atomic():
            ContractNumber.objects.get_or_create(year=year)
    except IntegrityError:  # another transaction created the year's row first
        pass
    counter = ContractNumber.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"HD-{year}-{counter.last:05d}"


def _bump_version(contract: Contract, expected_version: int | None, changes: dict) -> None:
    rows = Contract.objects.filter(pk=contract.pk)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    if not rows.update(**changes, version=F("version") + 1, updated_at=timezone.now()):
        raise ConflictError(
            _("Someone else changed this contract while you were editing it. Reload to see their changes.")
        )
    record_history(Contract.objects.filter(pk=contract.pk))


@transaction.atomic
def contract_create(*, client: Client, actor: User, owner: User | None = None, **terms) -> Contract:
    """A new deal in draft, owned by ``actor`` (a director may name another owner)."""
    if not (is_director(actor) or actor.role in (Role.ACCOUNT_MANAGER, Role.SALES)):
        raise PermissionDeniedError(_("Only account managers, sales and directors create deals."))
    allowed = Client.objects.visible_to(actor) if actor.role == Role.SALES else Client.objects.editable_by(actor)
    if not allowed.filter(pk=client.pk).exists():
        raise DomainError(_("Choose a client you can see."), fields={"client": [_("Not available.")]})
    if owner is not None and owner != actor and not is_director(actor):
        raise PermissionDeniedError(_("Only a director can create a deal for someone else."))
    unknown = set(terms) - set(TERMS_FIELDS)
    if unknown:
        raise PermissionDeniedError(_("These fields cannot be set here: %s") % ", ".join(sorted(unknown)))
    contract = Contract(client=client, owner=owner or actor, **terms)
    contract.stage, contract.probability = Stage.DRAFT, DEFAULT_PROBABILITY[Stage.DRAFT]
    contract.full_clean(exclude=["number"])  # dates checked before the notice deadline is computed from them
    contract.number = _next_number(timezone.localdate().year)
    contract.notice_deadline = contract.compute_notice_deadline()
    contract.save()
    return contract


@transaction.atomic
def contract_update(*, contract: Contract, actor: User, expected_version: int | None = None, **terms) -> Contract:
    """Change a contract's terms. A stale ``expected_version`` is refused (ConflictError), nothing is written."""
    _ensure_can_edit(contract, actor)
    unknown = set(terms) - set(TERMS_FIELDS)
    if unknown:
        raise PermissionDeniedError(_("These fields cannot be changed here: %s") % ", ".join(sorted(unknown)))
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.stage in (Stage.RENEWED, Stage.EXPIRED, Stage.TERMINATED, Stage.LOST):
        raise TransitionError(_("An ended contract cannot be changed."))
    for field, value in terms.items():
        setattr(contract, field, value)
    contract.full_clean()
    contract.notice_deadline = contract.compute_notice_deadline()
    _bump_version(contract, expected_version, {**terms, "notice_deadline": contract.notice_deadline})
    contract.refresh_from_db()
    _check_budget(contract)
    return contract


def check_move(contract: Contract, to: str, actor: User, *, lost_reason: str, note: str) -> None:
    """Raise TransitionError (or PermissionDeniedError) unless the rules allow this move."""
    if to not in Stage.values:
        raise TransitionError(_("There is no such stage."), fields={"stage": [_("Unknown stage.")]})
    if to not in MOVES[contract.stage]:
        raise TransitionError(
            _("A contract cannot go from %(source)s to %(target)s.")
            % {"source": contract.get_stage_display(), "target": Stage(to).label},
            fields={"stage": [_("Not allowed from here.")]},
        )
    if to == Stage.TERMINATED and not is_director(actor):
        raise PermissionDeniedError(_("Only a director can terminate a contract."))
    if to == Stage.TERMINATED and not note.strip():
        raise TransitionError(_("Say why the contract is terminated."), fields={"note": [_("Required.")]})
    if to == Stage.LOST and not lost_reason.strip():
        message = _("Say why the deal was lost.")
        raise TransitionError(message, fields={"lost_reason": [message]})
    if to == Stage.ACTIVE:
        missing = [name for name in ("signed_at", "start_date", "end_date") if not getattr(contract, name)]
        if missing:
            message = _("An active contract needs its signature date, start and end.")
            raise TransitionError(message, fields={name: [_("Required.")] for name in missing})
        if contract.end_date < contract.start_date:
            raise TransitionError(_("The end comes before the start."), fields={"end_date": [_("Before the start.")]})


@transaction.atomic
def contract_move(
    *,
    contract: Contract,
    to: str,
    actor: User,
    note: str = "",
    lost_reason: str = "",
    signed_at: datetime | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    expected_version: int | None = None,
) -> Contract:
    """Move a contract to another stage, checking the move, the role and the required fields.

    Records who, when, from, to and the note in the same transaction; sets the stage's default probability.
    Signing a renewal marks the contract it renews as renewed. Raises TransitionError, PermissionDeniedError or
    ConflictError (stale version) and then changes nothing.
    """
    _ensure_can_edit(contract, actor)
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if expected_version is not None and contract.version != expected_version:
        raise ConflictError(_("Someone else moved or changed this contract first. Reload to see it."))
    if to == Stage.ACTIVE:  # signing is when the dates are set; other moves keep the terms as they are
        contract.signed_at = signed_at or contract.signed_at
        contract.start_date = start_date or contract.start_date
        contract.end_date = end_date or contract.end_date
    contract.full_clean(exclude=["number"])
    check_move(contract, to, actor, lost_reason=lost_reason, note=note)
    source = contract.stage
    now = timezone.now()
    StageChange.objects.create(contract=contract, source=source, target=to, actor=actor, note=note, changed_at=now)
    contract.stage, contract.probability, contract.stage_changed_at = to, DEFAULT_PROBABILITY[to], now
    contract.notice_deadline = contract.compute_notice_deadline()
    if to == Stage.LOST:
        contract.lost_reason = lost_reason
    contract.version += 1
    contract.save()
    emit(EventType.CONTRACT_STAGE_CHANGED, contract, previous_stage=source)
    if to == Stage.ACTIVE:
        emit(EventType.CONTRACT_SIGNED, contract)
    if to == Stage.ACTIVE and contract.renewal_of_id:
        _mark_renewed(contract.renewal_of_id, actor)
    if to == Stage.ACTIVE:
        client_mark_active(client=contract.client)
    return contract


def _mark_renewed(predecessor_id: int, actor: User) -> None:
    predecessor = Contract.objects.select_for_update().get(pk=predecessor_id)
    if predecessor.stage in (Stage.ACTIVE, Stage.EXPIRED):
        StageChange.objects.create(
            contract=predecessor,
            source=predecessor.stage,
            target=Stage.RENEWED,
            actor=actor,
            note=_("The renewal was signed."),
        )
        Contract.objects.filter(pk=predecessor.pk).update(
            stage=Stage.RENEWED, stage_changed_at=timezone.now(), version=F("version") + 1, updated_at=timezone.now()
        )
        record_history(Contract.objects.filter(pk=predecessor.pk), user=actor)
        emit(EventType.CONTRACT_STAGE_CHANGED, predecessor, previous_stage=predecessor.stage)


@transaction.atomic
def contract_renew(*, contract: Contract, actor: User) -> Contract:
    """Create the successor in draft (kind renewal, terms copied, dates following on); one successor at most."""
    _ensure_can_edit(contract, actor)
    return _create_successor(contract, actor)


def _create_successor(contract: Contract, actor: User) -> Contract:
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.stage not in (Stage.ACTIVE, Stage.EXPIRED):
        raise TransitionError(_("Only an active or expired contract can be renewed."))
    if Contract.objects.filter(renewal_of=contract).exists():
        raise ConflictError(_("This contract already has a renewal."))
    start = contract.end_date + timedelta(days=1) if contract.end_date else None
    length = (contract.end_date - contract.start_date) if contract.start_date and contract.end_date else None
    successor = Contract(
        client=contract.client,
        owner=contract.owner,
        title=contract.title,
        kind=ContractKind.RENEWAL,
        value=contract.value,
        currency=contract.currency,
        budget=contract.budget,
        billing_schedule=contract.billing_schedule,
        payment_terms_days=contract.payment_terms_days,
        auto_renew=contract.auto_renew,
        notice_days=contract.notice_days,
        scope=contract.scope,
        start_date=start,
        end_date=start + length if start and length is not None else None,
        expected_close=contract.notice_deadline,
        renewal_of=contract,
    )
    successor.stage, successor.probability = Stage.DRAFT, DEFAULT_PROBABILITY[Stage.DRAFT]
    successor.number = _next_number(timezone.localdate().year)
    successor.notice_deadline = successor.compute_notice_deadline()
    successor.full_clean()
    successor.save()
    return successor


@transaction.atomic
def round_record(
    *,
    contract: Contract,
    actor: User,
    proposed_by: str,
    value: Decimal,
    discount_percent: Decimal = Decimal("0"),
    payment_terms_days: int = 30,
    scope_summary: str = "",
    expected_version: int | None = None,
) -> NegotiationRound:
    """Record an offer or counter-offer; the deal's value and payment terms follow the latest round."""
    _ensure_can_edit(contract, actor)
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if expected_version is not None and contract.version != expected_version:
        raise ConflictError(_("Someone else changed this contract first. Reload to see it."))
    if contract.stage not in (Stage.DRAFT, Stage.NEGOTIATION, Stage.AWAITING_SIGNATURE):
        raise TransitionError(_("Rounds are recorded before the contract is signed."))
    number = (contract.rounds.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    value = round_money(value, contract.currency)
    negotiation_round = NegotiationRound(
        contract=contract,
        number=number,
        proposed_by=proposed_by,
        value=value,
        discount_percent=discount_percent,
        payment_terms_days=payment_terms_days,
        scope_summary=scope_summary,
        recorded_by=actor,
    )
    negotiation_round.full_clean()
    negotiation_round.save()
    Contract.objects.filter(pk=contract.pk).update(
        value=value, payment_terms_days=payment_terms_days, version=F("version") + 1, updated_at=timezone.now()
    )
    record_history(Contract.objects.filter(pk=contract.pk), user=actor)
    return negotiation_round


@transaction.atomic
def phase_save(*, contract: Contract, actor: User, phase: Phase | None = None, **fields) -> Phase:
    """Add a delivery phase or change one (dates, budget, planned and achieved results, report)."""
    _ensure_can_edit(contract, actor)
    phase = phase or Phase(contract=contract)
    for field, value in fields.items():
        setattr(phase, field, value)
    phase.full_clean()
    phase.save()
    return phase


@transaction.atomic
def cost_record(*, contract: Contract, actor: User, **fields) -> CostEntry:
    """Record a cost; the owner hears once when costs pass 80 % and once when they pass 100 % of the budget."""
    _ensure_can_edit(contract, actor)
    # Locked: two costs recorded at once must see each other's amounts when they check the budget thresholds.
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    phase = fields.get("phase")
    if phase is not None and phase.contract_id != contract.pk:
        raise DomainError(_("That phase belongs to another contract."), fields={"phase": [_("Not this contract's.")]})
    if not fields.get("department") and not fields.get("partner"):
        message = _("Say which department or partner the cost is for.")
        raise DomainError(message, fields={"department": [message]})
    if fields.get("amount") is not None:
        fields["amount"] = round_money(fields["amount"], contract.currency)
    cost = CostEntry(contract=contract, recorded_by=actor, **fields)
    cost.full_clean()
    cost.save()
    _check_budget(contract)
    return cost


def budget_spent(contract: Contract) -> Decimal:
    return contract.costs.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def _check_budget(contract: Contract) -> None:
    if not contract.budget:
        return
    spent = budget_spent(contract)
    for threshold in BUDGET_THRESHOLDS:
        if spent * 100 < contract.budget * threshold:
            continue
        _alert, created = BudgetAlert.objects.get_or_create(contract=contract, threshold=threshold)
        if created:
            notify(
                user=contract.owner,
                title=gettext_lazy("%(number)s has used %(threshold)d%% of its budget"),
                body=gettext_lazy("%(title)s · %(client)s"),
                url=reverse("contracts:detail", args=[contract.pk]),
                level=NotificationLevel.DANGER if threshold >= 100 else NotificationLevel.WARNING,
                params={
                    "number": contract.number,
                    "threshold": threshold,
                    "title": contract.title,
                    "client": contract.client.name,
                },
            )


def idle_days_allowed(stage: str) -> int:
    return settings.ACCORD_PIPELINE_IDLE_DAYS.get(stage, 14)


# --- The nightly sweep's actions (contracts/sweeps.py walks the candidates) -------------------------------


def contract_auto_renew(*, contract_id: int, today: date) -> bool:
    """At the notice deadline an auto-renewing contract gets its successor draft, on behalf of its owner.

    At most one successor ever (row lock and the one-to-one index): False when it was already renewed or changed.
    """
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


def contract_expire(*, contract_id: int, today: date) -> bool:
    """An active contract past its end without a signed renewal moves to expired, with its stage-change row.

    The owner stands in as the actor; False when it was renewed, terminated or extended meanwhile.
    """
    with transaction.atomic():
        contract = Contract.objects.select_for_update(of=("self",)).select_related("owner").get(pk=contract_id)
        if contract.stage != Stage.ACTIVE or contract.end_date >= today:
            return False  # renewed, terminated or extended since it was listed
        if Contract.objects.filter(renewal_of=contract, stage=Stage.ACTIVE).exists():
            return False
        note = _("Ended on %(end)s: expired automatically.") % {"end": contract.end_date.isoformat()}
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
        record_history(Contract.objects.filter(pk=contract.pk))
        emit(EventType.CONTRACT_STAGE_CHANGED, contract, previous_stage=Stage.ACTIVE)
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
