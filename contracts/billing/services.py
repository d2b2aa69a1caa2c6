"""Writes for invoices and payments: every change goes through here, logged on the invoice in the same transaction.

Status is derived in one place (``derive_status``) from what was paid; totals in one place (``invoice_totals``).
Finance (and directors) create, issue, void and record payments; write-offs need a director's approval.
The client's account manager and finance record disputes and promises to pay and pause follow-ups.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import NotificationLevel, Role, User
from accounts.permissions import has_role, is_director
from accounts.services import notify
from clients.models import Client
from contracts.billing.cache import invoices_changed
from contracts.models import (
    OPEN_STATUSES,
    CollectionPause,
    Contract,
    Invoice,
    InvoiceEvent,
    InvoiceEventKind,
    InvoiceNumber,
    InvoiceStatus,
    Payment,
    Phase,
    Stage,
    VatRate,
    WriteOffRequest,
    WriteOffStatus,
)
from core.errors import ConflictError, DomainError, PermissionDeniedError, TransitionError
from core.money import format_money, round_money
from integrations.services import EventType, emit

BILLING_ROLES = (Role.FINANCE, Role.DIRECTOR, Role.ADMIN)
INVOICE_FIELDS = ("description", "issue_date", "due_date", "net_amount", "vat_rate", "phase")


@dataclass(frozen=True)
class Totals:
    net: Decimal
    vat: Decimal
    gross: Decimal


def invoice_totals(net: Decimal, vat_rate: int, currency: str) -> Totals:
    """Net, VAT and gross, each rounded half up to the currency's minor unit; gross is exactly net + VAT."""
    if vat_rate not in VatRate.values:
        raise DomainError(_("VAT is 10, 8, 5 or 0 %."), fields={"vat_rate": [_("Not an allowed rate.")]})
    net = round_money(net, currency)
    vat = round_money(net * Decimal(vat_rate) / Decimal(100), currency)
    return Totals(net=net, vat=vat, gross=net + vat)


def derive_status(invoice: Invoice) -> str:
    """The status a payment total implies: issued (nothing paid), partially paid, or paid. Draft, void and
    written-off invoices keep theirs."""
    if invoice.status not in (*OPEN_STATUSES, InvoiceStatus.PAID):
        return invoice.status
    if invoice.paid_amount <= 0:
        return InvoiceStatus.ISSUED
    if invoice.paid_amount < invoice.gross_amount:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.PAID


def can_bill(user: User) -> bool:
    return has_role(user, *BILLING_ROLES)


def _ensure_can_bill(actor: User) -> None:
    if not can_bill(actor):
        raise PermissionDeniedError(_("Only finance and directors can do this to invoices."))


def can_follow_up(user: User, invoice_or_client: Invoice | Client) -> bool:
    """Finance, directors and the client's account manager record disputes and promises and pause follow-ups."""
    if can_bill(user):
        return True
    client_id = invoice_or_client.client_id if isinstance(invoice_or_client, Invoice) else invoice_or_client.pk
    return Client.objects.editable_by(user).filter(pk=client_id).exists()


def _ensure_can_follow_up(actor: User, invoice_or_client: Invoice | Client) -> None:
    if not can_follow_up(actor, invoice_or_client):
        raise PermissionDeniedError(_("Only finance, directors and the client's account manager can do this."))


def _next_number(year: int) -> str:
    """INV-2026-00042: taken under the year's row lock when the invoice is issued, so issued numbers have no gaps
    and no repeats; a rolled-back issue gives its number back."""
    try:
        with transaction.atomic():
            InvoiceNumber.objects.get_or_create(year=year)
    except IntegrityError:  # another transaction created the year's row first
        pass
    counter = InvoiceNumber.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"INV-{year}-{counter.last:05d}"


def _log(invoice: Invoice, kind: str, actor: User | None, note: str = "") -> InvoiceEvent:
    invoices_changed()  # every change of an invoice is logged: the cached totals go stale with it
    return InvoiceEvent.objects.create(invoice=invoice, kind=kind, actor=actor, note=note)


