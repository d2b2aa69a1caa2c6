"""Writes for proposals: every change goes through here, with its history row in the same transaction.

Content (header fields and lines) changes only while a proposal is a draft or approved; totals are recomputed by
``proposals.totals`` on every line change and stored. A discount above ``ACCORD_PROPOSAL_APPROVAL_DISCOUNT`` % needs
a director's approval before sending; changing an approved proposal so that its discount grows voids the approval.
"""

import secrets
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import NotificationLevel, Role, User
from accounts.permissions import is_director
from accounts.services import notify
from clients.models import Client, Contact, Request
from contracts.models import Contract, Stage
from core.errors import ConflictError, DomainError, PermissionDeniedError, TransitionError
from core.history import record_history
from core.money import format_money
from core.outbox import enqueue
from integrations.services import EventType, emit
from proposals.models import (
    EDITABLE_STATUSES,
    LineItem,
    Proposal,
    ProposalEvent,
    ProposalEventKind,
    ProposalNumber,
    ProposalStatus,
    RateCardItem,
)
from proposals.totals import proposal_totals

HEADER_FIELDS = (
    "title",
    "contract",
    "brief",
    "recipient",
    "language",
    "currency",
    "vat_rate",
    "valid_until",
    "objectives",
    "scope",
    "terms",
)
LINE_FIELDS = ("description", "department", "quantity", "unit", "unit_price", "discount_percent")
TOKEN_SALT = "proposals.public-link"  # noqa: S105 - a signing namespace, not a secret
MAX_LINES = 500


# --- Rules ---------------------------------------------------------------------------------------------------


def approval_threshold() -> Decimal:
    return Decimal(str(settings.ACCORD_PROPOSAL_APPROVAL_DISCOUNT))


def needs_approval(proposal: Proposal) -> bool:
    """Its discount is above the threshold and no director approved at least this discount."""
    if proposal.discount_percent <= approval_threshold():
        return False
    return proposal.approved_discount is None or proposal.discount_percent > proposal.approved_discount


def _ensure_can_edit(proposal: Proposal, actor: User) -> None:
    if not Proposal.objects.editable_by(actor).filter(pk=proposal.pk).exists():
        raise PermissionDeniedError(_("Only the proposal's owner, the client's owner or a director can change it."))


def _locked(proposal: Proposal, expected_revision: int | None = None) -> Proposal:
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if expected_revision is not None and locked.revision != expected_revision:
        raise ConflictError(_("Someone else changed this proposal first. Reload to see their changes."))
    return locked


def _ensure_editable(proposal: Proposal) -> None:
    if proposal.status == ProposalStatus.PENDING_APPROVAL:
        raise TransitionError(_("The proposal is locked while a director reviews it."), code="locked")
    if proposal.status not in EDITABLE_STATUSES:
        raise TransitionError(
            _("A %(status)s proposal cannot be changed; create a new version instead.")
            % {"status": proposal.get_status_display().lower()},
            code="locked",
        )


def _log(proposal: Proposal, kind: str, actor: User | None, note: str = "") -> None:
    ProposalEvent.objects.create(proposal=proposal, kind=kind, actor=actor, note=note)


def _next_number(year: int) -> str:
    """BG-2026-00042 (báo giá): the year's next number under a row lock; versions keep their first number."""
    try:
        with transaction.atomic():
            ProposalNumber.objects.get_or_create(year=year)
    except IntegrityError:  # another transaction created the year's row first
        pass
    counter = ProposalNumber.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"BG-{year}-{counter.last:05d}"


def _check_links(proposal: Proposal, actor: User) -> None:
    """The deal, the brief and the recipient must belong to the proposal's client and be visible to the actor."""
    errors = {}
    if proposal.contract_id:
        contract = proposal.contract
        if contract.client_id != proposal.client_id:
            errors["contract"] = [_("This deal belongs to another client.")]
        elif not Contract.objects.visible_to(actor).filter(pk=contract.pk).exists():
            errors["contract"] = [_("Not available.")]
    if proposal.brief_id and proposal.brief.client_id != proposal.client_id:
        errors["brief"] = [_("This brief belongs to another client.")]
    if proposal.recipient_id and proposal.recipient.client_id != proposal.client_id:
        errors["recipient"] = [_("This contact belongs to another client.")]
    if errors:
        raise DomainError(_("Some links point to another client."), fields=errors)


