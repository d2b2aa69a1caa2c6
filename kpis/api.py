"""/api/v1/kpi-targets (directors write, everyone reads the targets ``KpiTarget.objects.visible_to`` allows) and
/api/v1/kpis/metrics (one metric's actual, target and attainment for a scope and a period).

Figures are read as the targets page reads them (``kpis.scorecard``): an account manager or a salesperson reads
their own figures and their team's totals, and another person or team is a 404; finance and directors read all.
"""

from decimal import ROUND_HALF_UP, Decimal

import django_filters
from django.db.models import QuerySet
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import is_director
from clients.api.common import CONFLICT_RESPONSES, ordering_help
from core.api import ERROR_RESPONSES
from core.errors import PermissionDeniedError
from core.replica import reads_from_replica

from . import services
from .metrics import METRICS, Scope, compute
from .models import KpiTarget, Metric, ScopeKind
from .periods import Period, PeriodKind, current_period
from .scorecard import figure_cells, per_currency, readable_scope, sees_all_scopes, targets_of
from .serializers import (
    PERIOD_HELP,
    PERIOD_PATTERN,
    KpiTargetChangeSerializer,
    KpiTargetSerializer,
    KpiTargetSetSerializer,
    MetricFigureSerializer,
    MetricQuerySerializer,
    period_from_key,
)

TARGET_ORDERING = ["period_start", "metric", "value", "updated_at"]
TARGET_VISIBILITY = "Finance, directors and admins read every target; others the agency's, their team's and their own."
DIRECTORS_ONLY = "Directors and admins only."


def target_list(*, user: User) -> QuerySet[KpiTarget]:
    return KpiTarget.objects.visible_to(user).select_related("user", "team", "set_by")


@extend_schema_field({"anyOf": [{"type": "string", "pattern": PERIOD_PATTERN}, {"type": "string", "maxLength": 0}]})
class PeriodFilter(django_filters.CharFilter):
    """The targets of a period (``2026-11``, ``2026-Q4``, ``2026``; empty: every period); any other value is a 400
    naming it."""

    def filter(self, queryset, value):
        if value in (None, ""):
            return queryset
        try:
            return queryset.for_period(period_from_key(value))
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({"period": error.detail}) from None


class KpiTargetFilter(django_filters.FilterSet):
    metric = django_filters.ChoiceFilter(choices=Metric.choices)
    scope = django_filters.ChoiceFilter(choices=ScopeKind.choices)
    user = django_filters.NumberFilter(field_name="user_id", label="The account manager's id")
    team = django_filters.NumberFilter(field_name="team_id", label="The team's id")
    period_kind = django_filters.ChoiceFilter(choices=PeriodKind.choices)
    period = PeriodFilter(label=PERIOD_HELP, strip=False)  # " 2026" is not a key either

    class Meta:
        model = KpiTarget
        fields = ["metric", "scope", "user", "team", "period_kind", "period"]


def ensure_director(user: User) -> None:
    """403 before any input is read (the services check again inside their transaction)."""
    if not is_director(user):
        raise PermissionDeniedError(_("Only directors set KPI targets."))


