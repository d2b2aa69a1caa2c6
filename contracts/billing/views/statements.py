"""A client's statement of account (who may open the client; finance all): one currency over a period, opening
balance, invoices and payments with a running balance, closing balance and what is overdue, the client's payment
rating, its PDF, and pausing follow-ups for the whole client."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients.models import Client
from contracts.billing import selectors, services
from contracts.billing.forms import PauseForm, StatementForm
from contracts.billing.home import invoices_url
from contracts.billing.statement_pdf import current_statement_document
from contracts.billing.views.shared import querystring, refusal_status, show_refusal
from core.errors import DomainError


def _client_or_404(user, pk: int) -> Client:
    return get_object_or_404(
        Client.objects.detailed_for(user).select_related("owner", "team", "collection_pause"), pk=pk
    )


def _statement_context(request: HttpRequest, client: Client, pause_form: PauseForm | None = None) -> dict:
    today = timezone.localdate()
    form = StatementForm(request.GET or None, initial={"currency": client.billing_currency})
    currencies = selectors.statement_currencies(client) or [client.billing_currency]
    chosen = form.cleaned_data.get("currency") if form.is_valid() else ""
    currency = chosen or (client.billing_currency if client.billing_currency in currencies else currencies[0])
    start, end = form.period(today)
    statement = selectors.client_statement(client=client, currency=currency, start=start, end=end)
    rating, delay = selectors.client_payment_rating(client, today)
    paused = hasattr(client, "collection_pause")
    can_pause = services.can_follow_up(request.user, client)
    return {
        "client": client,
        "form": form,
        "currencies": currencies,
        "statement": statement,
        "rating": rating,
        "rating_label": selectors.RATING_LABELS.get(rating, ""),
        "average_delay_days": round(delay.total_seconds() / 86400) if delay is not None else None,
        # Only a PDF of the figures shown now: after a payment the button offers a fresh one.
        "document": current_statement_document(statement=statement, language=translation.get_language()),
        "paused": client.collection_pause if paused else None,
        "pause_form": (pause_form or PauseForm(initial={"paused": "0" if paused else "1"})) if can_pause else None,
        "query": querystring(request),
        "overdue_url": invoices_url(client=client.pk, currency=currency, overdue=1),
        "invoices_url": invoices_url(client=client.pk, currency=currency),
        "today": today,
    }


@login_required
def statement(request: HttpRequest, client_pk: int) -> HttpResponse:
    client = _client_or_404(request.user, client_pk)
    context = _statement_context(request, client)
    status = 400 if context["form"].errors else 200
    return render(request, "contracts/billing/statement.html", context, status=status)


@login_required
@require_POST
def client_followups_pause(request: HttpRequest, client_pk: int) -> HttpResponse:
    """Pause or resume follow-ups for all of the client's invoices (the client's AM, finance, directors)."""
    client = _client_or_404(request.user, client_pk)
    form = PauseForm(request.POST)
    error = None
    if form.is_valid():
        try:
            paused = services.client_set_followups_paused(
                client=client,
                actor=request.user,
                paused=form.cleaned_data["paused"],
                reason=form.cleaned_data["note"],
            )
        except (DomainError, ValidationError) as refusal:
            show_refusal(form, refusal)
            error = refusal
        else:
            message = (
                _("Follow-ups paused for all of %(client)s's invoices.")
                if paused
                else _("Follow-ups resumed for %(client)s.")
            )
            messages.success(request, message % {"client": client.name})
            query = querystring(request)
            return redirect(f"{reverse('contracts:statement', args=[client.pk])}{'?' + query if query else ''}")
    client = _client_or_404(request.user, client_pk)
    context = _statement_context(request, client, pause_form=form)
    if isinstance(error, DomainError) and context["pause_form"] is None:
        messages.error(request, error.message)
    status = refusal_status(error) if error is not None else 400
    return render(request, "contracts/billing/statement.html", context, status=status)
