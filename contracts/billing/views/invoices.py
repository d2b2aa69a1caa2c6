"""Invoice list and its CSV export, the invoice page, and creating (from a contract) and editing drafts."""

import csv
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, F, QuerySet, When
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import is_director
from clients.models import Client
from clients.views import _cell, _Echo
from contracts.billing import selectors, services
from contracts.billing import totals as summed
from contracts.billing.filters import InvoiceFilter
from contracts.billing.forms import (
    DisputeForm,
    InvoiceForm,
    PauseForm,
    PaymentForm,
    PromiseForm,
    ReasonForm,
    WriteOffDecisionForm,
)
from contracts.billing.views.shared import (
    is_collector,
    querystring,
    refusal_status,
    show_refusal,
    visible_invoice_or_404,
)
from contracts.models import (
    OPEN_STATUSES,
    Contract,
    Invoice,
    InvoiceEventKind,
    InvoiceStatus,
    Stage,
    WriteOffStatus,
)
from core.errors import DomainError
from core.money import round_money
from core.tables import sort_choices, table_columns

PAGE_SIZE = 25
CONTRACT_PAGE_INVOICES = 10
BUCKET_LABELS = {bucket.key: bucket.label for bucket in selectors.BUCKETS}
INVOICEABLE_STAGES = (Stage.ACTIVE, Stage.RENEWED, Stage.EXPIRED, Stage.TERMINATED)
LIST_FILTERS = ("status", "bucket", "currency", "owner", "team", "due_from", "due_to")
SORTS = {
    "number": (gettext_lazy("Number"), [F("number")]),
    "client": (gettext_lazy("Client"), [F("client__name"), F("id")]),
    "issue_date": (gettext_lazy("Issued"), [F("issue_date"), F("id")]),
    "due_date": (gettext_lazy("Due"), [F("due_date"), F("id")]),
    "gross": (gettext_lazy("Gross"), [F("currency"), F("gross_amount"), F("id")]),
    "outstanding": (gettext_lazy("Outstanding"), [F("currency"), F("outstanding_amount"), F("id")]),
}
DEFAULT_SORT = "-issue_date"
NEVER_EMPTY = {"id", "client__name", "issue_date", "due_date", "currency", "gross_amount", "outstanding_amount"}
TABLE_COLUMNS = [
    ("number", gettext_lazy("Invoice"), ""),
    ("client", gettext_lazy("Client"), "d-none d-md-table-cell"),
    ("status", gettext_lazy("Status"), "d-none d-sm-table-cell"),
    ("due_date", gettext_lazy("Due"), "d-none d-lg-table-cell"),
    ("gross", gettext_lazy("Gross"), "text-end d-none d-md-table-cell"),
    ("outstanding", gettext_lazy("Outstanding"), "text-end"),
    ("owner", gettext_lazy("Account manager"), "d-none d-xl-table-cell"),
]
CSV_COLUMNS = [
    gettext_lazy("Number"),
    gettext_lazy("Status"),
    gettext_lazy("Client"),
    gettext_lazy("Contract"),
    gettext_lazy("Description"),
    gettext_lazy("Issue date"),
    gettext_lazy("Due date"),
    gettext_lazy("Currency"),
    gettext_lazy("Net"),
    gettext_lazy("VAT rate (%)"),
    gettext_lazy("VAT"),
    gettext_lazy("Gross"),
    gettext_lazy("Paid"),
    gettext_lazy("Outstanding"),
    gettext_lazy("Days past due"),
    gettext_lazy("Disputed"),
    gettext_lazy("Promise to pay"),
    gettext_lazy("Account manager"),
    gettext_lazy("Team"),
]


def mark_lateness(invoices, today: date) -> None:
    """Whether each invoice is still owed on and its days past due (0 when not late), for the labels."""
    for invoice in invoices:
        invoice.is_open = invoice.status in OPEN_STATUSES
        invoice.days_late = invoice.days_overdue(today) if invoice.is_open and invoice.due_date < today else 0


# --- List and export -------------------------------------------------------------------------------------------


def filtered_invoices(request: HttpRequest, today: date) -> tuple[InvoiceFilter, QuerySet[Invoice]]:
    """The list's, its totals' and the export's filter set and rows: one query shape, so all three agree."""
    filterset = InvoiceFilter(request.GET, queryset=selectors.invoice_list(user=request.user), today=today)
    return filterset, (filterset.qs if filterset.is_valid() else filterset.queryset.none())