@extend_schema_view(
    list=extend_schema(
        summary="KPI targets",
        description=f"{TARGET_VISIBILITY} Newest period first." + ordering_help(TARGET_ORDERING),
        responses={200: KpiTargetSerializer, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(summary="One KPI target", responses={200: KpiTargetSerializer, **ERROR_RESPONSES}),
)
class KpiTargetViewSet(viewsets.ModelViewSet):
    serializer_class = KpiTargetSerializer
    filterset_class = KpiTargetFilter
    ordering_fields = TARGET_ORDERING

    def get_queryset(self) -> QuerySet[KpiTarget]:
        return target_list(user=self.request.user)

    def _answer(self, target: KpiTarget, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=target.pk)
        return Response(KpiTargetSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Set a KPI target",
        description=(
            "A target of one metric for an account manager (`scope: user` with `user`), a team (`team`) or the "
            "agency, for a period. Money metrics need a `currency` (one target per currency); others must have "
            "none. Setting a target that exists changes its value (send `version` to be protected from lost "
            "updates). Rates (win, renewal, gross retention) stop at 100; counts are whole. " + DIRECTORS_ONLY
        ),
        request=KpiTargetSetSerializer,
        responses={201: KpiTargetSerializer, **CONFLICT_RESPONSES},
    )
    def create(self, request):
        ensure_director(request.user)
        data = KpiTargetSetSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        target = services.target_set(actor=request.user, expected_version=fields.pop("version", None), **fields)
        return self._answer(target, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a KPI target's value",
        description="Its metric, scope, period and currency stay. " + DIRECTORS_ONLY,
        request=KpiTargetChangeSerializer,
        responses={200: KpiTargetSerializer, **CONFLICT_RESPONSES},
    )
    def update(self, request, pk=None, partial=False):
        target = self.get_object()
        ensure_director(request.user)
        data = KpiTargetChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = services.target_set(
            actor=request.user,
            metric=target.metric,
            scope=target.scope,
            user=target.user,
            team=target.team,
            period=target.period,
            currency=target.currency,
            value=data.validated_data["value"],
            expected_version=data.validated_data.get("version"),
        )
        return self._answer(target)

    @extend_schema(
        summary="Change a KPI target's value",
        description="Its metric, scope, period and currency stay. " + DIRECTORS_ONLY,
        request=KpiTargetChangeSerializer,
        responses={200: KpiTargetSerializer, **CONFLICT_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    @extend_schema(
        summary="Remove a KPI target",
        description="Send `?version=` to be sure nobody changed it since you read it. " + DIRECTORS_ONLY,
        parameters=[OpenApiParameter("version", int, required=False, description="The version you read.")],
        responses={204: OpenApiResponse(description="Removed."), **CONFLICT_RESPONSES},
    )
    def destroy(self, request, pk=None):
        target = self.get_object()
        ensure_director(request.user)
        version = request.query_params.get("version", "")
        if version and not version.isdigit():
            raise exceptions.ValidationError({"version": [_("A whole number.")]})
        services.target_delete(actor=request.user, target=target, expected_version=int(version) if version else None)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- /kpis/metrics ------------------------------------------------------------------------------------------


def _scope_for(user: User, kind: str, pk: int | None) -> Scope:
    if kind == ScopeKind.AGENCY and not sees_all_scopes(user):
        raise PermissionDeniedError(_("Only finance and directors read the agency's figures."))
    scope = readable_scope(user, kind, pk)
    if scope is None:
        raise exceptions.NotFound()
    return scope


def _decimal(value: Decimal | None, unit: str) -> Decimal | None:
    if value is None or unit != "money":
        return value
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def metric_report(metric: str, scope: Scope, period: Period) -> dict:
    """The metric's actual for ``scope`` and ``period`` against its target, shaped for the API."""
    definition = METRICS[metric]
    unit = definition.unit
    figure = compute(metric, scope, period)
    targets = {target.currency: target.value for target in targets_of(scope, period).filter(metric=metric)}
    cells = figure_cells(metric, figure, targets)
    if not per_currency(metric):
        actual, target, attainment = cells[0].actual, cells[0].target, cells[0].attainment
    else:
        actual = {cell.currency: _decimal(cell.actual, unit) for cell in cells if cell.currency}
        attainment = {cell.currency: cell.attainment for cell in cells if cell.currency} if targets else None
        if unit == "money":
            target = {currency: _decimal(value, unit) for currency, value in targets.items()} or None
        else:
            target = targets.get("")
    return {
        "metric": metric,
        "unit": unit,
        "higher_is_better": definition.higher_is_better,
        "per_currency": per_currency(metric),
        "scope": {
            "kind": scope.kind,
            "id": scope.user.pk if scope.user else (scope.team.pk if scope.team else None),
            "label": scope.label,
        },
        "period": {"kind": period.kind, "key": period.key, "start": period.start, "end": period.end},
        "actual": actual,
        "target": target,
        "attainment": attainment,
    }


class MetricView(APIView):
    @extend_schema(
        summary="One KPI: actual, target and attainment",
        description=(
            "The metric for the agency, a team (`scope=team&id=`) or a user (`scope=user&id=`) over a month, a "
            "quarter or a year, computed live. Money (and DSO, coverage, retention) comes per currency and is "
            "never added across currencies. Account managers and sales read their own figures and their team's "
            "totals (any other user or team is a 404, the agency a 403); finance and directors read everything."
        ),
        parameters=[MetricQuerySerializer],
        responses={200: MetricFigureSerializer, **ERROR_RESPONSES},
    )
    @method_decorator(reads_from_replica)
    def get(self, request):
        params = MetricQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        scope = _scope_for(request.user, data["scope"], data.get("id"))
        period = data.get("period") or current_period()
        return Response(MetricFigureSerializer(metric_report(data["metric"], scope, period)).data)
