"""A contract's negotiation rounds, delivery phases and costs: nested under /api/v1/contracts/{id}, and
/api/v1/phases/{id} to change a phase. Every one is scoped by its contract: invisible is 404, read-only is 403."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from clients.api.common import WRITE_RESPONSES
from contracts import selectors, services
from contracts.api.common import costs_of, ensure_contract_editable, phases_with_spending, rounds_of
from contracts.api.serializers import (
    CostEntrySerializer,
    CostRecordSerializer,
    NegotiationRoundSerializer,
    PhaseInputSerializer,
    PhaseSerializer,
    RoundRecordSerializer,
)
from contracts.models import Phase
from core.api import ERROR_RESPONSES

EDIT_RULE = "You must be able to change the contract: its owner, the client's owner or a director."


class ContractPartsActions:
    """The `rounds`, `phases` and `costs` actions of the contract viewset: GET lists a page, POST adds one."""

    def _page(self, rows: QuerySet, serializer_class: type[serializers.Serializer]) -> Response:
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="A contract's negotiation rounds",
        description="Offers and counter-offers, first round first.",
        responses={200: NegotiationRoundSerializer(many=True), **ERROR_RESPONSES},
    )
    @extend_schema(
        methods=["POST"],
        summary="Record a negotiation round",
        description=(
            "Before signature only. The round is numbered after the last one; the contract's value and payment "
            "terms follow it (and its `version` goes up). " + EDIT_RULE
        ),
        request=RoundRecordSerializer,
        responses={201: NegotiationRoundSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], serializer_class=NegotiationRoundSerializer)
    def rounds(self, request, pk=None):
        contract = self.get_object()
        if request.method == "GET":
            return self._page(rounds_of(contract), NegotiationRoundSerializer)
        ensure_contract_editable(user=request.user, contract=contract)
        data = RoundRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = services.round_record(contract=contract, actor=request.user, **data.validated_data)
        return Response(NegotiationRoundSerializer(rounds_of(contract).get(pk=record.pk)).data, status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="A contract's delivery phases",
        description="In delivery order, each with what its costs add up to.",
        responses={200: PhaseSerializer(many=True), **ERROR_RESPONSES},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a delivery phase",
        description=EDIT_RULE,
        request=PhaseInputSerializer,
        responses={201: PhaseSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], serializer_class=PhaseSerializer)
    def phases(self, request, pk=None):
        contract = self.get_object()
        if request.method == "GET":
            return self._page(phases_with_spending().filter(contract=contract), PhaseSerializer)
        ensure_contract_editable(user=request.user, contract=contract)
        data = PhaseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        phase = services.phase_save(contract=contract, actor=request.user, **data.validated_data)
        return Response(PhaseSerializer(phases_with_spending().get(pk=phase.pk)).data, status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="A contract's costs",
        description="Newest first, with the phase, department or partner they were for.",
        responses={200: CostEntrySerializer(many=True), **ERROR_RESPONSES},
    )
    @extend_schema(
        methods=["POST"],
        summary="Record a cost",
        description=(
            "For a department or a partner, optionally in one of the contract's phases. The owner is notified "
            "once when costs pass 80 % of the budget and once when they pass 100 %. " + EDIT_RULE
        ),
        request=CostRecordSerializer,
        responses={201: CostEntrySerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], serializer_class=CostEntrySerializer)
    def costs(self, request, pk=None):
        contract = self.get_object()
        if request.method == "GET":
            return self._page(costs_of(contract), CostEntrySerializer)
        ensure_contract_editable(user=request.user, contract=contract)
        data = CostRecordSerializer(data=request.data, context={**self.get_serializer_context(), "contract": contract})
        data.is_valid(raise_exception=True)
        cost = services.cost_record(contract=contract, actor=request.user, **data.validated_data)
        return Response(CostEntrySerializer(costs_of(contract).get(pk=cost.pk)).data, status.HTTP_201_CREATED)


@extend_schema_view(
    retrieve=extend_schema(
        summary="One delivery phase",
        description="Phases of the contracts you may see.",
        responses={200: PhaseSerializer, **ERROR_RESPONSES},
    ),
)
class PhaseViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Phases are listed and added under their contract; here one is read or changed."""

    serializer_class = PhaseSerializer
    filter_backends = []
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Phase]:
        contracts = visible_contract_ids(self.request.user)
        return phases_with_spending().filter(contract__in=contracts).select_related("contract")

    @extend_schema(
        summary="Change a delivery phase",
        description="Dates, budget, planned and achieved results, report. " + EDIT_RULE,
        request=PhaseInputSerializer,
        responses={200: PhaseSerializer, **WRITE_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        phase = self.get_object()
        ensure_contract_editable(user=request.user, contract=phase.contract)
        data = PhaseInputSerializer(phase, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.phase_save(contract=phase.contract, actor=request.user, phase=phase, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=phase.pk)).data)


def visible_contract_ids(user: User) -> QuerySet:
    return selectors.contract_list(user=user).values("pk")
