"""What the proposals API reads and writes. Output serializers are read-only; every write has its own input
serializer holding only what the service accepts (number, version, status, owner, totals, approval and the
client's answer are never mass-assigned).

Money is a decimal string with the currency beside it. A unit price with more decimals than the proposal's
currency has (đồng fractions, a USD price below the cent) is a 400, not silently rounded.
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from clients.api.common import ScopedPrimaryKeyField, UserSummarySerializer, enum_field
from clients.models import Client, Contact, Department, Request
from contracts.api.billing_serializers import check_minor_unit, date_field, int_enum_field
from contracts.api.serializers import money
from contracts.models import Contract, VatRate
from core.money import Currency
from proposals.models import LineItem, Proposal, ProposalEvent, ProposalEventKind, ProposalStatus, RateCardItem, Unit
from proposals.services import needs_approval
from proposals.totals import amount_in_words, line_amounts

# A unit price the API accepts: 15 digits before the point, as the stored totals must still fit 18 digits.
PRICE_DIGITS = 17


class ProposalLanguage(models.TextChoices):
    VI = "vi", "Tiếng Việt"
    EN = "en", "English"


class PdfStatus(models.TextChoices):
    READY = "ready", "Ready to download"
    PENDING = "pending", "The worker is rendering it"
    FAILED = "failed", "The last render failed"
    NOT_REQUESTED = "not_requested", "Never asked for, or the proposal changed since"


def revision_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The proposal's `revision` you read: if someone changed the proposal since, the answer is 409 "
        "and nothing is written.",
    )


@extend_schema_field({"type": "integer"})
class ScopedIdField(ScopedPrimaryKeyField):
    """The id of a record the requesting user may see (any other id does not exist), documented as an integer."""


# --- Reading ----------------------------------------------------------------------------------------------


class ProposalSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(read_only=True)
    client_name = serializers.CharField(source="client.name", read_only=True)
    owner = UserSummarySerializer(read_only=True)
    status = enum_field(
        ProposalStatus,
        read_only=True,
        help_text="Moves only through the actions (`submit`, `approve`, `return`, `send`, `new-version`) and the "
        "client's answer on the public page.",
    )
    language = enum_field(ProposalLanguage, read_only=True)
    currency = enum_field(Currency, read_only=True)
    vat_rate = int_enum_field(VatRate, read_only=True)
    subtotal = money(help_text="Σ quantity × unit price, each line rounded to the currency.")
    discount_amount = money(help_text="Σ of the lines' discounts.")
    net_amount = money(help_text="Subtotal − discount.")
    vat_amount = money()
    total = money(help_text="Net + VAT.")
    discount_percent = serializers.DecimalField(
        max_digits=7, decimal_places=2, read_only=True, help_text="The discount as a share of the subtotal."
    )

    class Meta:
        model = Proposal
        fields = [
            "id",
            "number",
            "version",
            "title",
            "client",
            "client_name",
            "contract",
            "brief",
            "recipient",
            "owner",
            "status",
            "language",
            "currency",
            "vat_rate",
            "valid_until",
            "subtotal",
            "discount_amount",
            "discount_percent",
            "net_amount",
            "vat_amount",
            "total",
            "sent_at",
            "revision",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class LineItemSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True, allow_null=True)
    unit = enum_field(Unit, read_only=True)
    list_amount = serializers.SerializerMethodField(help_text="Quantity × unit price, rounded to the currency.")
    net_amount = serializers.SerializerMethodField(help_text="After the line's discount.")

    class Meta:
        model = LineItem
        fields = [
            "id",
            "proposal",
            "order",
            "description",
            "department",
            "department_name",
            "quantity",
            "unit",
            "unit_price",
            "discount_percent",
            "list_amount",
            "net_amount",
        ]
        read_only_fields = fields

    def _amounts(self, line: LineItem):
        return line_amounts(line, line.proposal.currency)

    @extend_schema_field(serializers.DecimalField(max_digits=None, decimal_places=2))
    def get_list_amount(self, line: LineItem) -> str:
        return f"{self._amounts(line).list_amount:.2f}"

    @extend_schema_field(serializers.DecimalField(max_digits=None, decimal_places=2))
    def get_net_amount(self, line: LineItem) -> str:
        return f"{self._amounts(line).net:.2f}"


class ProposalEventSerializer(serializers.ModelSerializer):
    kind = enum_field(ProposalEventKind, read_only=True)
    actor = UserSummarySerializer(read_only=True, allow_null=True, help_text="Null for the client's own actions.")

    class Meta:
        model = ProposalEvent
        fields = ["id", "kind", "actor", "note", "created_at"]
        read_only_fields = fields


class ApprovalSerializer(serializers.Serializer):
    needed = serializers.BooleanField(
        read_only=True, help_text="The discount is above the threshold and no director approved at least this much."
    )
    approved_by = UserSummarySerializer(read_only=True, allow_null=True)
    approved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    approved_discount = serializers.DecimalField(max_digits=7, decimal_places=2, read_only=True, allow_null=True)


class DecisionSerializer(serializers.Serializer):
    first_viewed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    decided_by_name = serializers.CharField(read_only=True, help_text="The name the client typed to accept.")
    decline_reason = serializers.CharField(read_only=True)


class ProposalDetailSerializer(ProposalSerializer):
    lines = LineItemSerializer(many=True, read_only=True, help_text="In order.")
    amount_in_words = serializers.SerializerMethodField(help_text="The total, in the proposal's language.")
    approval = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField(help_text="The client's side, recorded from the public link.")
    events = ProposalEventSerializer(many=True, read_only=True, help_text="Newest first.")

    class Meta(ProposalSerializer.Meta):
        fields = [
            *ProposalSerializer.Meta.fields,
            "previous",
            "objectives",
            "scope",
            "terms",
            "lines",
            "amount_in_words",
            "approval",
            "decision",
            "events",
        ]
        read_only_fields = fields

    def get_amount_in_words(self, proposal: Proposal) -> str:
        return amount_in_words(proposal.total, proposal.currency, proposal.language)

    @extend_schema_field(ApprovalSerializer)
    def get_approval(self, proposal: Proposal) -> dict:
        approval = {
            "needed": needs_approval(proposal),
            "approved_by": proposal.approved_by if proposal.approved_by_id else None,
            "approved_at": proposal.approved_at,
            "approved_discount": proposal.approved_discount,
        }
        return ApprovalSerializer(approval).data

    @extend_schema_field(DecisionSerializer)
    def get_decision(self, proposal: Proposal) -> dict:
        return DecisionSerializer(proposal).data


class ProposalTotalsSerializer(serializers.ModelSerializer):
    """The proposal's state after a line changed: what the editor redraws."""

    status = enum_field(ProposalStatus, read_only=True)
    currency = enum_field(Currency, read_only=True)
    subtotal = money()
    discount_amount = money()
    net_amount = money()
    vat_amount = money()
    total = money()
    discount_percent = serializers.DecimalField(max_digits=7, decimal_places=2, read_only=True)
    needs_approval = serializers.SerializerMethodField(help_text="A director must approve before it is sent.")
    amount_in_words = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = [
            "id",
            "status",
            "currency",
            "subtotal",
            "discount_amount",
            "discount_percent",
            "net_amount",
            "vat_amount",
            "total",
            "needs_approval",
            "amount_in_words",
            "revision",
        ]
        read_only_fields = fields

    def get_needs_approval(self, proposal: Proposal) -> bool:
        return needs_approval(proposal)

    def get_amount_in_words(self, proposal: Proposal) -> str:
        return amount_in_words(proposal.total, proposal.currency, proposal.language)


