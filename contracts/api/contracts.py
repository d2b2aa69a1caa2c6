"""/api/v1/contracts: the list and card, create, terms edits with optimistic locking, stage transitions, renewal,
and the pipeline summary. Scoped as the pages are: what you may not see is a 404, what you may not change a 403."""

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from clients.api.common import CONFLICT_RESPONSES, WRITE_RESPONSES, ordering_help
from contracts import selectors, services
from contracts.api.common import ensure_contract_editable
from contracts.api.delivery import ContractPartsActions
from contracts.api.serializers import (
    ContractCreateSerializer,
    ContractDetailSerializer,
    ContractSerializer,
    ContractUpdateSerializer,
    PipelineSummarySerializer,
    TransitionSerializer,
)
from contracts.filters import ContractFilter
from contracts.models import Contract
from core.api import ERROR_RESPONSES, StandardPagination
from core.history_api import history_answer, history_schema

CONTRACT_ORDERING = ["number", "value", "expected_close", "created_at"]
VISIBILITY = (
    "Directors and finance see every contract; sales the whole pipeline before signature and its own deals; "
    "account managers the contracts of the clients they may open and their own."
)


class ContractPagination(StandardPagination):
    """The contracts' pages, the count from the cache until a contract changes (``selectors.ContractPaginator``)."""

    django_paginator_class = selectors.ContractPaginator


@extend_schema_view(
    list=extend_schema(
        summary="Contracts",
        description=f"{VISIBILITY} Newest first by default." + ordering_help(CONTRACT_ORDERING),
        responses={200: ContractSerializer, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One contract",
        description="Terms, stage and its history, weighted value, notice deadline, renewal links and the budget.",
        responses={200: ContractDetailSerializer, **ERROR_RESPONSES},
    ),
)
class ContractViewSet(ContractPartsActions, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ContractSerializer
    pagination_class = ContractPagination
    filterset_class = ContractFilter
    ordering_fields = CONTRACT_ORDERING
    http_method_names = ["get", "post", "patch", "head", "options"]  # contracts end by a stage, never a delete

    def get_queryset(self) -> QuerySet[Contract]:
        user = self.request.user
        if self.action == "retrieve":
            return selectors.contract_detail(user=user).select_related("successor")
        return selectors.contract_list(user=user).select_related("successor")

    def get_serializer_class(self):
        return ContractDetailSerializer if self.action == "retrieve" else super().get_serializer_class()

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is None or self.action != "list":  # the actions' pages (rounds, phases, ...) hold other records
            return page
        return selectors.attach_renewal_links(list(page), user=self.request.user)

    def get_object(self) -> Contract:
        contract = super().get_object()
        if self.action == "retrieve":  # the write actions answer through _answer, which attaches them
            selectors.attach_renewal_links([contract], user=self.request.user)
        return contract

    def _answer(self, contract: Contract, code: int = status.HTTP_200_OK) -> Response:
        """The contract as it now is, in full. Whoever just changed it gets the answer even if the change took it
        out of their sight (a deal leaving the shared pipeline)."""
        fresh = selectors.contract_detail(user=self.request.user).select_related("successor").filter(pk=contract.pk)
        current = fresh.first() or contract
        selectors.attach_renewal_links([current], user=self.request.user)
        return Response(ContractDetailSerializer(current, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        summary="Create a deal",
        description=(
            "A new contract in `draft` on a client you can see, owned by you (a director may name another "
            "`owner`). Number, stage and probability are set by the system. For account managers, sales and "
            "directors."
        ),
        request=ContractCreateSerializer,
        responses={201: ContractDetailSerializer, **WRITE_RESPONSES},
    )
    def create(self, request):
        data = ContractCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        terms = dict(data.validated_data)
        client, owner = terms.pop("client"), terms.pop("owner", None)
        contract = services.contract_create(client=client, actor=request.user, owner=owner, **terms)
        return self._answer(contract, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a contract's terms",
        description=(
            "Only the terms: stage, probability, number and owner cannot be set here. Send `version` to be "
            "protected from lost updates. An ended contract cannot be changed."
        ),
        request=ContractUpdateSerializer,
        responses={200: ContractDetailSerializer, **CONFLICT_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        contract = self.get_object()
        ensure_contract_editable(user=request.user, contract=contract)
        data = ContractUpdateSerializer(contract, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        terms = dict(data.validated_data)
        version = terms.pop("version", None)
        contract = services.contract_update(contract=contract, actor=request.user, expected_version=version, **terms)
        return self._answer(contract)

    @extend_schema(
        summary="Move a contract to another stage",
        description=(
            "draft → negotiation → awaiting_signature → active → expired | terminated; any stage before active may "
            "go to `lost` (with a `lost_reason`), and back one step before signature. `active` needs `signed_at`, "
            "`start_date` and `end_date` (sent here or already set); `terminated` needs a director and a `note`. "
            "A move the rules forbid is a 400 with code `invalid_transition` and per-field messages, and changes "
            "nothing; a stale `version` is a 409."
        ),
        request=TransitionSerializer,
        responses={200: ContractDetailSerializer, **CONFLICT_RESPONSES},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def transition(self, request, pk=None):
        contract = self.get_object()
        ensure_contract_editable(user=request.user, contract=contract)
        data = TransitionSerializer(data=request.data, context={"contract": contract})
        data.is_valid(raise_exception=True)
        move = dict(data.validated_data)
        version = move.pop("version", None)
        contract = services.contract_move(contract=contract, actor=request.user, expected_version=version, **move)
        return self._answer(contract)

    @extend_schema(
        summary="Renew a contract",
        description=(
            "Creates the successor in `draft`: kind renewal, `renewal_of` this contract, terms copied, dates "
            "following on. Only an active or expired contract, and only once (409 after that). This one becomes "
            "`renewed` when the successor is signed."
        ),
        request=None,
        responses={201: ContractDetailSerializer, **CONFLICT_RESPONSES},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def renew(self, request, pk=None):
        contract = self.get_object()
        ensure_contract_editable(user=request.user, contract=contract)
        successor = services.contract_renew(contract=contract, actor=request.user)
        return self._answer(successor, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Pipeline summary",
        description=(
            "The pipeline board without its cards: per pre-signature stage, the number of deals and, per currency, "
            f"their total and weighted value. Takes the list's filters. {VISIBILITY}"
        ),
        filters=True,
        responses={200: PipelineSummarySerializer, **ERROR_RESPONSES},
    )
    @action(detail=False, methods=["get"], filter_backends=[DjangoFilterBackend], pagination_class=None)
    def pipeline(self, request):
        contracts = self.filter_queryset(selectors.contract_list(user=request.user))
        columns = selectors.pipeline_columns(contracts, cards=0)
        return Response(PipelineSummarySerializer({"columns": columns}).data)

    @history_schema(resource="contract", description="Changes to the contract's fields (stage, value, dates, ...).")
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, pk=None):
        contract = get_object_or_404(Contract.objects.visible_to(request.user), pk=pk)
        return history_answer(request, selectors.contract_history_sources(contract=contract))
