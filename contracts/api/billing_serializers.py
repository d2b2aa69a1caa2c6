"""What the billing API reads and writes. Output serializers are read-only; every write has its own input serializer
holding only what the service accepts (status, number, client, totals and what was paid are never mass-assigned).

Money is a decimal string with the currency beside it. An amount with more decimals than its currency has (a VND
amount with đồng fractions, a USD amount below the cent) is a 400, not silently rounded.
"""

import functools
from datetime import date
from decimal import Decimal

from django.db import models
from django.db.models import Choices
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api import TeamSummarySerializer
from accounts.models import User
from clients.api.common import ScopedPrimaryKeyField, UserSummarySerializer, enum_field
from contracts.api.serializers import money, version_field
from contracts.billing.selectors import BUCKETS, RATING_LABELS, bucket_of
from contracts.billing.services import INVOICE_FIELDS
from contracts.models import (
    OPEN_STATUSES,
    CollectionLevel,
    CollectionStep,
    Contract,
    DocumentStatus,
    Invoice,
    InvoiceEvent,
    InvoiceEventKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Phase,
    StatementDocument,
    VatRate,
    WriteOffRequest,
    WriteOffStatus,
    reasonable_date,
)
from core.money import Currency, round_money

# Sums of money the API accepts: 15 digits before the point, so net + VAT still fits the 18-digit column.
AMOUNT_DIGITS = 17

AgingBucket = models.TextChoices(
    "AgingBucket", [(bucket.key.upper(), (bucket.key, bucket.label)) for bucket in BUCKETS]
)


class AgingDimension(models.TextChoices):
    CLIENT = "client", "Client"
    OWNER = "owner", "Account manager"
    TEAM = "team", "Team"
    CURRENCY = "currency", "Currency"


class StatementLineKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    PAYMENT = "payment", "Payment"
    WRITE_OFF = "write_off", "Write-off"


class PaymentRating(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class StatementLanguage(models.TextChoices):
    VI = "vi", "Tiếng Việt"
    EN = "en", "English"


@functools.cache
def _int_enum_field_class(choices: type[Choices]) -> type[serializers.ChoiceField]:
    field_class = type(f"{choices.__name__}Field", (serializers.ChoiceField,), {})
    schema = {"type": "integer", "enum": list(choices.values)}
    return extend_schema_field(schema, component_name=f"{choices.__name__}Enum")(field_class)


def int_enum_field(choices: type[Choices], **kwargs) -> serializers.ChoiceField:
    """``enum_field`` for integer choices (VAT rates, follow-up levels): documented as an integer enum."""
    return _int_enum_field_class(choices)(choices=choices.choices, **kwargs)


def amount_field(**kwargs) -> serializers.DecimalField:
    """An amount someone types: positive, at most two decimals (fewer for VND, checked against the currency)."""
    return serializers.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=2, min_value=Decimal("0.01"), **kwargs)


def date_field(**kwargs) -> serializers.DateField:
    """A date between 2000 and 2100: a typo like 0202 or 20266 is a 400 naming the field."""
    return serializers.DateField(validators=[reasonable_date], **kwargs)


def check_minor_unit(amount: Decimal | None, currency: str, field: str) -> None:
    if amount is not None and round_money(amount, currency) != amount:
        unit = _("whole đồng") if currency == Currency.VND else _("cents")
        raise serializers.ValidationError({field: [_("Enter the amount in %(unit)s.") % {"unit": unit}]})


def not_in_the_future(value: date | None) -> date | None:
    if value is not None and value > timezone.localdate():
        raise serializers.ValidationError(_("This date lies in the future."))
    return value


def today_of(context: dict) -> date:
    return context.get("today") or timezone.localdate()


# --- Invoices ---------------------------------------------------------------------------------------------