def _locked(invoice: Invoice, expected_version: int | None = None) -> Invoice:
    # Only the invoice's row: locking its client and contract too would deadlock against another invoice of theirs
    # being issued at once (its foreign keys are checked at commit, after it took the year's number).
    locked = Invoice.objects.select_for_update(of=("self",)).select_related("client", "contract").get(pk=invoice.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(_("Someone else changed this invoice first. Reload to see it."))
    return locked


def _save(invoice: Invoice, *fields: str) -> None:
    invoice.version += 1
    invoice.save(update_fields=[*fields, "version", "updated_at"])


@transaction.atomic
def invoice_create(
    *,
    contract: Contract,
    actor: User | None,
    net_amount: Decimal,
    description: str,
    due_date: date | None = None,
    issue_date: date | None = None,
    vat_rate: int = VatRate.STANDARD,
    phase: Phase | None = None,
    schedule_key: str = "",
    issue: bool = False,
) -> Invoice:
    """A draft invoice for a signed contract, in its currency (``issue=True`` issues it at once).

    ``actor`` None is the billing-schedule sweep. The due date defaults to the contract's payment terms.
    """
    if actor is not None:
        _ensure_can_bill(actor)
    if contract.stage not in (Stage.ACTIVE, Stage.RENEWED, Stage.EXPIRED, Stage.TERMINATED):
        raise TransitionError(_("Only a signed contract can be invoiced."), fields={"contract": [_("Not signed.")]})
    if phase is not None and phase.contract_id != contract.pk:
        raise DomainError(_("That phase belongs to another contract."), fields={"phase": [_("Not this contract's.")]})
    issue_date = issue_date or timezone.localdate()
    totals = invoice_totals(Decimal(net_amount), int(vat_rate), contract.currency)
    invoice = Invoice(
        contract=contract,
        client_id=contract.client_id,
        phase=phase,
        schedule_key=schedule_key,
        description=description,
        issue_date=issue_date,
        due_date=due_date or issue_date + timedelta(days=contract.payment_terms_days),
        currency=contract.currency,
        net_amount=totals.net,
        vat_rate=int(vat_rate),
        vat_amount=totals.vat,
        gross_amount=totals.gross,
        created_by=actor,
    )
    invoice.full_clean(exclude=["number"], validate_constraints=False)
    if invoice.due_date < invoice.issue_date:
        raise DomainError(
            _("The due date comes before the issue date."), fields={"due_date": [_("Before the issue date.")]}
        )
    invoice.save()
    _log(invoice, InvoiceEventKind.CREATED, actor)
    if issue:
        invoice = _issue(invoice, actor)
    return invoice


@transaction.atomic
def invoice_update(*, invoice: Invoice, actor: User, expected_version: int | None = None, **changes) -> Invoice:
    """Change a draft's description, dates, net amount, VAT rate or phase; issued invoices are not edited."""
    _ensure_can_bill(actor)
    unknown = set(changes) - set(INVOICE_FIELDS)
    if unknown:
        raise PermissionDeniedError(_("These fields cannot be changed here: %s") % ", ".join(sorted(unknown)))
    invoice = _locked(invoice, expected_version)
    if invoice.status != InvoiceStatus.DRAFT:
        raise TransitionError(_("Only a draft invoice can be edited; void it and issue a new one instead."))
    for field, value in changes.items():
        setattr(invoice, field, value)
    if invoice.phase_id and invoice.phase.contract_id != invoice.contract_id:
        raise DomainError(_("That phase belongs to another contract."), fields={"phase": [_("Not this contract's.")]})
    totals = invoice_totals(Decimal(invoice.net_amount), int(invoice.vat_rate), invoice.currency)
    invoice.net_amount, invoice.vat_amount, invoice.gross_amount = totals.net, totals.vat, totals.gross
    invoice.full_clean(exclude=["number"], validate_constraints=False)
    if invoice.due_date < invoice.issue_date:
        raise DomainError(
            _("The due date comes before the issue date."), fields={"due_date": [_("Before the issue date.")]}
        )
    _save(invoice, *changes, "net_amount", "vat_amount", "gross_amount")
    return invoice


@transaction.atomic
def invoice_delete_draft(*, invoice: Invoice, actor: User) -> None:
    """A draft never sent has no number: it can simply go."""
    _ensure_can_bill(actor)
    invoice = _locked(invoice)
    if invoice.status != InvoiceStatus.DRAFT:
        raise TransitionError(_("Only a draft can be deleted; void an issued invoice instead."))
    invoice.events.all().delete()
    invoice.delete()
    invoices_changed()


def _issue(invoice: Invoice, actor: User | None) -> Invoice:
    invoice.number = _next_number(invoice.issue_date.year)
    invoice.status, invoice.issued_at = InvoiceStatus.ISSUED, timezone.now()
    _save(invoice, "number", "status", "issued_at")
    _log(invoice, InvoiceEventKind.ISSUED, actor)
    emit(EventType.INVOICE_ISSUED, invoice)
    return invoice


@transaction.atomic
def invoice_issue(*, invoice: Invoice, actor: User, expected_version: int | None = None) -> Invoice:
    """Give a draft its number (the issue date's year) and make it owed."""
    _ensure_can_bill(actor)
    invoice = _locked(invoice, expected_version)
    if invoice.status != InvoiceStatus.DRAFT:
        raise TransitionError(_("This invoice is already issued."))
    return _issue(invoice, actor)


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    actor: User,
    amount: Decimal,
    received_on: date | None = None,
    method: str = "bank_transfer",
    reference: str = "",
    expected_version: int | None = None,
) -> Payment:
    """Record money received. Partial payments add up; more than the outstanding amount is refused.

    ``expected_version`` (the version the user saw) refuses a second recording of the same transfer from a stale
    page with a ConflictError."""
    _ensure_can_bill(actor)
    invoice = _locked(invoice, expected_version)
    if invoice.status not in OPEN_STATUSES:
        raise TransitionError(
            _("Payments are recorded on issued invoices only; this one is %(status)s.")
            % {"status": invoice.get_status_display().lower()}
        )
    amount = Decimal(amount)
    if round_money(amount, invoice.currency) != amount or amount <= 0:
        message = _("Enter a positive amount in whole %(unit)s.") % {
            "unit": _("đồng") if invoice.currency == "VND" else _("cents")
        }
        raise DomainError(message, fields={"amount": [message]})
    outstanding = invoice.gross_amount - invoice.paid_amount
    if amount > outstanding:
        message = _("That is more than the %(outstanding)s still owed on this invoice.") % {
            "outstanding": format_money(outstanding, invoice.currency)
        }
        raise DomainError(message, code="overpayment", fields={"amount": [message]})
    payment = Payment(
        invoice=invoice,
        amount=amount,
        received_on=received_on or timezone.localdate(),
        method=method,
        reference=reference,
        recorded_by=actor,
    )
    payment.full_clean()
    if payment.received_on < invoice.issue_date:
        message = _("A payment cannot come before the invoice was issued.")
        raise DomainError(message, fields={"received_on": [message]})
    if payment.received_on > timezone.localdate():
        message = _("A payment is recorded once received: the date cannot be in the future.")
        raise DomainError(message, fields={"received_on": [message]})
    payment.save()
    invoice.paid_amount += amount
    invoice.status = derive_status(invoice)
    if invoice.status == InvoiceStatus.PAID:
        invoice.paid_on = invoice.payments.order_by("-received_on").values_list("received_on", flat=True).first()
    _save(invoice, "paid_amount", "status", "paid_on")
    _log(invoice, InvoiceEventKind.PAYMENT, actor, format_money(amount, invoice.currency))
    if invoice.status == InvoiceStatus.PAID:
        emit(EventType.INVOICE_PAID, invoice)
    return payment