def _save(proposal: Proposal, *fields: str) -> None:
    proposal.revision += 1
    proposal.save(update_fields=[*fields, "revision", "updated_at"])


def _recompute(proposal: Proposal) -> None:
    """Store the totals of the proposal's lines; an approval no longer covering the discount is voided."""
    totals = proposal_totals(proposal.lines.all(), currency=proposal.currency, vat_rate=proposal.vat_rate)
    proposal.subtotal, proposal.discount_amount, proposal.net_amount = totals.subtotal, totals.discount, totals.net
    proposal.vat_amount, proposal.total, proposal.discount_percent = totals.vat, totals.total, totals.discount_percent
    fields = ["subtotal", "discount_amount", "net_amount", "vat_amount", "total", "discount_percent"]
    if proposal.status == ProposalStatus.APPROVED and needs_approval(proposal):
        proposal.status, proposal.approved_by, proposal.approved_at = ProposalStatus.DRAFT, None, None
        proposal.approved_discount = None
        fields += ["status", "approved_by", "approved_at", "approved_discount"]
    _save(proposal, *fields)


# --- Creating ------------------------------------------------------------------------------------------------


@transaction.atomic
def proposal_create(*, client: Client, actor: User, lines: list[dict] = (), **header) -> Proposal:
    """A new draft for ``client`` owned by ``actor`` (an account manager or sales on their client, or a director)."""
    if not Client.objects.editable_by(actor).filter(pk=client.pk).exists():
        raise PermissionDeniedError(_("Only the client's owner or a director can write proposals for this client."))
    unknown = set(header) - set(HEADER_FIELDS)
    if unknown:
        raise PermissionDeniedError(_("These fields cannot be set here: %s") % ", ".join(sorted(unknown)))
    header.setdefault("valid_until", timezone.localdate() + timedelta(days=30))
    header.setdefault("currency", client.billing_currency)
    proposal = Proposal(client=client, owner=actor, **header)
    proposal.full_clean(exclude=["number"])
    _check_links(proposal, actor)
    proposal.number = _next_number(timezone.localdate().year)
    proposal.save()
    for position, line in enumerate(lines, start=1):
        _line_create(proposal, position, **line)
    _recompute(proposal)
    _log(proposal, ProposalEventKind.CREATED, actor)
    return proposal


@transaction.atomic
def proposal_from_brief(*, brief: Request, actor: User, valid_until: date | None = None) -> Proposal:
    """Start a proposal answering a client's brief: its title, objectives and the person who asked."""
    return proposal_create(
        client=brief.client,
        actor=actor,
        brief=brief,
        title=brief.title,
        objectives=brief.description,
        recipient=brief.contact,
        language=brief.contact.preferred_language if brief.contact else "vi",
        **({"valid_until": valid_until} if valid_until else {}),
    )


@transaction.atomic
def proposal_copy(*, source: Proposal, actor: User, client: Client | None = None) -> Proposal:
    """A new proposal (its own number) starting from an earlier one's text and lines, for the same or another
    client; the deal, brief and recipient are not copied to another client."""
    client = client or source.client
    same_client = client.pk == source.client_id
    return proposal_create(
        client=client,
        actor=actor,
        title=source.title,
        language=source.language,
        currency=source.currency,
        vat_rate=source.vat_rate,
        objectives=source.objectives,
        scope=source.scope,
        terms=source.terms,
        contract=source.contract if same_client else None,
        brief=source.brief if same_client else None,
        recipient=source.recipient if same_client else None,
        lines=[_line_values(line) for line in source.lines.all()],
    )


