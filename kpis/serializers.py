"""Serializers of the KPI API: targets (read, set, change) and one metric's figure against its target."""

import re
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Team, User
from clients.api.common import UserSummarySerializer, enum_field

from .models import KpiTarget, Metric, ScopeKind
from .periods import Period, PeriodKind

PERIOD_HELP = "A month (`2026-11`), a quarter (`2026-Q4`) or a year (`2026`)."
# The keys the API takes, exactly (the pages' forms are more forgiving: `2026-q4`, `2026-1`): the schema says so.
PERIOD_PATTERN = r"^(20[0-9]{2}|2100)(-(0[1-9]|1[0-2]|Q[1-4]))?$"


def period_from_key(text) -> Period:
    """The period a key names; a ValidationError (a 400) for anything PERIOD_PATTERN does not match."""
    if not isinstance(text, str) or not re.fullmatch(PERIOD_PATTERN, text):
        raise serializers.ValidationError(_("Enter a month (2026-11), a quarter (2026-Q4) or a year (2026)."))
    return Period.parse(text)


class TargetCurrency(models.TextChoices):
    NONE = "", "None (a count, rate or number of days)"
    VND = "VND", "Vietnamese đồng"
    USD = "USD", "US dollar"


class MetricUnit(models.TextChoices):
    MONEY = "money", "Money, per currency"
    COUNT = "count", "A count"
    PERCENT = "percent", "A percentage"
    DAYS = "days", "Days"
    RATIO = "ratio", "A ratio (1.0 = covered)"


@extend_schema_field({"type": "string", "pattern": PERIOD_PATTERN, "example": "2026-Q4"})
class PeriodKeyField(serializers.CharField):
    """A period key in, a ``Period`` out; a malformed key is a 400 naming the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", PERIOD_HELP)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Period:
        return period_from_key(data)

    def to_representation(self, value) -> str:
        return value.key if isinstance(value, Period) else str(value)


class KpiTargetSerializer(serializers.ModelSerializer):
    metric = enum_field(Metric, read_only=True)
    scope = enum_field(ScopeKind, read_only=True)
    user = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The account manager (scope `user`; null otherwise)."
    )
    user_name = serializers.CharField(source="user.full_name", read_only=True, allow_null=True, default=None)
    team = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The team (scope `team`; null otherwise)."
    )
    team_name = serializers.CharField(source="team.name", read_only=True, allow_null=True, default=None)
    period_kind = enum_field(PeriodKind, read_only=True)
    period = serializers.SerializerMethodField(help_text=PERIOD_HELP)
    period_end = serializers.SerializerMethodField(help_text="The period's last day.")
    currency = enum_field(TargetCurrency, read_only=True, help_text="For money targets; '' otherwise.")
    set_by = UserSummarySerializer(read_only=True, allow_null=True)
    version = serializers.IntegerField(read_only=True, help_text="Send it back when you change the target.")

    class Meta:
        model = KpiTarget
        fields = [
            "id",
            "metric",
            "scope",
            "user",
            "user_name",
            "team",
            "team_name",
            "period_kind",
            "period",
            "period_start",
            "period_end",
            "value",
            "currency",
            "set_by",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_period(self, target: KpiTarget) -> str:
        return target.period.key

    @extend_schema_field(OpenApiTypes.DATE)
    def get_period_end(self, target: KpiTarget):
        return target.period.end


class KpiTargetSetSerializer(serializers.Serializer):
    """What a director sends to set a target (setting it again changes its value)."""

    metric = enum_field(Metric)
    scope = enum_field(ScopeKind)
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="The account manager (an active user), for scope `user`.",
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, help_text="The team, for scope `team`."
    )
    period = PeriodKeyField()
    value = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0"))
    currency = enum_field(TargetCurrency, required=False, default="", help_text="Required for money metrics only.")
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you read: if the target changed since, the answer is 409."
    )


class KpiTargetChangeSerializer(serializers.Serializer):
    """A target's value is what changes; its metric, scope, period and currency make it what it is."""

    value = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0"))
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you read: if the target changed since, the answer is 409."
    )


# --- One metric's figure --------------------------------------------------------------------------------


class MetricQuerySerializer(serializers.Serializer):
    metric = enum_field(Metric, help_text="Which metric.")
    scope = enum_field(ScopeKind, required=False, default=ScopeKind.AGENCY, help_text="Whose figures.")
    id = serializers.IntegerField(required=False, min_value=1, help_text="The user's or team's id (not for `agency`).")
    period = PeriodKeyField(required=False, help_text=f"{PERIOD_HELP} This month by default.")

    def validate(self, data: dict) -> dict:
        if data["scope"] != ScopeKind.AGENCY and "id" not in data:
            raise serializers.ValidationError({"id": [_("Name the user or team with its id.")]})
        return data


PER_CURRENCY = {
    "type": "object",
    "additionalProperties": {"type": "string", "format": "decimal", "nullable": True},
}
ONE_VALUE = {"type": "string", "format": "decimal"}


@extend_schema_field({"oneOf": [PER_CURRENCY, ONE_VALUE], "nullable": True})
class FigureField(serializers.Field):
    """``{"VND": "..."}`` for figures kept per currency, a single decimal string otherwise, or null."""

    def to_representation(self, value):
        if isinstance(value, dict):
            return {currency: None if amount is None else str(amount) for currency, amount in value.items()}
        return None if value is None else str(value)


class ScopeSerializer(serializers.Serializer):
    kind = enum_field(ScopeKind, read_only=True)
    id = serializers.IntegerField(read_only=True, allow_null=True, help_text="The user's or team's id.")
    label = serializers.CharField(read_only=True)


class PeriodSerializer(serializers.Serializer):
    kind = enum_field(PeriodKind, read_only=True)
    key = serializers.CharField(read_only=True, help_text=PERIOD_HELP)
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True, help_text="The last day (inclusive).")


class MetricFigureSerializer(serializers.Serializer):
    metric = enum_field(Metric, read_only=True)
    unit = enum_field(MetricUnit, read_only=True)
    higher_is_better = serializers.BooleanField(read_only=True)
    per_currency = serializers.BooleanField(
        read_only=True, help_text="Money, DSO, coverage and retention come per currency, never added together."
    )
    scope = ScopeSerializer(read_only=True)
    period = PeriodSerializer(read_only=True)
    actual = FigureField(read_only=True, help_text="Per currency, or one value; null when undefined.")
    target = FigureField(
        read_only=True, help_text="Per currency for money metrics, one value otherwise; null without a target."
    )
    attainment = FigureField(
        read_only=True,
        help_text="% of the target reached (target ÷ actual where lower is better), per currency or one value; "
        "null without a target.",
    )
