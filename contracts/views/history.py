"""The change history of a contract and of an invoice (with its payments): who changed what, and when."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from contracts import selectors
from contracts.billing import selectors as billing_selectors
from contracts.models import Contract, Invoice
from core.history import history_response


@login_required
def contract_history(request: HttpRequest, pk: int) -> HttpResponse:
    contract = get_object_or_404(Contract.objects.visible_to(request.user), pk=pk)
    return history_response(
        request,
        sources=selectors.contract_history_sources(contract=contract),
        title=str(contract),
        back_url=contract.get_absolute_url(),
        url=reverse("contracts:history", args=[contract.pk]),
    )


@login_required
def invoice_history(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.visible_to(request.user), pk=pk)
    return history_response(
        request,
        sources=billing_selectors.invoice_history_sources(invoice=invoice),
        title=str(invoice),
        back_url=invoice.get_absolute_url(),
        url=reverse("contracts:invoice_history", args=[invoice.pk]),
    )