class InvoiceSerializer(serializers.ModelSerializer):
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    client = serializers.PrimaryKeyRelatedField(read_only=True)
    client_name = serializers.CharField(source="client.name", read_only=True)
    owner = UserSummarySerializer(source="client.owner", read_only=True, help_text="The client's account manager.")
    team = TeamSummarySerializer(source="client.team", read_only=True, allow_null=True)
    phase = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    status = enum_field(
        InvoiceStatus,
        read_only=True,
        help_text="Derived from what was paid; moves through `issue`, `payments`, `void` and `write-off`.",
    )
    currency = enum_field(Currency, read_only=True, help_text="The contract's.")
    vat_rate = int_enum_field(VatRate, read_only=True)
    outstanding = money(help_text="Gross − paid on an issued or partially paid invoice; 0 otherwise.")
    days_past_due = serializers.SerializerMethodField(
        help_text="Days since the due date on an open invoice (0 before it); null once paid, void or written off."
    )
    bucket = serializers.SerializerMethodField(help_text="The aging bucket of an open invoice; null otherwise.")

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "contract",
            "contract_number",
            "client",
            "client_name",
            "owner",
            "team",
            "phase",
            "description",
            "status",
            "currency",
            "issue_date",
            "due_date",
            "net_amount",
            "vat_rate",
            "vat_amount",
            "gross_amount",
            "paid_amount",
            "outstanding",
            "paid_on",
            "days_past_due",
            "bucket",
            "disputed",
            "promise_to_pay",
            "followups_paused",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_days_past_due(self, invoice: Invoice) -> int | None:
        return invoice.days_overdue(today_of(self.context)) if invoice.status in OPEN_STATUSES else None

    @extend_schema_field(enum_field(AgingBucket, allow_null=True))
    def get_bucket(self, invoice: Invoice) -> str | None:
        days = self.get_days_past_due(invoice)
        return None if days is None else bucket_of(days)


class InvoicePaymentSerializer(serializers.ModelSerializer):
    method = enum_field(PaymentMethod, read_only=True)
    recorded_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = Payment
        fields = ["id", "amount", "received_on", "method", "reference", "recorded_by", "created_at"]
        read_only_fields = fields


class PaymentSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField(read_only=True)
    paid = money(help_text="Σ of the payments.")
    outstanding = money()
    last_received_on = serializers.DateField(read_only=True, allow_null=True)


class CollectionStepSerializer(serializers.ModelSerializer):
    level = int_enum_field(CollectionLevel, read_only=True, help_text="0 courtesy … 4 escalated to a director.")
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = CollectionStep
        fields = ["id", "level", "level_label", "taken_on", "notice", "created_at"]
        read_only_fields = fields