def invoice_totals(user, filterset: InvoiceFilter, invoices: QuerySet[Invoice], today: date) -> list[dict]:
    """The filtered list's totals per currency: pre-summed where the filters allow, else cached until an invoice
    changes (every page and sort of the list shares them)."""
    filters = filterset.form.cleaned_data if filterset.is_valid() else None
    return summed.totals_by_currency(user, filters, invoices, today=today)


def _sorted(invoices: QuerySet[Invoice], sort: str) -> tuple[QuerySet[Invoice], str]:
    if sort.removeprefix("-") not in SORTS:
        sort = DEFAULT_SORT
    descending = sort.startswith("-")
    terms = SORTS[sort.removeprefix("-")][1]
    if sort.removeprefix("-") == "outstanding":
        owed = Case(When(status__in=OPEN_STATUSES, then=selectors.OUTSTANDING), default=selectors.ZERO)
        invoices = invoices.annotate(outstanding_amount=owed)
    ordering = [
        (term.desc() if descending else term.asc())
        if term.name in NEVER_EMPTY
        else (term.desc(nulls_last=True) if descending else term.asc(nulls_last=True))
        for term in terms
    ]
    return invoices.order_by(*ordering), sort


def _filter_client(user, filterset: InvoiceFilter) -> Client | None:
    """The client the list is narrowed to (?client=<id>), if the user may know it, to name it in a chip."""
    if not filterset.is_valid() or not filterset.form.cleaned_data.get("client"):
        return None
    return Client.objects.visible_to(user).filter(pk=filterset.form.cleaned_data["client"]).first()


def _narrowed_to(filterset: InvoiceFilter) -> list[str]:
    """The hidden filters in force (from a drill-down link), named so the page says what it shows."""
    if not filterset.is_valid():
        return []
    data, names = filterset.form.cleaned_data, []
    if data.get("contract"):
        names.append(_("one contract"))
    if data.get("disputed"):
        names.append(_("disputed"))
    if data.get("promise_due"):
        names.append(_("promised for %(day)s") % {"day": data["promise_due"].strftime("%d/%m/%Y")})
    if data.get("write_off"):
        names.append(_("write-off awaiting a director"))
    return names


@login_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    """Filter, sort and page through the invoices the user may see, with the filtered set's totals per currency."""
    today = timezone.localdate()
    filterset, invoices = filtered_invoices(request, today)
    totals = invoice_totals(request.user, filterset, invoices, today)
    invoices, sort = _sorted(invoices, request.GET.get("sort", DEFAULT_SORT))
    paginator = Paginator(invoices, PAGE_SIZE)
    paginator.count = sum(total["count"] for total in totals)  # the totals counted the rows already
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    mark_lateness(page.object_list, today)
    context = {
        "filter": filterset,
        "filter_fields": [filterset.form[name] for name in LIST_FILTERS],
        "filter_client": _filter_client(request.user, filterset),
        "narrowed_to": _narrowed_to(filterset),
        "page": page,
        "totals": totals,
        "sort": sort,
        "table_columns": table_columns(request, TABLE_COLUMNS, SORTS, sort),
        "sort_choices": sort_choices(SORTS),
        "query": querystring(request, "page"),
        "export_query": querystring(request, "page", "sort"),
        "today": today,
        "show_collections": is_collector(request.user),
    }
    if request.htmx and request.htmx.target == "invoice-results":
        return render(request, "contracts/billing/_invoice_rows.html", context)
    return render(request, "contracts/billing/invoice_list.html", context)