@transaction.atomic
def proposal_new_version(*, proposal: Proposal, actor: User) -> Proposal:
    """Copy the latest version into a new draft (same number, version + 1) and mark the old one superseded."""
    _ensure_can_edit(proposal, actor)
    proposal = _locked(proposal)
    if proposal.status in (ProposalStatus.ACCEPTED, ProposalStatus.SUPERSEDED):
        raise TransitionError(_("Only the latest version of a proposal that was not accepted can have a new one."))
    copy = Proposal(
        **{field: getattr(proposal, field) for field in HEADER_FIELDS},
        client=proposal.client,
        owner=proposal.owner,
        number=proposal.number,
        version=proposal.version + 1,
        previous=proposal,
    )
    if copy.valid_until < timezone.localdate():
        copy.valid_until = timezone.localdate() + timedelta(days=30)
    copy.save()
    for position, line in enumerate(proposal.lines.all(), start=1):
        _line_create(copy, position, **_line_values(line))
    _recompute(copy)
    proposal.status = ProposalStatus.SUPERSEDED
    _save(proposal, "status")
    superseded = _("Superseded by version %(version)s") % {"version": copy.version}
    _log(proposal, ProposalEventKind.NEW_VERSION, actor, superseded)
    _log(copy, ProposalEventKind.CREATED, actor, _("Copied from version %(version)s") % {"version": proposal.version})
    return copy


# --- Editing -------------------------------------------------------------------------------------------------


@transaction.atomic
def proposal_update(*, proposal: Proposal, actor: User, expected_revision: int | None = None, **header) -> Proposal:
    """Change the header fields (title, texts, validity, currency, VAT, links) of a draft or approved proposal."""
    _ensure_can_edit(proposal, actor)
    unknown = set(header) - set(HEADER_FIELDS)
    if unknown:
        raise PermissionDeniedError(_("These fields cannot be changed here: %s") % ", ".join(sorted(unknown)))
    proposal = _locked(proposal, expected_revision)
    _ensure_editable(proposal)
    for field, value in header.items():
        setattr(proposal, field, value)
    proposal.full_clean()
    _check_links(proposal, actor)
    _save(proposal, *header)
    _recompute(proposal)  # currency and VAT change the totals
    return proposal


def _line_values(line: LineItem) -> dict:
    return {field: getattr(line, field) for field in LINE_FIELDS}


def _line_create(proposal: Proposal, order: int, **values) -> LineItem:
    unknown = set(values) - set(LINE_FIELDS)
    if unknown:
        raise PermissionDeniedError(_("These fields cannot be set here: %s") % ", ".join(sorted(unknown)))
    line = LineItem(proposal=proposal, order=order, **values)
    _validate_line(line)
    line.save()
    return line


def _validate_line(line: LineItem) -> None:
    """The line's fields, checked by their validators. Its check constraints (quantity above 0, price not negative,
    discount 0–100 %) are the same bounds as those validators: the database holds them on save, and checking them
    here too would cost a query each."""
    line.full_clean(exclude=["proposal"], validate_constraints=False)


def _editable_for_lines(proposal: Proposal, actor: User, expected_revision: int | None) -> Proposal:
    _ensure_can_edit(proposal, actor)
    proposal = _locked(proposal, expected_revision)
    _ensure_editable(proposal)
    return proposal


@transaction.atomic
def line_add(*, proposal: Proposal, actor: User, expected_revision: int | None = None, **values) -> LineItem:
    proposal = _editable_for_lines(proposal, actor, expected_revision)
    count = proposal.lines.count()
    if count >= MAX_LINES:
        raise DomainError(_("A proposal has at most %(count)s lines.") % {"count": MAX_LINES})
    last = proposal.lines.aggregate(last=Max("order"))["last"] or 0
    line = _line_create(proposal, last + 1, **values)
    _recompute(proposal)
    return line


@transaction.atomic
def line_update(*, line: LineItem, actor: User, expected_revision: int | None = None, **values) -> LineItem:
    proposal = _editable_for_lines(line.proposal, actor, expected_revision)
    unknown = set(values) - set(LINE_FIELDS)
    if unknown:
        raise PermissionDeniedError(_("These fields cannot be changed here: %s") % ", ".join(sorted(unknown)))
    line = LineItem.objects.get(pk=line.pk, proposal=proposal)
    for field, value in values.items():
        setattr(line, field, value)
    _validate_line(line)
    line.save()
    _recompute(proposal)
    return line