@transaction.atomic
def invoice_void(*, invoice: Invoice, actor: User, reason: str, expected_version: int | None = None) -> Invoice:
    """Cancel an issued invoice nothing was paid on (its number stays used, so numbers keep no gaps)."""
    _ensure_can_bill(actor)
    if not reason.strip():
        raise DomainError(_("Say why the invoice is voided."), fields={"reason": [_("Required.")]})
    invoice = _locked(invoice, expected_version)
    if invoice.status != InvoiceStatus.ISSUED:
        raise TransitionError(_("Only an issued invoice with no payment can be voided."))
    invoice.status, invoice.closed_on, invoice.close_reason = InvoiceStatus.VOID, timezone.localdate(), reason
    _save(invoice, "status", "closed_on", "close_reason")
    _log(invoice, InvoiceEventKind.VOIDED, actor, reason)
    return invoice


@transaction.atomic
def write_off_request(*, invoice: Invoice, actor: User, reason: str) -> WriteOffRequest:
    """Finance asks a director to write off what is left of an open invoice; directors are notified."""
    _ensure_can_bill(actor)
    if not reason.strip():
        raise DomainError(_("Say why the invoice should be written off."), fields={"reason": [_("Required.")]})
    invoice = _locked(invoice)
    if invoice.status not in OPEN_STATUSES:
        raise TransitionError(_("Only an open invoice can be written off."))
    if invoice.write_off_requests.filter(status=WriteOffStatus.PENDING).exists():
        raise ConflictError(_("A write-off of this invoice is already waiting for a director."))
    request = WriteOffRequest.objects.create(invoice=invoice, reason=reason, requested_by=actor)
    _log(invoice, InvoiceEventKind.WRITE_OFF_REQUESTED, actor, reason)
    if is_director(actor):  # a director's own request needs no one else's approval
        return write_off_decide(request=request, actor=actor, approve=True)
    for director in User.objects.filter(role__in=(Role.DIRECTOR, Role.ADMIN), is_active=True):
        notify(
            user=director,
            title=gettext_lazy("Write-off to approve: %(number)s"),
            body=gettext_lazy("%(client)s owes %(outstanding)s. Reason: %(reason)s"),
            url=reverse("contracts:invoice_detail", args=[invoice.pk]),
            level=NotificationLevel.WARNING,
            params={
                "number": invoice.number,
                "client": invoice.client.name,
                "outstanding": format_money(invoice.outstanding, invoice.currency),
                "reason": reason,
            },
        )
    return request