@login_required
def invoice_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV (UTF-8 with a BOM so Excel reads Vietnamese), streamed in batches."""
    today = timezone.localdate()
    _filterset, invoices = filtered_invoices(request, today)
    invoices, _sort = _sorted(invoices, request.GET.get("sort", DEFAULT_SORT))
    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff" + writer.writerow([str(label) for label in CSV_COLUMNS])
        for invoice in invoices.iterator(chunk_size=2000):
            yield writer.writerow([_cell(value) for value in _csv_row(invoice, today)])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="accord-invoices-{stamp}.csv"'
    return response


def _csv_row(invoice: Invoice, today: date) -> list:
    currency = invoice.currency
    late = invoice.status in OPEN_STATUSES and invoice.due_date < today
    return [
        invoice.number or "",
        invoice.get_status_display(),
        invoice.client.name,
        invoice.contract.number,
        invoice.description,
        invoice.issue_date.isoformat(),
        invoice.due_date.isoformat(),
        currency,
        round_money(invoice.net_amount, currency),
        invoice.vat_rate,
        round_money(invoice.vat_amount, currency),
        round_money(invoice.gross_amount, currency),
        round_money(invoice.paid_amount, currency),
        round_money(invoice.outstanding, currency),
        invoice.days_overdue(today) if late else 0,
        _("Yes") if invoice.disputed else "",
        invoice.promise_to_pay.isoformat() if invoice.promise_to_pay else "",
        invoice.client.owner.full_name,
        invoice.client.team.name if invoice.client.team else "",
    ]


# --- The invoice page ------------------------------------------------------------------------------------------


def _follow_up_log(invoice: Invoice) -> list[dict]:
    """The invoice's log and its follow-up levels in one list, newest first. A level the sweep also logged as an
    event that day is shown once."""
    events = list(invoice.events.select_related("actor"))
    logged_days = {
        timezone.localtime(event.created_at).date()
        for event in events
        if event.kind in (InvoiceEventKind.FOLLOW_UP, InvoiceEventKind.ESCALATED)
    }
    entries = [
        {
            "at": event.created_at,
            "kind": event.kind,
            "label": event.get_kind_display(),
            "actor": event.actor,
            "note": event.note,
        }
        for event in events
    ]
    entries += [
        {
            "at": step.created_at,
            "kind": "follow_up",
            "label": step.get_level_display(),
            "actor": None,
            "note": _("Follow-up on %(day)s") % {"day": step.taken_on.strftime("%d/%m/%Y")},
        }
        for step in invoice.collection_steps.all()
        if step.taken_on not in logged_days
    ]
    return sorted(entries, key=lambda entry: entry["at"], reverse=True)


def _action_forms(invoice: Invoice, user, forms: dict, *, billing: bool, follow_up: bool, pending) -> dict:
    """The forms the user may use on the invoice as it stands; a bound form with errors replaces the fresh one."""
    is_open = invoice.status in OPEN_STATUSES
    available = {
        "payment_form": billing and is_open,
        "void_form": billing and invoice.status == InvoiceStatus.ISSUED,
        "write_off_form": billing and is_open and pending is None,
        "decision_form": pending is not None and is_director(user),
        "dispute_form": follow_up and (is_open or invoice.disputed),
        "promise_form": follow_up and is_open,
        "pause_form": follow_up and is_open,
    }
    fresh = {
        "payment_form": lambda: PaymentForm(invoice=invoice),
        "void_form": lambda: ReasonForm(initial={"version": invoice.version}),
        "write_off_form": lambda: ReasonForm(),
        "decision_form": lambda: WriteOffDecisionForm(),
        "dispute_form": lambda: DisputeForm(initial={"disputed": "0" if invoice.disputed else "1"}),
        "promise_form": lambda: PromiseForm(initial={"promise_to_pay": invoice.promise_to_pay}),
        "pause_form": lambda: PauseForm(initial={"paused": "0" if invoice.followups_paused else "1"}),
    }
    return {name: (forms.get(name) or fresh[name]()) if allowed else None for name, allowed in available.items()}


def detail_context(request: HttpRequest, invoice: Invoice, refusal: str = "", **forms) -> dict:
    user = request.user
    today = timezone.localdate()
    billing = services.can_bill(user)
    follow_up = services.can_follow_up(user, invoice)
    write_offs = list(invoice.write_off_requests.select_related("requested_by", "decided_by"))
    pending = next((item for item in write_offs if item.status == WriteOffStatus.PENDING), None)
    mark_lateness([invoice], today)
    is_open = invoice.status in OPEN_STATUSES
    return {
        "invoice": invoice,
        "today": today,
        "is_open": is_open,
        "bucket": BUCKET_LABELS[selectors.bucket_of(invoice.days_late)] if is_open else None,
        "payments": list(invoice.payments.select_related("recorded_by")),
        "log": _follow_up_log(invoice),
        "write_offs": write_offs,
        "pending_write_off": pending,
        "can_open_client": Client.objects.detailed_for(user).filter(pk=invoice.client_id).exists(),
        "can_open_contract": Contract.objects.visible_to(user).filter(pk=invoice.contract_id).exists(),
        "client_paused": hasattr(invoice.client, "collection_pause"),
        "can_bill": billing,
        "can_follow_up": follow_up,
        "refusal": refusal,
        **_action_forms(invoice, user, forms, billing=billing, follow_up=follow_up, pending=pending),
    }


def detail_invoice_or_404(user, pk: int) -> Invoice:
    return get_object_or_404(selectors.invoice_detail(user=user).select_related("client__collection_pause"), pk=pk)


@login_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = detail_invoice_or_404(request.user, pk)
    return render(request, "contracts/billing/invoice_detail.html", detail_context(request, invoice))


def render_detail_with_errors(
    request: HttpRequest,
    pk: int,
    error: DomainError | ValidationError | None = None,
    *,
    refusal_at_top: bool = False,
    **forms,
) -> HttpResponse:
    """The invoice page again, the refused form open with its errors; 409 for a stale version. The refusal is
    also said at the top when no form of the user's shows it (a role that may not, a button without a form)."""
    invoice = detail_invoice_or_404(request.user, pk)
    status = refusal_status(error) if error is not None else 400
    shown_at_top = refusal_at_top or status == 403
    refusal = error.message if isinstance(error, DomainError) and shown_at_top else ""
    context = detail_context(request, invoice, refusal=refusal, **forms)
    return render(request, "contracts/billing/invoice_detail.html", context, status=status)