@transaction.atomic
def line_remove(*, line: LineItem, actor: User, expected_revision: int | None = None) -> Proposal:
    proposal = _editable_for_lines(line.proposal, actor, expected_revision)
    LineItem.objects.filter(pk=line.pk, proposal=proposal).delete()
    _recompute(proposal)
    return proposal


@transaction.atomic
def lines_reorder(*, proposal: Proposal, actor: User, line_ids: list[int], expected_revision: int | None = None):
    """Put the lines in the order of ``line_ids`` (all of the proposal's lines, each once)."""
    proposal = _editable_for_lines(proposal, actor, expected_revision)
    current = set(proposal.lines.values_list("pk", flat=True))
    if len(line_ids) != len(current) or set(line_ids) != current:
        raise ConflictError(_("The lines changed while you were reordering them. Reload to see them."))
    lines = list(proposal.lines.all())
    position = {line_id: index for index, line_id in enumerate(line_ids, start=1)}
    for line in lines:
        line.order = position[line.pk]
    LineItem.objects.bulk_update(lines, ["order"])
    _save(proposal)
    return proposal


@transaction.atomic
def lines_from_rate_card(
    *, proposal: Proposal, actor: User, items: list[RateCardItem], expected_revision: int | None = None
) -> list[LineItem]:
    """Add one line per rate-card item (quantity 1, its unit and default price) in the proposal's currency."""
    proposal = _editable_for_lines(proposal, actor, expected_revision)
    wrong = [item for item in items if item.currency != proposal.currency or not item.is_active]
    if wrong:
        raise DomainError(
            _("These rate-card items are not priced in %(currency)s or are retired: %(items)s")
            % {"currency": proposal.currency, "items": ", ".join(str(item) for item in wrong)}
        )
    if proposal.lines.count() + len(items) > MAX_LINES:
        raise DomainError(_("A proposal has at most %(count)s lines.") % {"count": MAX_LINES})
    last = proposal.lines.aggregate(last=Max("order"))["last"] or 0
    lines = [
        _line_create(
            proposal,
            last + position,
            description=item.service,
            department=item.department,
            unit=item.unit,
            unit_price=item.price,
        )
        for position, item in enumerate(items, start=1)
    ]
    _recompute(proposal)
    return lines


# --- Approval ------------------------------------------------------------------------------------------------


def _directors() -> list[User]:
    return list(User.objects.filter(role__in=(Role.DIRECTOR, Role.ADMIN), is_active=True).order_by("pk"))


@transaction.atomic
def proposal_submit(*, proposal: Proposal, actor: User, note: str = "") -> Proposal:
    """Ask the directors to approve the discount; the proposal is locked until one approves or returns it."""
    _ensure_can_edit(proposal, actor)
    proposal = _locked(proposal)
    if proposal.status not in EDITABLE_STATUSES:
        raise TransitionError(_("Only a draft can be sent for approval."))
    if not needs_approval(proposal):
        raise TransitionError(_("This discount needs no approval: send the proposal to the client."))
    proposal.status = ProposalStatus.PENDING_APPROVAL
    _save(proposal, "status")
    _log(proposal, ProposalEventKind.SUBMITTED, actor, note)
    for director in _directors():
        if director.pk == actor.pk:
            continue
        notify(
            user=director,
            title=gettext_lazy("Discount to approve: %(number)s v%(version)s"),
            body=gettext_lazy("%(client)s · %(title)s: %(discount)s %% off, total %(total)s. %(note)s"),
            url=reverse("proposals:detail", args=[proposal.pk]),
            level=NotificationLevel.WARNING,
            params=_params(proposal, note=note),
        )
    return proposal


def _params(proposal: Proposal, **extra) -> dict:
    return {
        "number": proposal.number,
        "version": proposal.version,
        "client": proposal.client.name,
        "title": proposal.title,
        "discount": proposal.discount_percent,
        "total": format_money(proposal.total, proposal.currency),
        **extra,
    }