class InvoiceEventSerializer(serializers.ModelSerializer):
    kind = enum_field(InvoiceEventKind, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    actor = UserSummarySerializer(read_only=True, allow_null=True, help_text="Null for the follow-up sweep.")

    class Meta:
        model = InvoiceEvent
        fields = ["id", "kind", "kind_label", "actor", "note", "created_at"]
        read_only_fields = fields


class InvoiceWriteOffSerializer(serializers.ModelSerializer):
    status = enum_field(WriteOffStatus, read_only=True)
    requested_by = UserSummarySerializer(read_only=True)
    decided_by = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = WriteOffRequest
        fields = ["id", "reason", "status", "requested_by", "decided_by", "decided_at", "decision_note", "created_at"]
        read_only_fields = fields


class InvoiceDetailSerializer(InvoiceSerializer):
    phase_name = serializers.CharField(source="phase.name", read_only=True, allow_null=True)
    created_by = UserSummarySerializer(read_only=True, allow_null=True, help_text="Null for the billing schedule.")
    payment_summary = serializers.SerializerMethodField()
    payments = InvoicePaymentSerializer(many=True, read_only=True, help_text="Latest first.")
    collection_steps = CollectionStepSerializer(many=True, read_only=True, help_text="The follow-ups, by level.")
    events = InvoiceEventSerializer(many=True, read_only=True, help_text="The invoice's log, newest first.")
    write_off_requests = InvoiceWriteOffSerializer(many=True, read_only=True, help_text="Newest first.")

    class Meta(InvoiceSerializer.Meta):
        fields = [
            *InvoiceSerializer.Meta.fields,
            "phase_name",
            "issued_at",
            "dispute_note",
            "closed_on",
            "close_reason",
            "created_by",
            "payment_summary",
            "payments",
            "collection_steps",
            "events",
            "write_off_requests",
        ]
        read_only_fields = fields

    @extend_schema_field(PaymentSummarySerializer)
    def get_payment_summary(self, invoice: Invoice) -> dict:
        payments = invoice.payments.all()  # prefetched: no query
        summary = {
            "count": len(payments),
            "paid": invoice.paid_amount,  # kept by the payment service, the Σ of the payments
            "outstanding": invoice.outstanding,
            "last_received_on": max((payment.received_on for payment in payments), default=None),
        }
        return PaymentSummarySerializer(summary).data


class InvoiceTotalSerializer(serializers.Serializer):
    currency = enum_field(Currency, read_only=True)
    count = serializers.IntegerField(read_only=True)
    gross = money()
    paid = money()
    outstanding = money(help_text="Of the issued and partially paid invoices.")


class InvoiceTotalsSerializer(serializers.Serializer):
    totals = InvoiceTotalSerializer(many=True, read_only=True, help_text="One row per currency present.")


def billable_contracts(user: User):
    return Contract.objects.visible_to(user)


def visible_phases(user: User):
    return Phase.objects.filter(contract__in=Contract.objects.visible_to(user).values("pk"))


class InvoiceInputSerializer(serializers.ModelSerializer):
    """The fields of a draft a person sets; VAT and gross follow from the net amount and the rate."""

    net_amount = amount_field(required=False)
    vat_rate = int_enum_field(VatRate, required=False, help_text="10 (standard), 8, 5 or 0 %.")
    phase = ScopedPrimaryKeyField(
        scope=visible_phases, required=False, allow_null=True, help_text="A phase of the invoice's contract."
    )

    class Meta:
        model = Invoice
        fields = list(INVOICE_FIELDS)
        extra_kwargs = {
            "description": {"required": False},
            "issue_date": {"required": False},
            "due_date": {"required": False},
        }


class InvoiceCreateSerializer(InvoiceInputSerializer):
    contract = ScopedPrimaryKeyField(scope=billable_contracts, help_text="A signed contract; the currency is its.")
    net_amount = amount_field()
    issue = serializers.BooleanField(default=False, help_text="Issue at once (the invoice gets its number).")

    class Meta(InvoiceInputSerializer.Meta):
        fields = ["contract", *INVOICE_FIELDS, "issue"]
        extra_kwargs = {
            "description": {"required": True},
            "issue_date": {"required": False, "help_text": "Default: today."},
            "due_date": {"required": False, "help_text": "Default: the issue date + the contract's payment terms."},
        }

    def validate(self, attrs: dict) -> dict:
        check_minor_unit(attrs.get("net_amount"), attrs["contract"].currency, "net_amount")
        return attrs


class InvoiceUpdateSerializer(InvoiceInputSerializer):
    version = version_field("invoice")

    class Meta(InvoiceInputSerializer.Meta):
        fields = [*INVOICE_FIELDS, "version"]

    def validate(self, attrs: dict) -> dict:
        check_minor_unit(attrs.get("net_amount"), self.instance.currency, "net_amount")
        return attrs


class IssueSerializer(serializers.Serializer):
    version = version_field("invoice")


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the invoice is cancelled; kept in its log.")
    version = version_field("invoice")


class DisputeSerializer(serializers.Serializer):
    disputed = serializers.BooleanField(help_text="True: the client disputes it (follow-ups stop); false: resolved.")
    note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="Required to open a dispute."
    )


