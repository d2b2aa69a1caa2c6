"""/api/v1/invoices (with issue, void, dispute, promise, pause, write-off and payments), /api/v1/payments,
/api/v1/write-off-requests, /api/v1/receivables/aging, /api/v1/statements/{client_id} (and its PDF) and
/api/v1/statement-documents/{id}.

Scoped as the pages are: an invoice you may not see is a 404, an action your role may not take a 403. Every write
goes through ``contracts.billing.services``; every read starts from ``contracts.billing.selectors``.
"""

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404 as visible_or_404  # a malformed id is a 404 too
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import is_director
from clients.api.common import CONFLICT_RESPONSES, WRITE_RESPONSES, ordering_help
from clients.models import Client
from contracts.api.billing_serializers import (
    AgingQuerySerializer,
    AgingReportSerializer,
    DisputeSerializer,
    InvoiceCreateSerializer,
    InvoiceDetailSerializer,
    InvoiceSerializer,
    InvoiceTotalsSerializer,
    InvoiceUpdateSerializer,
    IssueSerializer,
    PauseSerializer,
    PaymentRecordSerializer,
    PaymentSerializer,
    PromiseSerializer,
    StatementDocumentSerializer,
    StatementPdfSerializer,
    StatementQuerySerializer,
    StatementSerializer,
    VoidSerializer,
    WriteOffAskSerializer,
    WriteOffDecideSerializer,
    WriteOffRequestSerializer,
    payment_rating,
)
from contracts.billing import selectors, services
from contracts.billing import totals as summed
from contracts.billing.cache import CachedPaginator
from contracts.billing.filters_api import InvoiceFilter, PaymentFilter, WriteOffRequestFilter
from contracts.models import (
    DocumentStatus,
    Invoice,
    InvoiceEvent,
    Payment,
    StatementDocument,
    WriteOffRequest,
)
from core.api import ERROR_RESPONSES, StandardPagination, whole_number_parameter
from core.errors import PermissionDeniedError
from core.history_api import history_answer, history_schema

INVOICE_ORDERING = ["number", "issue_date", "due_date", "gross_amount", "created_at"]
PAYMENT_ORDERING = ["received_on", "amount", "created_at"]
WRITE_OFF_ORDERING = ["created_at", "decided_at"]
VISIBILITY = (
    "Finance and directors see every invoice; account managers the invoices of their own and their team's "
    "clients; sales those of its own clients and its own deals."
)
BILLING_RULE = "Finance and directors only."
FOLLOW_UP_RULE = "For finance, directors and the client's account manager."
INVOICE_WRITE_RESPONSES = {**CONFLICT_RESPONSES}


# --- Reads (the selectors, shaped for the API) ------------------------------------------------------------


def invoice_card(*, user: User) -> QuerySet[Invoice]:
    """One invoice with its payments, follow-ups, log and write-off requests: five queries whatever their size."""
    return selectors.invoice_detail(user=user).prefetch_related(
        Prefetch("payments", queryset=Payment.objects.select_related("recorded_by")),
        Prefetch("collection_steps"),
        Prefetch("events", queryset=InvoiceEvent.objects.select_related("actor")),
        Prefetch("write_off_requests", queryset=WriteOffRequest.objects.select_related("requested_by", "decided_by")),
    )


def payment_list(*, user: User) -> QuerySet[Payment]:
    return Payment.objects.visible_to(user).select_related("invoice", "invoice__client", "recorded_by")


def write_off_request_list(*, user: User) -> QuerySet[WriteOffRequest]:
    """The write-off requests of the invoices the user may see."""
    invoices = Invoice.objects.visible_to(user).values("pk")
    return WriteOffRequest.objects.filter(invoice__in=invoices).select_related(
        "invoice", "invoice__client", "requested_by", "decided_by"
    )


# --- Role checks before any input is read (the services check again inside their transaction) ---------------


def ensure_can_bill(user: User) -> None:
    if not services.can_bill(user):
        raise PermissionDeniedError(_("Only finance and directors can do this to invoices."))


def ensure_can_follow_up(user: User, invoice: Invoice) -> None:
    if not services.can_follow_up(user, invoice):
        raise PermissionDeniedError(_("Only finance, directors and the client's account manager can do this."))