@transaction.atomic
def proposal_approve(*, proposal: Proposal, actor: User, note: str = "") -> Proposal:
    if not is_director(actor):
        raise PermissionDeniedError(_("Only a director can approve a discount."))
    proposal = _locked(proposal)
    if proposal.status != ProposalStatus.PENDING_APPROVAL:
        raise TransitionError(_("This proposal is not waiting for approval."))
    proposal.status, proposal.approved_by, proposal.approved_at = ProposalStatus.APPROVED, actor, timezone.now()
    proposal.approved_discount = proposal.discount_percent
    _save(proposal, "status", "approved_by", "approved_at", "approved_discount")
    _log(proposal, ProposalEventKind.APPROVED, actor, note)
    _tell_owner(proposal, actor, approved=True, note=note)
    return proposal


@transaction.atomic
def proposal_return(*, proposal: Proposal, actor: User, note: str) -> Proposal:
    """A director sends the proposal back to its owner with a comment (required); it becomes a draft again."""
    if not is_director(actor):
        raise PermissionDeniedError(_("Only a director can return a proposal."))
    if not note.strip():
        raise DomainError(_("Tell the owner what to change."), fields={"note": [_("Required.")]})
    proposal = _locked(proposal)
    if proposal.status != ProposalStatus.PENDING_APPROVAL:
        raise TransitionError(_("This proposal is not waiting for approval."))
    proposal.status = ProposalStatus.DRAFT
    _save(proposal, "status")
    _log(proposal, ProposalEventKind.RETURNED, actor, note)
    _tell_owner(proposal, actor, approved=False, note=note)
    return proposal


def _tell_owner(proposal: Proposal, director: User, *, approved: bool, note: str) -> None:
    if proposal.owner_id == director.pk:
        return
    notify(
        user=proposal.owner,
        title=(
            gettext_lazy("Discount approved: %(number)s v%(version)s")
            if approved
            else gettext_lazy("Proposal returned: %(number)s v%(version)s")
        ),
        body=gettext_lazy("%(director)s: %(note)s"),
        url=reverse("proposals:detail", args=[proposal.pk]),
        level=NotificationLevel.SUCCESS if approved else NotificationLevel.WARNING,
        params=_params(proposal, director=str(director), note=note or "—"),
    )


# --- Sending and the client's answer ------------------------------------------------------------------------


def public_token(proposal: Proposal) -> str:
    """The signed token of the client's link: the proposal and a nonce that sending again replaces."""
    return signing.dumps({"p": proposal.pk, "n": proposal.token_nonce}, salt=TOKEN_SALT, compress=True)


class LinkError(Exception):
    """The client's link is tampered with ("invalid"), no longer valid ("expired") or replaced ("replaced")."""

    def __init__(self, reason: str, proposal: Proposal | None = None):
        super().__init__(reason)
        self.reason, self.proposal = reason, proposal