class PromiseSerializer(serializers.Serializer):
    promise_to_pay = date_field(
        allow_null=True, help_text="Today or later: follow-ups wait until it passes. Null clears the promise."
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class PauseSerializer(serializers.Serializer):
    paused = serializers.BooleanField(help_text="True pauses this invoice's follow-ups; false resumes them.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class WriteOffAskSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why what is left cannot be collected.")


class PaymentRecordSerializer(serializers.Serializer):
    amount = amount_field(help_text="At most what is still owed, in whole đồng for VND or cents for USD.")
    received_on = date_field(
        required=False, help_text="Default: today. Not before the invoice was issued, not in the future."
    )
    method = enum_field(PaymentMethod, required=False, default=PaymentMethod.BANK_TRANSFER)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate_received_on(self, value: date) -> date:
        return not_in_the_future(value)


# --- Payments and write-offs ------------------------------------------------------------------------------


class PaymentSerializer(InvoicePaymentSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    client = serializers.IntegerField(source="invoice.client_id", read_only=True)
    client_name = serializers.CharField(source="invoice.client.name", read_only=True)
    currency = enum_field(Currency, source="invoice.currency", read_only=True)

    class Meta(InvoicePaymentSerializer.Meta):
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "client",
            "client_name",
            "amount",
            "currency",
            "received_on",
            "method",
            "reference",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields


class WriteOffRequestSerializer(InvoiceWriteOffSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    client = serializers.IntegerField(source="invoice.client_id", read_only=True)
    client_name = serializers.CharField(source="invoice.client.name", read_only=True)
    currency = enum_field(Currency, source="invoice.currency", read_only=True)
    amount = serializers.SerializerMethodField(help_text="Gross − paid: what is (or was) written off.")
    invoice_status = enum_field(InvoiceStatus, source="invoice.status", read_only=True)

    class Meta(InvoiceWriteOffSerializer.Meta):
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "invoice_status",
            "client",
            "client_name",
            "amount",
            "currency",
            *InvoiceWriteOffSerializer.Meta.fields[1:],
        ]
        read_only_fields = fields

    @extend_schema_field(money())
    def get_amount(self, request: WriteOffRequest) -> str:
        return money().to_representation(request.invoice.gross_amount - request.invoice.paid_amount)


class WriteOffDecideSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text="True writes the invoice off; false rejects the request.")
    note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="Sent to the requester."
    )


# --- Receivables ------------------------------------------------------------------------------------------


class AgingQuerySerializer(serializers.Serializer):
    by = enum_field(AgingDimension, required=False, default=AgingDimension.CLIENT, help_text="How rows group.")
    as_of = date_field(required=False, help_text="Count days past due on this day (default today; not later).")

    def validate_as_of(self, value: date) -> date:
        return not_in_the_future(value)


class BucketSerializer(serializers.Serializer):
    key = enum_field(AgingBucket, read_only=True)
    label = serializers.CharField(read_only=True)


class AgingAmountsSerializer(serializers.Serializer):
    currency = enum_field(Currency, read_only=True)
    current = money(help_text="Not yet due.")
    d1_30 = money(help_text="1–30 days past due.")
    d31_60 = money(help_text="31–60 days past due.")
    d61_90 = money(help_text="61–90 days past due.")
    d90_plus = money(help_text="More than 90 days past due.")
    total = money()
    invoices = serializers.IntegerField(read_only=True, help_text="Open invoices counted.")


class AgingRowSerializer(AgingAmountsSerializer):
    id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The client, owner or team; null by currency or without a team."
    )
    label = serializers.CharField(read_only=True, help_text="Its name, or the currency.")


