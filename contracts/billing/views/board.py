"""The collections board (finance, directors, admins): overdue invoices in a column per aging bucket with the
outstanding per currency, promises due today, disputes and write-offs waiting; a payment is recorded inline on a
card (htmx: the card and the bucket totals come back). Bounded queries whatever the number of invoices."""

from collections.abc import Callable
from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.permissions import role_required
from contracts.billing import selectors
from contracts.billing.cache import cached, revision
from contracts.billing.forms import PaymentForm
from contracts.billing.home import collection_counts, invoices_url, pending_write_off
from contracts.billing.views.invoices import mark_lateness
from contracts.billing.views.shared import COLLECTORS, show_refusal, visible_invoice_or_404
from contracts.models import Invoice, InvoiceStatus, WriteOffStatus
from core.errors import DomainError

CARDS_PER_COLUMN = 12
SIDE_ROWS = 6
OVERDUE_BUCKETS = selectors.BUCKETS[1:]  # the board is about what is late: "current" stays on the receivables page


def card_prefix(invoice: Invoice) -> str:
    """Each card's form fields get their own ids (card42-amount), so every label points at its own input."""
    return f"card{invoice.pk}"


def _overdue(user, today: date) -> QuerySet[Invoice]:
    return selectors.invoice_list(user=user).overdue(today).select_related("client__collection_pause")


def bucket_totals(
    invoices: QuerySet[Invoice], today: date, *, revision_now: str | None = None
) -> tuple[list[dict], list[dict]]:
    """Per overdue bucket: how many invoices and the outstanding per currency, with the link to the list that
    adds up to it; and everything overdue per currency. From the billing cache while no invoice changes; else one
    query (and the revision's)."""
    sums = {"overdue": Coalesce(Sum(selectors.OUTSTANDING), selectors.ZERO)}
    for bucket in OVERDUE_BUCKETS:
        condition = selectors.bucket_filter(bucket.key, today)
        sums[bucket.key] = Coalesce(Sum(selectors.OUTSTANDING, filter=condition), selectors.ZERO)
        sums[f"{bucket.key}__count"] = Count("pk", filter=condition)
    rows = cached(
        invoices.order_by().values("currency").annotate(**sums).order_by("currency"), list, revision_now=revision_now
    )
    overall = [
        {
            "currency": row["currency"],
            "amount": row["overdue"],
            "url": invoices_url(overdue=1, currency=row["currency"]),
        }
        for row in rows
    ]
    columns = [
        {
            "key": bucket.key,
            "label": bucket.label,
            "count": sum(row[f"{bucket.key}__count"] for row in rows),
            "totals": [
                {
                    "currency": row["currency"],
                    "amount": row[bucket.key],
                    "url": invoices_url(bucket=bucket.key, currency=row["currency"]),
                }
                for row in rows
                if row[f"{bucket.key}__count"]
            ],
            "list_url": invoices_url(bucket=bucket.key, sort="due_date"),
        }
        for bucket in OVERDUE_BUCKETS
    ]
    return columns, overall


def _cards(invoices: QuerySet[Invoice], today: date, key: str) -> list[Invoice]:
    """The column's oldest cards. Their payment forms come when a card's "Record a payment" is opened
    (``card_payment_form``): four dozen forms were most of the board's time."""
    cards = list(invoices.filter(selectors.bucket_filter(key, today)).order_by("due_date", "id")[:CARDS_PER_COLUMN])
    mark_lateness(cards, today)
    for card in cards:
        card.payment_form = None
    return cards


@login_required
@role_required(*COLLECTORS)
def card_payment_form(request: HttpRequest, pk: int) -> HttpResponse:
    """A card's payment form, fetched when the card's "Record a payment" is opened (htmx)."""
    invoice = visible_invoice_or_404(request.user, pk)
    form = PaymentForm(invoice=invoice, prefix=card_prefix(invoice))
    return render(request, "contracts/billing/_card_payment_form.html", {"card": invoice, "form": form})


def _side_lists(user, today: date) -> dict:
    open_invoices = selectors.invoice_list(user=user).open()
    pending = open_invoices.filter(pending_write_off())
    return {
        "promises": list(open_invoices.filter(promise_to_pay=today).order_by("due_date", "id")[:SIDE_ROWS]),
        "disputes": list(open_invoices.filter(disputed=True).order_by("due_date", "id")[:SIDE_ROWS]),
        "write_offs": list(pending.order_by("due_date", "id")[:SIDE_ROWS]),
    }


def totals_context(user, today: date, *, revision_now: str | None = None) -> dict:
    overdue = selectors.invoice_list(user=user).overdue(today)
    columns, overall = bucket_totals(overdue, today, revision_now=revision_now)
    return {"columns": columns, "overdue_totals": overall}


@login_required
@role_required(*COLLECTORS)
def collections(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    revision_now = revision()  # the invoices' revision, read once for the board's cached figures
    context = {
        **totals_context(request.user, today, revision_now=revision_now),
        **_side_lists(request.user, today),
        "today": today,
    }
    overdue = _overdue(request.user, today)
    for column in context["columns"]:
        column["cards"] = _cards(overdue, today, column["key"])
        column["hidden"] = column["count"] - len(column["cards"])
    invoices = selectors.invoice_list(user=request.user)
    context["counts"] = collection_counts(invoices, today, revision_now=revision_now)
    context["links"] = {
        "promises": invoices_url(promise_due=today.isoformat()),
        "disputes": invoices_url(disputed=1),
        "write_offs": invoices_url(write_off=WriteOffStatus.PENDING),
    }
    return render(request, "contracts/billing/collections.html", context)


def record_on_card(request: HttpRequest, invoice: Invoice, form: Form, record: Callable[[dict], str]) -> HttpResponse:
    """The inline payment on a board card: the card comes back with the new outstanding and, out of band, the
    bucket totals; a refusal comes back on the card (200, so htmx swaps it in) with the form's errors."""
    today = timezone.localdate()
    message = ""
    if form.is_valid():
        try:
            message = record(form.cleaned_data)
        except (DomainError, ValidationError) as error:
            show_refusal(form, error)
    if message:
        invoice = Invoice.objects.select_related("client__owner", "client__collection_pause").get(pk=invoice.pk)
        form = PaymentForm(invoice=invoice, prefix=card_prefix(invoice))
    mark_lateness([invoice], today)
    invoice.payment_form = form
    context = {
        "card": invoice,
        "recorded": message,
        "settled": invoice.status == InvoiceStatus.PAID,
        "today": today,
        "refresh_totals": bool(message),
    }
    if message:
        context.update(totals_context(request.user, today))
    return render(request, "contracts/billing/_collection_card_swap.html", context)
