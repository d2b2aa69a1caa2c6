"""What the contracts API reads and writes. Output serializers are read-only; every write has its own input
serializer holding only what the service accepts (stage, probability, number and owner are never mass-assigned)."""

from django.db import models
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api import TeamSummarySerializer
from accounts.models import Role, User
from clients.api.common import ScopedPrimaryKeyField, UserSummarySerializer, enum_field
from clients.models import Client, Department, Partner
from contracts import selectors
from contracts.models import (
    BillingSchedule,
    Contract,
    ContractKind,
    CostEntry,
    NegotiationRound,
    Phase,
    ProposedBy,
    Stage,
    StageChange,
)
from contracts.services import TERMS_FIELDS
from core.money import Currency

CONTRACT_OWNER_ROLES = [Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR]


class BudgetWarning(models.TextChoices):
    NEAR = "near", "Costs passed 80 % of the budget"
    OVER = "over", "Costs reached 100 % of the budget"


def money(**kwargs) -> serializers.DecimalField:
    """A computed amount (a sum, a margin): two decimal places, as wide as it needs to be."""
    return serializers.DecimalField(max_digits=None, decimal_places=2, read_only=True, **kwargs)


def version_field(record: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=f"The `version` you read: if someone changed the {record} since, the answer is 409 and nothing "
        "is written.",
    )


# --- Contracts --------------------------------------------------------------------------------------------


class BudgetSummarySerializer(serializers.Serializer):
    budget = money(help_text="The planned budget.")
    spent = money(help_text="Σ of the cost entries.")
    remaining = money()
    used_percent = serializers.IntegerField(read_only=True, allow_null=True, help_text="Null without a budget.")
    margin = money(help_text="Value − costs.")
    roi_percent = serializers.DecimalField(
        max_digits=None, decimal_places=1, read_only=True, allow_null=True, help_text="Margin ÷ costs; null at 0."
    )
    warning = enum_field(BudgetWarning, read_only=True, allow_null=True)


class StageChangeSerializer(serializers.ModelSerializer):
    source = enum_field(Stage, read_only=True)
    target = enum_field(Stage, read_only=True)
    actor = UserSummarySerializer(read_only=True)

    class Meta:
        model = StageChange
        fields = ["id", "source", "target", "actor", "note", "changed_at"]
        read_only_fields = fields


class ContractSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(read_only=True)
    client_name = serializers.CharField(source="client.name", read_only=True)
    owner = UserSummarySerializer(read_only=True)
    team = TeamSummarySerializer(source="owner.team", read_only=True, allow_null=True)
    kind = enum_field(ContractKind, read_only=True)
    stage = enum_field(Stage, read_only=True, help_text="Moves only through `POST /contracts/{id}/transition`.")
    is_idle = serializers.SerializerMethodField(help_text="In a pipeline stage for longer than the stage allows.")
    currency = enum_field(Currency, read_only=True)
    weighted_value = money(help_text="Value × probability.")
    billing_schedule = enum_field(BillingSchedule, read_only=True)
    renewal_of = serializers.SerializerMethodField(help_text="The contract this one renews, if you may see it.")
    successor = serializers.SerializerMethodField(help_text="The contract renewing this one, if you may see it.")

    # Only ids the user may open (annotated by selectors.contract_list): a link must not reveal a hidden contract.
    def get_renewal_of(self, contract) -> int | None:
        return contract.renewal_of_id if getattr(contract, "renewal_of_visible", False) else None

    def get_successor(self, contract) -> int | None:
        return getattr(contract, "visible_successor_id", None)

    class Meta:
        model = Contract
        fields = [
            "id",
            "number",
            "title",
            "client",
            "client_name",
            "owner",
            "team",
            "kind",
            "stage",
            "stage_changed_at",
            "is_idle",
            "probability",
            "value",
            "currency",
            "weighted_value",
            "budget",
            "billing_schedule",
            "payment_terms_days",
            "expected_close",
            "signed_at",
            "start_date",
            "end_date",
            "auto_renew",
            "notice_days",
            "notice_deadline",
            "renewal_of",
            "successor",
            "lost_reason",
            "scope",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_is_idle(self, contract: Contract) -> bool:
        return selectors.is_idle(contract)


class ContractDetailSerializer(ContractSerializer):
    budget_summary = serializers.SerializerMethodField()
    stage_changes = StageChangeSerializer(many=True, read_only=True, help_text="Newest first.")

    class Meta(ContractSerializer.Meta):
        fields = [*ContractSerializer.Meta.fields, "budget_summary", "stage_changes"]
        read_only_fields = fields

    @extend_schema_field(BudgetSummarySerializer)
    def get_budget_summary(self, contract: Contract) -> dict:
        return BudgetSummarySerializer(selectors.budget_summary(contract)).data


class ContractTermsSerializer(serializers.ModelSerializer):
    """The terms a person sets; everything else follows from the stage rules."""

    kind = enum_field(ContractKind, required=False)
    currency = enum_field(Currency, required=False)
    billing_schedule = enum_field(BillingSchedule, required=False)

    class Meta:
        model = Contract
        fields = list(TERMS_FIELDS)


def visible_clients(user: User):
    return Client.objects.visible_to(user)


class ContractCreateSerializer(ContractTermsSerializer):
    client = ScopedPrimaryKeyField(scope=visible_clients)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True, role__in=CONTRACT_OWNER_ROLES),
        required=False,
        help_text="Directors only: who the deal belongs to. Default: you.",
    )

    class Meta(ContractTermsSerializer.Meta):
        fields = ["client", "owner", *TERMS_FIELDS]