class LineChangeSerializer(serializers.Serializer):
    line = LineItemSerializer(read_only=True, allow_null=True, help_text="Null once removed.")
    proposal = ProposalTotalsSerializer(read_only=True)


class PdfSerializer(serializers.Serializer):
    status = enum_field(PdfStatus, read_only=True)
    url = serializers.CharField(read_only=True, allow_null=True, help_text="The download, once `ready`.")
    error = serializers.CharField(read_only=True, help_text="Why the last render failed; empty otherwise.")


class RateCardItemSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)
    unit = enum_field(Unit, read_only=True)
    currency = enum_field(Currency, read_only=True)

    class Meta:
        model = RateCardItem
        fields = ["id", "department", "department_name", "service", "unit", "currency", "price"]
        read_only_fields = fields


# --- Writing ----------------------------------------------------------------------------------------------


def visible_clients(user: User):
    return Client.objects.visible_to(user)


def visible_contracts(user: User):
    return Contract.objects.visible_to(user)


def visible_requests(user: User):
    return Request.objects.visible_to(user)


def visible_contacts(user: User):
    return Contact.objects.visible_to(user)


def visible_proposals(user: User):
    return Proposal.objects.visible_to(user)


class LineInputSerializer(serializers.Serializer):
    """One line's fields; the unit price is checked against the proposal's currency (``context["currency"]``)."""

    description = serializers.CharField(max_length=300)
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True), required=False, allow_null=True
    )
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), max_value=Decimal("1000000"), required=False
    )
    unit = enum_field(Unit, required=False)
    unit_price = serializers.DecimalField(max_digits=PRICE_DIGITS, decimal_places=2, min_value=Decimal("0"))
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), required=False
    )

    def validate(self, attrs: dict) -> dict:
        currency = self.context.get("currency")
        if currency:
            check_minor_unit(attrs.get("unit_price"), currency, "unit_price")
        return attrs