# --- Create and edit -------------------------------------------------------------------------------------------


@login_required
def invoice_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A new invoice for a signed contract (finance and directors), as a draft or issued at once."""
    contract = get_object_or_404(Contract.objects.visible_to(request.user).select_related("client"), pk=pk)
    if not services.can_bill(request.user):
        raise PermissionDenied
    form = InvoiceForm(request.POST or None, contract=contract)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                invoice = services.invoice_create(
                    contract=contract, actor=request.user, issue=form.cleaned_data["issue_now"], **form.changes()
                )
            except (DomainError, ValidationError) as error:
                show_refusal(form, error)
            else:
                message = _("Invoice %(number)s issued.") if invoice.number else _("Draft invoice saved.")
                messages.success(request, message % {"number": invoice.number})
                return redirect(invoice.get_absolute_url())
    context = {"form": form, "contract": contract, "signed": contract.stage in INVOICEABLE_STAGES}
    return render(request, "contracts/billing/invoice_form.html", context, status=status)


@login_required
def invoice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a draft; an issued invoice is voided and issued anew instead."""
    invoice = visible_invoice_or_404(request.user, pk)
    if not services.can_bill(request.user):
        raise PermissionDenied
    if invoice.status != InvoiceStatus.DRAFT:
        messages.error(request, _("Only a draft invoice can be edited; void it and issue a new one instead."))
        return redirect(invoice.get_absolute_url())
    form = InvoiceForm(request.POST or None, contract=invoice.contract, invoice=invoice)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.invoice_update(
                    invoice=invoice,
                    actor=request.user,
                    expected_version=form.cleaned_data["version"],
                    **form.changes(),
                )
            except (DomainError, ValidationError) as error:
                show_refusal(form, error)
                status = refusal_status(error)
            else:
                messages.success(request, _("Draft saved."))
                return redirect(invoice.get_absolute_url())
    context = {"form": form, "contract": invoice.contract, "invoice": invoice, "signed": True}
    return render(request, "contracts/billing/invoice_form.html", context, status=status)


def contract_invoices_context(user, contract: Contract) -> dict:
    """The contract page's invoices section: a signed contract's newest invoices the user may see and their
    totals per currency. A deal before signature has none, and costs no query."""
    if contract.stage not in INVOICEABLE_STAGES:
        return {"invoices_section": None}
    invoices = selectors.invoice_list(user=user).filter(contract=contract)
    rows = list(invoices.order_by("-issue_date", "-id")[:CONTRACT_PAGE_INVOICES])
    mark_lateness(rows, timezone.localdate())
    return {
        "invoices_section": {
            "rows": rows,
            "totals": selectors.totals_by_currency(invoices),
            "can_create": services.can_bill(user),
            "list_url": f"{reverse('contracts:invoices')}?contract={contract.pk}",
        }
    }