class AgingReportSerializer(serializers.Serializer):
    by = enum_field(AgingDimension, read_only=True)
    as_of = serializers.DateField(read_only=True)
    buckets = BucketSerializer(many=True, read_only=True, help_text="Their keys name the amounts of each row.")
    count = serializers.IntegerField(read_only=True, help_text="Rows in all, over every page.")
    next = serializers.URLField(read_only=True, allow_null=True, help_text="The next page of rows; null on the last.")
    previous = serializers.URLField(
        read_only=True, allow_null=True, help_text="The previous page of rows; null on the first."
    )
    rows = AgingRowSerializer(
        many=True, read_only=True, help_text="This page's rows: per group and currency, largest total first."
    )
    totals = AgingAmountsSerializer(many=True, read_only=True, help_text="One row per currency.")


# --- Statements -------------------------------------------------------------------------------------------


class StatementQuerySerializer(serializers.Serializer):
    currency = enum_field(Currency, required=False, help_text="Default: the client's billing currency.")
    start = date_field(required=False, help_text="Default: 1 January of the end's year.")
    end = date_field(required=False, help_text="Default: today; not later.")

    def validate_end(self, value: date) -> date:
        return not_in_the_future(value)

    def validate(self, attrs: dict) -> dict:
        attrs["end"] = attrs.get("end") or timezone.localdate()
        attrs["start"] = attrs.get("start") or attrs["end"].replace(month=1, day=1)
        if attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"start": [_("After the end of the period.")]})
        return attrs


class StatementPdfSerializer(StatementQuerySerializer):
    language = enum_field(StatementLanguage, required=False, default=StatementLanguage.VI)


class ClientReferenceSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class StatementLineSerializer(serializers.Serializer):
    date = serializers.DateField(source="day", read_only=True)
    kind = enum_field(StatementLineKind, read_only=True)
    reference = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    debit = money(help_text="Invoiced (gross).")
    credit = money(help_text="Paid or written off.")
    balance = money(help_text="Running balance after this line.")
    due_date = serializers.DateField(read_only=True, allow_null=True, help_text="Invoices only.")
    invoice = serializers.IntegerField(source="invoice_id", read_only=True, allow_null=True)


class PaymentRatingSerializer(serializers.Serializer):
    rating = enum_field(
        PaymentRating, read_only=True, allow_null=True, help_text="Null without a paid or late invoice."
    )
    label = serializers.CharField(read_only=True, allow_null=True)
    average_delay_days = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Average days paid (or so far) after the due date."
    )


class StatementSerializer(serializers.Serializer):
    client = ClientReferenceSerializer(read_only=True)
    currency = enum_field(Currency, read_only=True)
    currencies = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Every currency the client was invoiced in."
    )
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    opening_balance = money(help_text="Owed at the start of the period.")
    lines = StatementLineSerializer(many=True, read_only=True, help_text="By date; invoices before payments.")
    closing_balance = money(help_text="Owed at the end of the period.")
    overdue = money(help_text="Of what is open, past due on the end date.")
    payment_rating = PaymentRatingSerializer(read_only=True)


def payment_rating(rating: str | None, delay) -> dict:
    return {
        "rating": rating,
        "label": str(RATING_LABELS[rating]) if rating else None,
        "average_delay_days": None if delay is None else round(delay.total_seconds() / 86400),
    }


class StatementDocumentSerializer(serializers.ModelSerializer):
    status = enum_field(DocumentStatus, read_only=True, help_text="`pending` until the worker has rendered it.")
    currency = enum_field(Currency, read_only=True)
    language = enum_field(StatementLanguage, read_only=True)
    download_url = serializers.SerializerMethodField(help_text="Once ready; null before.")

    class Meta:
        model = StatementDocument
        fields = [
            "id",
            "status",
            "download_url",
            "client",
            "currency",
            "start",
            "end",
            "language",
            "error",
            "created_at",
            "rendered_at",
        ]
        read_only_fields = fields

    def get_download_url(self, document: StatementDocument) -> str | None:
        if document.status != DocumentStatus.READY:
            return None
        url = reverse("contracts:statement_document_download", args=[document.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url