class LineTargetSerializer(serializers.Serializer):
    """The proposal a new line goes to, read first: may the user change it at all?"""

    proposal = ScopedIdField(scope=visible_proposals, help_text="A proposal you may see.")


class LineCreateSerializer(LineInputSerializer):
    proposal = ScopedIdField(scope=visible_proposals, help_text="A proposal you may see.")
    revision = revision_field()

    def validate(self, attrs: dict) -> dict:
        check_minor_unit(attrs.get("unit_price"), attrs["proposal"].currency, "unit_price")
        return attrs


class LineUpdateSerializer(LineInputSerializer):
    revision = revision_field()


class LineRemoveSerializer(serializers.Serializer):
    revision = revision_field()


class HeaderSerializer(serializers.Serializer):
    """The header fields a person sets (``proposals.services.HEADER_FIELDS``)."""

    title = serializers.CharField(max_length=200)
    contract = ScopedIdField(scope=visible_contracts, required=False, allow_null=True)
    brief = ScopedIdField(scope=visible_requests, required=False, allow_null=True)
    recipient = ScopedIdField(scope=visible_contacts, required=False, allow_null=True)
    language = enum_field(ProposalLanguage, required=False)
    currency = enum_field(Currency, required=False, help_text="Default: the client's billing currency.")
    vat_rate = int_enum_field(VatRate, required=False)
    valid_until = date_field(required=False, help_text="Default: 30 days from today. The client's link expires then.")
    objectives = serializers.CharField(required=False, allow_blank=True)
    scope = serializers.CharField(required=False, allow_blank=True)
    terms = serializers.CharField(required=False, allow_blank=True)


class ProposalCreateSerializer(HeaderSerializer):
    client = ScopedIdField(scope=visible_clients, help_text="A client you may see.")
    lines = LineInputSerializer(many=True, required=False, help_text="In order.")

    def validate(self, attrs: dict) -> dict:
        currency = attrs.get("currency") or attrs["client"].billing_currency
        errors = {}
        for index, line in enumerate(attrs.get("lines", [])):
            try:
                check_minor_unit(line.get("unit_price"), currency, "unit_price")
            except serializers.ValidationError as error:
                errors[f"lines.{index}.unit_price"] = error.detail["unit_price"]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ProposalUpdateSerializer(HeaderSerializer):
    revision = revision_field()


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReturnSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="What the owner should change (required).")


class SendSerializer(serializers.Serializer):
    recipient = ScopedIdField(
        scope=visible_contacts,
        required=False,
        allow_null=True,
        help_text="A contact of the proposal's client with an e-mail; default: the proposal's recipient.",
    )

    def validate_recipient(self, contact: Contact | None) -> Contact | None:
        if contact is not None and not contact.email:
            raise serializers.ValidationError(_("This contact has no e-mail address."))
        return contact