@transaction.atomic
def write_off_decide(*, request: WriteOffRequest, actor: User, approve: bool, note: str = "") -> WriteOffRequest:
    """A director approves (the invoice is written off) or rejects a pending write-off; the requester hears."""
    if not is_director(actor):
        raise PermissionDeniedError(_("Only a director can approve or reject a write-off."))
    request = WriteOffRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != WriteOffStatus.PENDING:
        raise ConflictError(_("This write-off was already decided."))
    invoice = _locked(request.invoice)
    if approve and invoice.status not in OPEN_STATUSES:
        raise TransitionError(_("Only an open invoice can be written off."))
    request.status = WriteOffStatus.APPROVED if approve else WriteOffStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    if approve:
        invoice.status, invoice.closed_on = InvoiceStatus.WRITTEN_OFF, timezone.localdate()
        invoice.close_reason = request.reason
        _save(invoice, "status", "closed_on", "close_reason")
    _log(
        invoice,
        InvoiceEventKind.WRITE_OFF_APPROVED if approve else InvoiceEventKind.WRITE_OFF_REJECTED,
        actor,
        note,
    )
    if request.requested_by_id != actor.pk:
        notify(
            user=request.requested_by,
            title=(
                gettext_lazy("Write-off approved: %(number)s")
                if approve
                else gettext_lazy("Write-off rejected: %(number)s")
            ),
            body=gettext_lazy("%(director)s: %(note)s"),
            url=reverse("contracts:invoice_detail", args=[invoice.pk]),
            params={"number": invoice.number, "director": str(actor), "note": note or "—"},
        )
    return request


@transaction.atomic
def invoice_set_dispute(*, invoice: Invoice, actor: User, disputed: bool, note: str = "") -> Invoice:
    """Mark an open invoice disputed (follow-ups stop) or the dispute resolved (they resume at today's level)."""
    _ensure_can_follow_up(actor, invoice)
    invoice = _locked(invoice)
    if disputed and invoice.status not in OPEN_STATUSES:
        raise TransitionError(_("Only an open invoice can be disputed."))
    if disputed and not note.strip():
        raise DomainError(_("Say what the client disputes."), fields={"note": [_("Required.")]})
    if invoice.disputed == disputed:
        return invoice
    invoice.disputed, invoice.dispute_note = disputed, note if disputed else invoice.dispute_note
    _save(invoice, "disputed", "dispute_note")
    _log(invoice, InvoiceEventKind.DISPUTED if disputed else InvoiceEventKind.DISPUTE_RESOLVED, actor, note)
    return invoice


@transaction.atomic
def invoice_set_promise(*, invoice: Invoice, actor: User, promise_to_pay: date | None, note: str = "") -> Invoice:
    """The client promised to pay by a date: follow-ups wait until it passes. None clears the promise."""
    _ensure_can_follow_up(actor, invoice)
    invoice = _locked(invoice)
    if invoice.status not in OPEN_STATUSES:
        raise TransitionError(_("Only an open invoice can have a promise to pay."))
    if promise_to_pay is not None and promise_to_pay < timezone.localdate():
        message = _("A promise to pay lies ahead: pick today or a later date.")
        raise DomainError(message, fields={"promise_to_pay": [message]})
    invoice.promise_to_pay = promise_to_pay
    _save(invoice, "promise_to_pay")
    label = promise_to_pay.isoformat() if promise_to_pay else _("cleared")
    _log(invoice, InvoiceEventKind.PROMISE, actor, f"{label} {note}".strip())
    return invoice


@transaction.atomic
def invoice_set_followups_paused(*, invoice: Invoice, actor: User, paused: bool, note: str = "") -> Invoice:
    _ensure_can_follow_up(actor, invoice)
    invoice = _locked(invoice)
    if invoice.followups_paused == paused:
        return invoice
    invoice.followups_paused = paused
    _save(invoice, "followups_paused")
    _log(invoice, InvoiceEventKind.PAUSED if paused else InvoiceEventKind.RESUMED, actor, note)
    return invoice


@transaction.atomic
def client_set_followups_paused(*, client: Client, actor: User, paused: bool, reason: str = "") -> bool:
    """Pause (or resume) follow-ups for all of a client's invoices. Returns whether they are paused now."""
    _ensure_can_follow_up(actor, client)
    Client.objects.select_for_update().get(pk=client.pk)
    if paused:
        CollectionPause.objects.get_or_create(client=client, defaults={"paused_by": actor, "reason": reason})
    else:
        CollectionPause.objects.filter(client=client).delete()
    return paused
