"""The invoice page's actions (POST only): issue, delete a draft, record a payment, void, write-off request and
decision, dispute, promise to pay, pause follow-ups. Each validates a form, calls one service and goes back to
the invoice; a refusal re-renders the page with the form open and the service's words on it."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contracts.billing import services
from contracts.billing.forms import DisputeForm, PauseForm, PaymentForm, PromiseForm, ReasonForm, WriteOffDecisionForm
from contracts.billing.views import board
from contracts.billing.views.invoices import render_detail_with_errors
from contracts.billing.views.shared import safe_next, show_refusal, visible_invoice_or_404
from contracts.models import Contract, Invoice, WriteOffRequest
from core.errors import DomainError
from core.money import format_money


def _act(
    request: HttpRequest, invoice: Invoice, form: Form, form_name: str, action: Callable[[dict], str]
) -> HttpResponse:
    """Run ``action`` (a service call returning the success message) on a valid form, then back to the invoice;
    otherwise the invoice page with the form and its errors."""
    error = None
    if form.is_valid():
        try:
            message = action(form.cleaned_data)
        except (DomainError, ValidationError) as refusal:
            show_refusal(form, refusal)
            error = refusal
        else:
            messages.success(request, message)
            return redirect(safe_next(request, invoice.get_absolute_url()))
    return render_detail_with_errors(request, invoice.pk, error, **{form_name: form})


@login_required
@require_POST
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = visible_invoice_or_404(request.user, pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        issued = services.invoice_issue(invoice=invoice, actor=request.user, expected_version=version)
    except DomainError as error:
        return render_detail_with_errors(request, pk, error, refusal_at_top=True)
    messages.success(request, _("Invoice %(number)s issued.") % {"number": issued.number})
    return redirect(issued.get_absolute_url())


@login_required
@require_POST
def invoice_delete(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = visible_invoice_or_404(request.user, pk)
    try:
        services.invoice_delete_draft(invoice=invoice, actor=request.user)
    except DomainError as error:
        return render_detail_with_errors(request, pk, error, refusal_at_top=True)
    messages.success(request, _("Draft invoice deleted."))
    if Contract.objects.visible_to(request.user).filter(pk=invoice.contract_id).exists():
        return redirect(f"{reverse('contracts:detail', args=[invoice.contract_id])}#invoices")
    return redirect("contracts:invoices")


@login_required
@require_POST
def payment_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a payment from the invoice page, or inline on the collections board (htmx: the card comes back)."""
    invoice = visible_invoice_or_404(request.user, pk)
    from_board = request.POST.get("from") == "board"
    form = PaymentForm(request.POST, invoice=invoice, prefix=board.card_prefix(invoice) if from_board else None)

    def record(data: dict) -> str:
        payment = services.payment_record(
            invoice=invoice, actor=request.user, expected_version=data["version"], **form.payment()
        )
        return _("Payment of %(amount)s recorded on %(number)s.") % {
            "amount": format_money(payment.amount, invoice.currency),
            "number": invoice.number,
        }

    if from_board and request.htmx:
        return board.record_on_card(request, invoice, form, record)
    return _act(request, invoice, form, "payment_form", record)


@login_required
@require_POST
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = visible_invoice_or_404(request.user, pk)

    def void(data: dict) -> str:
        services.invoice_void(
            invoice=invoice, actor=request.user, reason=data["reason"], expected_version=data["version"]
        )
        return _("Invoice %(number)s voided.") % {"number": invoice.number}

    return _act(request, invoice, ReasonForm(request.POST), "void_form", void)


@login_required
@require_POST
def write_off_request(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = visible_invoice_or_404(request.user, pk)

    def ask(data: dict) -> str:
        asked = services.write_off_request(invoice=invoice, actor=request.user, reason=data["reason"])
        if asked.status == "approved":  # a director's own request is approved at once
            return _("Invoice %(number)s written off.") % {"number": invoice.number}
        return _("Write-off requested: a director will approve or reject it.")

    return _act(request, invoice, ReasonForm(request.POST), "write_off_form", ask)


@login_required
@require_POST
def write_off_decide(request: HttpRequest, pk: int) -> HttpResponse:
    visible = Invoice.objects.visible_to(request.user).values("pk")
    write_off = get_object_or_404(WriteOffRequest.objects.filter(invoice__in=visible).select_related("invoice"), pk=pk)
    form = WriteOffDecisionForm(request.POST)

    def decide(data: dict) -> str:
        services.write_off_decide(request=write_off, actor=request.user, approve=form.approve, note=data["note"])
        if form.approve:
            return _("Write-off approved: %(number)s is written off.") % {"number": write_off.invoice.number}
        return _("Write-off rejected: %(number)s stays open.") % {"number": write_off.invoice.number}

    return _act(request, write_off.invoice, form, "decision_form", decide)


@login_required
@require_POST
def invoice_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = visible_invoice_or_404(request.user, pk)

    def dispute(data: dict) -> str:
        services.invoice_set_dispute(invoice=invoice, actor=request.user, disputed=data["disputed"], note=data["note"])
        if data["disputed"]:
            return _("Marked disputed: follow-ups stop until the dispute is resolved.")
        return _("Dispute resolved: follow-ups resume.")

    return _act(request, invoice, DisputeForm(request.POST), "dispute_form", dispute)


@login_required
@require_POST
def invoice_promise(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = visible_invoice_or_404(request.user, pk)

    def promise(data: dict) -> str:
        day = data["promise_to_pay"]
        services.invoice_set_promise(invoice=invoice, actor=request.user, promise_to_pay=day, note=data["note"])
        if day is None:
            return _("Promise to pay cleared.")
        return _("Promise to pay by %(day)s recorded: follow-ups wait until then.") % {"day": day.strftime("%d/%m/%Y")}

    return _act(request, invoice, PromiseForm(request.POST), "promise_form", promise)


@login_required
@require_POST
def invoice_pause(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = visible_invoice_or_404(request.user, pk)

    def pause(data: dict) -> str:
        services.invoice_set_followups_paused(
            invoice=invoice, actor=request.user, paused=data["paused"], note=data["note"]
        )
        return _("Follow-ups paused for this invoice.") if data["paused"] else _("Follow-ups resumed for this invoice.")

    return _act(request, invoice, PauseForm(request.POST), "pause_form", pause)