# --- Invoices ---------------------------------------------------------------------------------------------


class BillingCountPagination(StandardPagination):
    """The list endpoints' pages, the count from the billing cache: it counts every invoice (or payment) the caller
    sees, 300k of them for finance."""

    django_paginator_class = CachedPaginator


class InvoiceCountPagination(BillingCountPagination):
    """The invoice list's pages: the count from the pre-summed invoice totals when the filters allow
    (``contracts.billing.totals``), else from the billing cache."""

    known_count: int | None = None

    def paginate_queryset(self, queryset, request, view=None):
        self.known_count = view.summed_count() if view is not None else None
        return super().paginate_queryset(queryset, request, view)

    def django_paginator_class(self, object_list, per_page) -> CachedPaginator:
        paginator = CachedPaginator(object_list, per_page)
        if self.known_count is not None:
            paginator.count = self.known_count
        return paginator


@extend_schema_view(
    list=extend_schema(
        summary="Invoices",
        description=(
            f"{VISIBILITY} Newest issue date first by default. The invoice page's filters: `status=open` is issued "
            "or partially paid, `overdue=1` open and past due, `bucket` open and in that aging bucket today."
            + ordering_help(INVOICE_ORDERING)
        ),
        responses={200: InvoiceSerializer, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One invoice",
        description="With its payments and their summary, days past due and aging bucket, follow-ups, log and "
        "write-off requests.",
        responses={200: InvoiceDetailSerializer, **ERROR_RESPONSES},
    ),
)
class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter
    pagination_class = InvoiceCountPagination
    ordering_fields = INVOICE_ORDERING
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Invoice]:
        if self.action == "retrieve":
            return invoice_card(user=self.request.user)
        return selectors.invoice_list(user=self.request.user)

    def get_serializer_class(self):
        return InvoiceDetailSerializer if self.action == "retrieve" else super().get_serializer_class()

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def _filters(self) -> dict | None:
        """The list's filters as its filter set cleaned them (invalid ones were refused with a 400 already)."""
        filterset = DjangoFilterBackend().get_filterset(self.request, self.get_queryset(), self)
        return filterset.form.cleaned_data if filterset is not None and filterset.is_valid() else None

    def summed_count(self) -> int | None:
        return summed.count(self.request.user, self._filters(), today=timezone.localdate())

    def _answer(self, invoice: Invoice, code: int = status.HTTP_200_OK) -> Response:
        fresh = invoice_card(user=self.request.user).get(pk=invoice.pk)
        return Response(InvoiceDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _input(self, serializer_class, **kwargs) -> dict:
        data = serializer_class(data=self.request.data, context=self.get_serializer_context(), **kwargs)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    @extend_schema(
        summary="Totals per currency",
        description="How many invoices, their gross, what was paid and what is outstanding, per currency. Takes "
        f"the list's filters. {VISIBILITY}",
        filters=True,
        responses={200: InvoiceTotalsSerializer, **ERROR_RESPONSES},
    )
    @action(detail=False, methods=["get"], filter_backends=[DjangoFilterBackend], pagination_class=None)
    def totals(self, request):
        invoices = self.filter_queryset(selectors.invoice_list(user=request.user))
        filters, today = self._filters(), timezone.localdate()
        rows = summed.totals_by_currency(request.user, filters, invoices, today=today)
        return Response(InvoiceTotalsSerializer({"totals": rows}).data)

    @extend_schema(
        summary="Create an invoice",
        description=(
            "A draft on a signed contract, in its currency; `issue: true` issues it at once. VAT and gross follow "
            "from `net_amount` and `vat_rate`; number, status, client and what was paid are set by the system. "
            + BILLING_RULE
        ),
        request=InvoiceCreateSerializer,
        responses={201: InvoiceDetailSerializer, **WRITE_RESPONSES},
    )
    def create(self, request):
        ensure_can_bill(request.user)
        fields = self._input(InvoiceCreateSerializer)
        invoice = services.invoice_create(actor=request.user, **fields)
        return self._answer(invoice, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a draft invoice",
        description=(
            "Description, dates, net amount, VAT rate and phase of a draft; an issued invoice is voided instead. "
            "Send `version` to be protected from lost updates. " + BILLING_RULE
        ),
        request=InvoiceUpdateSerializer,
        responses={200: InvoiceDetailSerializer, **INVOICE_WRITE_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        invoice = self.get_object()
        ensure_can_bill(request.user)
        changes = self._input(InvoiceUpdateSerializer, instance=invoice, partial=True)
        version = changes.pop("version", None)
        invoice = services.invoice_update(invoice=invoice, actor=request.user, expected_version=version, **changes)
        return self._answer(invoice)

    @extend_schema(
        summary="Delete a draft invoice",
        description="A draft was never sent and has no number; an issued invoice is voided instead. " + BILLING_RULE,
        request=None,
        responses={204: OpenApiResponse(description="Deleted."), **WRITE_RESPONSES},
    )
    def destroy(self, request, pk=None):
        invoice = self.get_object()
        ensure_can_bill(request.user)
        services.invoice_delete_draft(invoice=invoice, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Issue a draft invoice",
        description="It gets the next number of its issue date's year (no gaps) and is owed from now. " + BILLING_RULE,
        request=IssueSerializer,
        responses={200: InvoiceDetailSerializer, **INVOICE_WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def issue(self, request, pk=None):
        invoice = self.get_object()
        ensure_can_bill(request.user)
        version = self._input(IssueSerializer).get("version")
        invoice = services.invoice_issue(invoice=invoice, actor=request.user, expected_version=version)
        return self._answer(invoice)

    @extend_schema(
        summary="Void an issued invoice",
        description="Only an issued invoice nothing was paid on; its number stays used. " + BILLING_RULE,
        request=VoidSerializer,
        responses={200: InvoiceDetailSerializer, **INVOICE_WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def void(self, request, pk=None):
        invoice = self.get_object()
        ensure_can_bill(request.user)
        fields = self._input(VoidSerializer)
        invoice = services.invoice_void(
            invoice=invoice, actor=request.user, reason=fields["reason"], expected_version=fields.get("version")
        )
        return self._answer(invoice)

    @extend_schema(
        summary="Open or resolve a dispute",
        description="A disputed invoice gets no follow-ups until the dispute is resolved. " + FOLLOW_UP_RULE,
        request=DisputeSerializer,
        responses={200: InvoiceDetailSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def dispute(self, request, pk=None):
        invoice = self.get_object()
        ensure_can_follow_up(request.user, invoice)
        invoice = services.invoice_set_dispute(invoice=invoice, actor=request.user, **self._input(DisputeSerializer))
        return self._answer(invoice)

    @extend_schema(
        summary="Record or clear a promise to pay",
        description="Follow-ups wait until the promised date has passed. " + FOLLOW_UP_RULE,
        request=PromiseSerializer,
        responses={200: InvoiceDetailSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def promise(self, request, pk=None):
        invoice = self.get_object()
        ensure_can_follow_up(request.user, invoice)
        invoice = services.invoice_set_promise(invoice=invoice, actor=request.user, **self._input(PromiseSerializer))
        return self._answer(invoice)

    @extend_schema(
        summary="Pause or resume an invoice's follow-ups",
        description=FOLLOW_UP_RULE,
        request=PauseSerializer,
        responses={200: InvoiceDetailSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def pause(self, request, pk=None):
        invoice = self.get_object()
        ensure_can_follow_up(request.user, invoice)
        invoice = services.invoice_set_followups_paused(
            invoice=invoice, actor=request.user, **self._input(PauseSerializer)
        )
        return self._answer(invoice)

    @extend_schema(
        summary="Ask to write an invoice off",
        description=(
            "What is left of an open invoice, once a director approves (directors are notified; a director's own "
            "request is approved at once). One pending request per invoice: a second is a 409. " + BILLING_RULE
        ),
        request=WriteOffAskSerializer,
        responses={201: WriteOffRequestSerializer, **INVOICE_WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path="write-off", url_name="write-off", filter_backends=[])
    def write_off(self, request, pk=None):
        invoice = self.get_object()
        ensure_can_bill(request.user)
        fields = self._input(WriteOffAskSerializer)
        asked = services.write_off_request(invoice=invoice, actor=request.user, reason=fields["reason"])
        fresh = write_off_request_list(user=request.user).get(pk=asked.pk)
        return Response(WriteOffRequestSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record a payment",
        description=(
            "Partial payments add up and the status follows (partially paid, paid). More than is still owed is "
            "a 400 with code `overpayment` and a message on `amount`; so is an amount finer than the currency's "
            "unit. Only on issued or partially paid invoices. " + BILLING_RULE
        ),
        request=PaymentRecordSerializer,
        responses={201: PaymentSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def payments(self, request, pk=None):
        invoice = self.get_object()
        ensure_can_bill(request.user)
        payment = services.payment_record(invoice=invoice, actor=request.user, **self._input(PaymentRecordSerializer))
        fresh = payment_list(user=request.user).get(pk=payment.pk)
        return Response(PaymentSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @history_schema(
        resource="invoice",
        description="Changes to the invoice (status, amounts paid, dispute, promise to pay, ...) and to its payments "
        "(`object_type` `payment`), over the invoices you may see.",
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, pk=None):
        invoice = visible_or_404(Invoice.objects.visible_to(request.user), pk=pk)
        return history_answer(request, selectors.invoice_history_sources(invoice=invoice))


# --- Payments and write-off requests ----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Payments",
        description="Payments on the invoices you may see, latest first." + ordering_help(PAYMENT_ORDERING),
        responses={200: PaymentSerializer, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(summary="One payment", responses={200: PaymentSerializer, **ERROR_RESPONSES}),
)
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payments are recorded through `POST /invoices/{id}/payments`; here they are read."""

    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    ordering_fields = PAYMENT_ORDERING
    pagination_class = BillingCountPagination

    def get_queryset(self) -> QuerySet[Payment]:
        return payment_list(user=self.request.user)


@extend_schema_view(
    list=extend_schema(
        summary="Write-off requests",
        description="Requests on the invoices you may see, newest first." + ordering_help(WRITE_OFF_ORDERING),
        responses={200: WriteOffRequestSerializer, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One write-off request", responses={200: WriteOffRequestSerializer, **ERROR_RESPONSES}
    ),
)
class WriteOffRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = WriteOffRequestSerializer
    filterset_class = WriteOffRequestFilter
    ordering_fields = WRITE_OFF_ORDERING

    def get_queryset(self) -> QuerySet[WriteOffRequest]:
        return write_off_request_list(user=self.request.user)

    @extend_schema(
        summary="Approve or reject a write-off (directors)",
        description="Approval writes the invoice off; either way the requester is notified. A request already "
        "decided is a 409.",
        request=WriteOffDecideSerializer,
        responses={200: WriteOffRequestSerializer, **INVOICE_WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def decide(self, request, pk=None):
        write_off = self.get_object()
        if not is_director(request.user):
            raise PermissionDeniedError(_("Only a director can approve or reject a write-off."))
        data = WriteOffDecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.write_off_decide(request=write_off, actor=request.user, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=write_off.pk)).data)


# --- Receivables and statements ---------------------------------------------------------------------------


class AgingView(APIView):
    @extend_schema(
        summary="Receivables aging",
        description=(
            "What is outstanding on open invoices, per aging bucket (current, 1–30, 31–60, 61–90, 90+ days past "
            "due), grouped by client, account manager, team or currency, with totals per currency. The rows come "
            "a page at a time (`page`, `page_size`: 50 by default, at most 200; `count` rows in all, `next` and "
            "`previous` link the neighbouring pages); the totals are always those of every row. Over the "
            f"invoices you may see: {VISIBILITY}"
        ),
        parameters=[
            AgingQuerySerializer,
            OpenApiParameter("page", int, description="A page number within the rows (past the last: the last)."),
            OpenApiParameter("page_size", int, description="Rows per page (50 by default, at most 200)."),
        ],
        responses={200: AgingReportSerializer, **ERROR_RESPONSES},
    )
    def get(self, request):
        params = AgingQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        by, today = params.validated_data["by"], params.validated_data.get("as_of") or timezone.localdate()
        invoices = selectors.invoice_list(user=request.user)
        pagination = AgingPagination()
        page = selectors.aging_page(
            invoices, by=by, today=today, number=pagination.page_number(request), per_page=pagination.size(request)
        )
        report = {
            "by": by,
            "as_of": today,
            "buckets": [{"key": bucket.key, "label": bucket.label} for bucket in selectors.BUCKETS],
            "count": page.paginator.count,
            "next": pagination.link(request, page.next_page_number() if page.has_next() else None),
            "previous": pagination.link(request, page.previous_page_number() if page.has_previous() else None),
            "rows": [{**row, "id": None if by == "currency" else row["key"]} for row in page.object_list],
            "totals": selectors.cached_aging_totals(invoices, today=today, revision_now=page.paginator.revision),
        }
        return Response(AgingReportSerializer(report).data)


class AgingPagination(StandardPagination):
    """The aging's rows a page at a time, with the list endpoints' ``page`` and ``page_size``: by client there are
    thousands. A page past the last is the last, as on the receivables page; a `page` that is not a whole number
    of at least 1 is a 400."""

    def page_number(self, request) -> int | None:
        return whole_number_parameter(request, self.page_query_param)

    def size(self, request) -> int:
        return self.get_page_size(request)

    def link(self, request, number: int | None) -> str | None:
        if number is None:
            return None
        url = request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, number)


def statement_client(user: User, client_id: int) -> Client:
    """The client if the user may open its details; a 404 otherwise."""
    return get_object_or_404(Client.objects.detailed_for(user), pk=client_id)


def statement_params(request, serializer_class, client: Client) -> dict:
    """The period and currency (and language) from the query string, and for a POST the body over it."""
    data = request.query_params.dict()
    if request.method == "POST":
        body = request.data.dict() if hasattr(request.data, "dict") else request.data
        data = {**data, **body} if isinstance(body, dict) else body  # not an object: the serializer says so
    params = serializer_class(data=data)
    params.is_valid(raise_exception=True)
    return {"currency": client.billing_currency, **params.validated_data}


class StatementView(APIView):
    @extend_schema(
        summary="A client's statement of account",
        description=(
            "In one currency: the opening balance, the invoices issued, payments received and write-offs in the "
            "period with a running balance, the closing balance and what of it is overdue, and the client's "
            "payment rating (A–D from the average payment delay). For the clients whose details you may open."
        ),
        parameters=[StatementQuerySerializer],
        responses={200: StatementSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, client_id: int):
        client = statement_client(request.user, client_id)
        params = statement_params(request, StatementQuerySerializer, client)
        statement = selectors.client_statement(client=client, **params)
        body = {
            **vars(statement),
            "currencies": selectors.statement_currencies(client),
            "payment_rating": payment_rating(*selectors.client_payment_rating(client)),
        }
        return Response(StatementSerializer(body).data)


def document_answer(request, document: StatementDocument) -> Response:
    code = status.HTTP_200_OK if document.status == DocumentStatus.READY else status.HTTP_202_ACCEPTED
    return Response(StatementDocumentSerializer(document, context={"request": request}).data, status=code)


DOCUMENT_RESPONSES = {
    200: OpenApiResponse(StatementDocumentSerializer, description="Ready: `download_url` fetches the PDF."),
    202: OpenApiResponse(StatementDocumentSerializer, description="Being rendered, or failed (`status`)."),
    **ERROR_RESPONSES,
}


class StatementPdfView(APIView):
    @extend_schema(
        summary="Ask for a statement of account as a PDF",
        description=(
            "The worker renders it; poll `GET /statement-documents/{id}` until `status` is `ready`. The same "
            "figures asked for again reuse the PDF already rendered. Parameters in the body or the query string."
        ),
        request=StatementPdfSerializer,
        responses=DOCUMENT_RESPONSES,
    )
    def post(self, request, client_id: int):
        from contracts.billing.statement_pdf import request_statement_document  # the PDF module loads WeasyPrint

        client = statement_client(request.user, client_id)
        params = statement_params(request, StatementPdfSerializer, client)
        document = request_statement_document(client=client, actor=request.user, **params)
        return document_answer(request, document)


class StatementDocumentView(APIView):
    @extend_schema(
        summary="A statement PDF's progress",
        description="Documents of the clients whose details you may open.",
        responses=DOCUMENT_RESPONSES,
    )
    def get(self, request, pk: int):
        clients = Client.objects.detailed_for(request.user).values("pk")
        document = get_object_or_404(StatementDocument.objects.filter(client__in=clients), pk=pk)
        return document_answer(request, document)