class ContractUpdateSerializer(ContractTermsSerializer):
    version = version_field("contract")

    class Meta(ContractTermsSerializer.Meta):
        fields = [*TERMS_FIELDS, "version"]


class TransitionSerializer(serializers.Serializer):
    to = enum_field(Stage, help_text="The stage to move to.")
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Kept in the stage history; required to terminate."
    )
    lost_reason = serializers.CharField(required=False, allow_blank=True, default="", help_text="Required for `lost`.")
    signed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    start_date = serializers.DateField(required=False, allow_null=True, default=None)
    end_date = serializers.DateField(required=False, allow_null=True, default=None)
    version = version_field("contract")

    def validate(self, attrs: dict) -> dict:
        """The dates sent, with the contract's own for those not sent, do not end before they start (the stage
        rules check this only on signature; on any other move the database would refuse it)."""
        contract = self.context["contract"]
        start = attrs.get("start_date") or contract.start_date
        end = attrs.get("end_date") or contract.end_date
        if start and end and end < start and (attrs.get("start_date") or attrs.get("end_date")):
            raise serializers.ValidationError({"end_date": [_("Before the start.")]})
        return attrs


# --- Pipeline ---------------------------------------------------------------------------------------------


class CurrencyTotalSerializer(serializers.Serializer):
    currency = enum_field(Currency, read_only=True)
    total = money(help_text="Σ value.")
    weighted = money(help_text="Σ value × probability.")


class PipelineColumnSerializer(serializers.Serializer):
    stage = enum_field(Stage, read_only=True)
    label = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True)
    totals = CurrencyTotalSerializer(many=True, read_only=True, help_text="One row per currency present.")


class PipelineSummarySerializer(serializers.Serializer):
    columns = PipelineColumnSerializer(
        many=True, read_only=True, help_text="Draft, negotiation and awaiting signature, in that order."
    )


# --- Rounds, phases, costs --------------------------------------------------------------------------------


class NegotiationRoundSerializer(serializers.ModelSerializer):
    proposed_by = enum_field(ProposedBy, read_only=True)
    recorded_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = NegotiationRound
        fields = [
            "id",
            "contract",
            "number",
            "proposed_by",
            "value",
            "discount_percent",
            "payment_terms_days",
            "scope_summary",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields


class RoundRecordSerializer(serializers.ModelSerializer):
    proposed_by = enum_field(ProposedBy)

    class Meta:
        model = NegotiationRound
        fields = ["proposed_by", "value", "discount_percent", "payment_terms_days", "scope_summary"]
        extra_kwargs = {
            "value": {"required": True, "help_text": "The offered value; the contract's value follows it."},
            "payment_terms_days": {"help_text": "The contract's payment terms follow it."},
        }


PHASE_INPUT_FIELDS = [
    "name",
    "order",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "budget",
    "planned_results",
    "achieved_results",
    "report",
]


class PhaseSerializer(serializers.ModelSerializer):
    spent = money(help_text="Σ of the costs recorded against the phase.")

    class Meta:
        model = Phase
        fields = ["id", "contract", *PHASE_INPUT_FIELDS, "spent", "report_sent_at", "created_at", "updated_at"]
        read_only_fields = fields


class PhaseInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Phase
        fields = PHASE_INPUT_FIELDS

    def validate(self, attrs: dict) -> dict:
        """The end of a span does not come before its start (the dates already saved count on a change)."""
        errors = {}
        for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
            first = attrs.get(start, getattr(self.instance, start, None))
            last = attrs.get(end, getattr(self.instance, end, None))
            if first and last and last < first:
                errors[end] = [_("Before the start.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CostEntrySerializer(serializers.ModelSerializer):
    phase_name = serializers.CharField(source="phase.name", read_only=True, allow_null=True)
    department_name = serializers.CharField(source="department.name", read_only=True, allow_null=True)
    partner_name = serializers.CharField(source="partner.name", read_only=True, allow_null=True)
    recorded_by = UserSummarySerializer(read_only=True)

    class Meta:
        model = CostEntry
        fields = [
            "id",
            "contract",
            "phase",
            "phase_name",
            "department",
            "department_name",
            "partner",
            "partner_name",
            "description",
            "amount",
            "incurred_on",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields


class ContractPhaseField(serializers.PrimaryKeyRelatedField):
    """A phase of the contract in the URL; any other id does not exist."""

    def get_queryset(self):
        return Phase.objects.filter(contract=self.context["contract"])


def visible_partners(user: User):
    return Partner.objects.visible_to(user)


class CostRecordSerializer(serializers.ModelSerializer):
    phase = ContractPhaseField(required=False, allow_null=True, help_text="A phase of this contract.")
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="An active department; a department or a partner (or both) is required.",
    )
    partner = ScopedPrimaryKeyField(scope=visible_partners, required=False, allow_null=True)

    class Meta:
        model = CostEntry
        fields = ["phase", "department", "partner", "description", "amount", "incurred_on"]