def proposal_for_token(token: str) -> Proposal:
    """The proposal a client's link opens. Raises LinkError: tampered, replaced by a newer link or version, or
    past its valid-until date (the link expires at the end of that day, agency time)."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
        proposal = Proposal.objects.select_related("client", "owner", "recipient").get(pk=data["p"])
    except (signing.BadSignature, Proposal.DoesNotExist, KeyError, TypeError):
        raise LinkError("invalid") from None
    if not proposal.token_nonce or not secrets.compare_digest(str(data.get("n", "")), proposal.token_nonce):
        raise LinkError("replaced", proposal)
    if proposal.status == ProposalStatus.SUPERSEDED:
        raise LinkError("replaced", proposal)
    if proposal.status in (ProposalStatus.ACCEPTED, ProposalStatus.DECLINED):
        return proposal  # the answer stays readable
    if proposal.valid_until < timezone.localdate() or proposal.status == ProposalStatus.EXPIRED:
        raise LinkError("expired", proposal)
    return proposal


def public_url(proposal: Proposal) -> str:
    return settings.ACCORD_SITE_URL + reverse("proposals:public", args=[public_token(proposal)])


@transaction.atomic
def proposal_send(*, proposal: Proposal, actor: User, recipient: Contact | None = None) -> Proposal:
    """E-mail the client's contact a link to the proposal (valid until ``valid_until``) and render its PDF.

    Refused while a discount above the threshold lacks a director's approval, without lines, without a recipient
    with an e-mail, or past its validity. Sending again (a sent proposal) issues a new link; the old one stops.
    """
    _ensure_can_edit(proposal, actor)
    proposal = _locked(proposal)
    if proposal.status not in (*EDITABLE_STATUSES, ProposalStatus.SENT):
        raise TransitionError(_("A %(status)s proposal cannot be sent.") % {"status": proposal.get_status_display()})
    if needs_approval(proposal):
        raise TransitionError(
            _("A discount of %(discount)s %% needs a director's approval before sending.")
            % {"discount": proposal.discount_percent},
            code="approval_required",
        )
    if not proposal.lines.exists():
        raise DomainError(_("Add at least one line before sending."))
    if proposal.valid_until < timezone.localdate():
        message = _("The validity date has passed: move it before sending.")
        raise DomainError(message, fields={"valid_until": [message]})
    recipient = recipient or proposal.recipient
    if recipient is None or recipient.client_id != proposal.client_id or not recipient.email:
        message = _("Choose a contact of this client with an e-mail address.")
        raise DomainError(message, fields={"recipient": [message]})
    proposal.recipient, proposal.status, proposal.sent_at = recipient, ProposalStatus.SENT, timezone.now()
    proposal.token_nonce = secrets.token_hex(16)
    _save(proposal, "recipient", "status", "sent_at", "token_nonce")
    _log(proposal, ProposalEventKind.SENT, actor, recipient.email)
    emit(EventType.PROPOSAL_SENT, proposal)
    from proposals.tasks import send_proposal_email_task

    proposal_id, nonce = proposal.pk, proposal.token_nonce
    enqueue(send_proposal_email_task, proposal_id, nonce)
    request_pdf(proposal)
    return proposal


@transaction.atomic
def proposal_record_view(*, proposal: Proposal, ip: str | None, user_agent: str) -> Proposal:
    """The client opened the link: the first view is recorded and the owner told, once."""
    updated = Proposal.objects.filter(pk=proposal.pk, first_viewed_at__isnull=True).update(
        first_viewed_at=timezone.now()
    )
    if updated:
        record_history(Proposal.objects.filter(pk=proposal.pk))
        proposal.refresh_from_db()
        _log(proposal, ProposalEventKind.VIEWED, None, _client_trace(ip, user_agent))
        notify(
            user=proposal.owner,
            title=gettext_lazy("The client opened %(number)s v%(version)s"),
            body=gettext_lazy("%(client)s · %(title)s"),
            url=reverse("proposals:detail", args=[proposal.pk]),
            params=_params(proposal),
        )
    return proposal


def _client_trace(ip: str | None, user_agent: str) -> str:
    return f"{ip or '?'} · {user_agent[:200]}"


@transaction.atomic
def proposal_accept(*, proposal: Proposal, full_name: str, ip: str | None, user_agent: str) -> Proposal:
    """The client accepts, typing their full name. Accepting again changes nothing. The linked deal moves to
    awaiting signature (or a draft deal is created with the proposal's net value) and the owner is told."""
    full_name = " ".join(full_name.split())
    if len(full_name) < 3:
        message = _("Type your full name to accept.")
        raise DomainError(message, fields={"full_name": [message]})
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status == ProposalStatus.ACCEPTED:
        return proposal
    if proposal.status != ProposalStatus.SENT:
        raise TransitionError(_("This proposal can no longer be accepted."))
    _decide(proposal, ProposalStatus.ACCEPTED, full_name, ip, user_agent)
    _log(proposal, ProposalEventKind.ACCEPTED, None, f"{full_name} · {_client_trace(ip, user_agent)}")
    emit(EventType.PROPOSAL_ACCEPTED, proposal)
    _advance_deal(proposal)
    _tell_owner_answer(proposal, accepted=True)
    return proposal


@transaction.atomic
def proposal_decline(*, proposal: Proposal, reason: str, ip: str | None, user_agent: str) -> Proposal:
    if not reason.strip():
        message = _("Tell us why, so we can do better.")
        raise DomainError(message, fields={"reason": [message]})
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status == ProposalStatus.DECLINED:
        return proposal
    if proposal.status != ProposalStatus.SENT:
        raise TransitionError(_("This proposal can no longer be declined."))
    proposal.decline_reason = reason.strip()
    _decide(proposal, ProposalStatus.DECLINED, "", ip, user_agent)
    _log(proposal, ProposalEventKind.DECLINED, None, f"{reason.strip()} · {_client_trace(ip, user_agent)}")
    emit(EventType.PROPOSAL_DECLINED, proposal)
    _tell_owner_answer(proposal, accepted=False)
    return proposal


def _decide(proposal: Proposal, status: str, name: str, ip: str | None, user_agent: str) -> None:
    proposal.status, proposal.decided_at, proposal.decided_by_name = status, timezone.now(), name
    proposal.decided_ip, proposal.decided_user_agent = ip, user_agent[:400]
    fields = ["status", "decided_at", "decided_by_name", "decided_ip", "decided_user_agent", "decline_reason"]
    if proposal.first_viewed_at is None:
        proposal.first_viewed_at = proposal.decided_at
        fields.append("first_viewed_at")
    _save(proposal, *fields)


def _advance_deal(proposal: Proposal) -> None:
    """Accepted: the linked deal goes to awaiting signature; without one, a draft deal is created for the owner."""
    from contracts.services import contract_create, contract_move

    contract = proposal.contract
    if contract is None:
        contract = contract_create(
            client=proposal.client,
            actor=proposal.owner,
            title=proposal.title,
            value=proposal.net_amount,
            currency=proposal.currency,
            scope=proposal.scope,
        )
        Proposal.objects.filter(pk=proposal.pk).update(contract=contract)
        record_history(Proposal.objects.filter(pk=proposal.pk))
        proposal.contract = contract
    if contract.stage not in (Stage.DRAFT, Stage.NEGOTIATION):
        return  # already awaiting signature, signed or closed: the answer is recorded, the deal stays
    owner_may_move = Contract.objects.editable_by(proposal.owner).filter(pk=contract.pk).exists()
    contract_move(
        contract=contract,
        to=Stage.AWAITING_SIGNATURE,
        actor=proposal.owner if owner_may_move else contract.owner,
        note=_("Proposal %(number)s v%(version)s accepted by %(name)s.")
        % {"number": proposal.number, "version": proposal.version, "name": proposal.decided_by_name},
    )


def _tell_owner_answer(proposal: Proposal, *, accepted: bool) -> None:
    notify(
        user=proposal.owner,
        title=(
            gettext_lazy("Accepted: %(number)s v%(version)s by %(name)s")
            if accepted
            else gettext_lazy("Declined: %(number)s v%(version)s")
        ),
        body=gettext_lazy("%(client)s · %(title)s · %(total)s. %(reason)s"),
        url=reverse("proposals:detail", args=[proposal.pk]),
        level=NotificationLevel.SUCCESS if accepted else NotificationLevel.WARNING,
        params=_params(proposal, name=proposal.decided_by_name, reason=proposal.decline_reason),
    )


@transaction.atomic
def expire_proposals(*, today: date | None = None) -> int:
    """Sent proposals past their validity date expire (beat, daily); their links show the expired page."""
    today = today or timezone.localdate()
    expired = list(
        Proposal.objects.select_for_update(skip_locked=True).filter(status=ProposalStatus.SENT, valid_until__lt=today)[
            :1000
        ]
    )
    for proposal in expired:
        proposal.status = ProposalStatus.EXPIRED
        _save(proposal, "status")
        _log(proposal, ProposalEventKind.EXPIRED, None)
    return len(expired)


# --- PDF -----------------------------------------------------------------------------------------------------


def request_pdf(proposal: Proposal) -> bool:
    """Ask the worker for the PDF when the content changed since the last render; True when a render is queued."""
    from proposals.pdf import content_hash
    from proposals.tasks import render_proposal_pdf_task

    digest = content_hash(proposal)
    failed = bool(proposal.pdf_error)  # asking again after a failed render tries again
    if (
        not failed
        and digest in (proposal.pdf_hash, proposal.pdf_requested_hash)
        and (proposal.pdf or proposal.pdf_requested_hash)
    ):
        return False
    Proposal.objects.filter(pk=proposal.pk).update(pdf_requested_hash=digest, pdf_error="")
    proposal.pdf_requested_hash = digest
    proposal_id = proposal.pk
    enqueue(render_proposal_pdf_task, proposal_id)
    return True
