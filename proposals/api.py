"""/api/v1/proposals (with send, submit, approve, return, new-version and pdf), /api/v1/proposal-lines and
/api/v1/rate-card.

Scoped as the pages are: a proposal you may not see is a 404, a change you may not make a 403. Every write goes
through ``proposals.services``; every read starts from ``proposals.selectors``. The client's public page (accept or
decline through the signed link) is not part of this API.
"""

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from accounts.models import User
from clients.api.common import CONFLICT_RESPONSES, WRITE_RESPONSES, ordering_help
from clients.models import Department
from core.api import ERROR_RESPONSES
from core.errors import PermissionDeniedError
from core.history import HistorySource
from core.history_api import history_answer, history_schema
from core.money import Currency
from proposals import selectors, services
from proposals.filters import ProposalFilter
from proposals.models import LineItem, Proposal, ProposalEvent, RateCardItem
from proposals.serializers import (
    LineChangeSerializer,
    LineCreateSerializer,
    LineItemSerializer,
    LineRemoveSerializer,
    LineTargetSerializer,
    LineUpdateSerializer,
    NoteSerializer,
    PdfSerializer,
    ProposalCreateSerializer,
    ProposalDetailSerializer,
    ProposalSerializer,
    ProposalUpdateSerializer,
    RateCardItemSerializer,
    ReturnSerializer,
    SendSerializer,
)

PROPOSAL_ORDERING = ["number", "valid_until", "total", "created_at"]
VISIBILITY = (
    "Directors, admins and finance see every proposal; others the proposals of the clients whose details they may "
    "open, and their own. Only the latest version of each number is listed."
)
EDIT_RULE = "For the proposal's owner, the client's owner and directors."
DIRECTOR_RULE = "Directors only."


# --- Reads (the selectors, shaped for the API) ------------------------------------------------------------


def proposal_card(*, user: User) -> QuerySet[Proposal]:
    """One proposal with its lines (and departments) and its history: three queries whatever their size."""
    return selectors.proposal_detail(user=user).prefetch_related(
        Prefetch("lines", queryset=LineItem.objects.select_related("department")),
        Prefetch("events", queryset=ProposalEvent.objects.select_related("actor")),
    )


def line_list(*, user: User) -> QuerySet[LineItem]:
    """The lines of the proposals the user may see."""
    proposals = Proposal.objects.visible_to(user).values("pk")
    return LineItem.objects.filter(proposal__in=proposals).select_related("proposal", "department")


def rate_card_list() -> QuerySet[RateCardItem]:
    """Active items of active departments: the agency's prices, the same for everyone signed in."""
    return RateCardItem.objects.filter(is_active=True, department__is_active=True).select_related("department")


def ensure_proposal_editable(*, user: User, proposal: Proposal) -> None:
    """403 before any input is read when the user sees the proposal but may not change it (the services check
    again inside their transaction)."""
    if not Proposal.objects.editable_by(user).filter(pk=proposal.pk).exists():
        raise PermissionDeniedError(_("Only the proposal's owner, the client's owner or a director can change it."))


def _input(request, serializer_class, context: dict | None = None, **kwargs) -> dict:
    data = serializer_class(data=request.data, context={"request": request, **(context or {})}, **kwargs)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


# --- Proposals --------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Proposals",
        description=f"{VISIBILITY} Newest first by default. `q` searches the number, title and client name."
        + ordering_help(PROPOSAL_ORDERING),
        responses={200: ProposalSerializer, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One proposal",
        description="With its lines and their amounts, the totals and the total in words, the approval, the "
        "client's answer and the history. Older versions stay readable here.",
        responses={200: ProposalDetailSerializer, **ERROR_RESPONSES},
    ),
)
class ProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ProposalSerializer
    filterset_class = ProposalFilter
    ordering_fields = PROPOSAL_ORDERING
    http_method_names = ["get", "post", "patch", "head", "options"]  # a proposal ends by a status, never a delete

    def get_queryset(self) -> QuerySet[Proposal]:
        if self.action == "list":
            return selectors.proposal_list(user=self.request.user)
        if self.action == "retrieve":
            return proposal_card(user=self.request.user)
        return selectors.proposal_detail(user=self.request.user)

    def get_serializer_class(self):
        return ProposalDetailSerializer if self.action == "retrieve" else super().get_serializer_class()

    def _answer(self, proposal: Proposal, code: int = status.HTTP_200_OK) -> Response:
        fresh = proposal_card(user=self.request.user).get(pk=proposal.pk)
        return Response(ProposalDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _editable(self) -> Proposal:
        proposal = self.get_object()
        ensure_proposal_editable(user=self.request.user, proposal=proposal)
        return proposal

    @extend_schema(
        summary="Create a proposal",
        description=(
            "A draft on a client you may change, owned by you, with its lines in order. Number, version, status, "
            "totals and approval are set by the system; the currency defaults to the client's billing currency. "
            "For the client's owner and directors."
        ),
        request=ProposalCreateSerializer,
        responses={201: ProposalDetailSerializer, **WRITE_RESPONSES},
    )
    def create(self, request):
        fields = _input(request, ProposalCreateSerializer)
        client, lines = fields.pop("client"), fields.pop("lines", [])
        proposal = services.proposal_create(client=client, actor=request.user, lines=lines, **fields)
        return self._answer(proposal, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a proposal's header",
        description=(
            "Title, links, language, currency, VAT, validity and texts of a draft or approved proposal (locked while "
            "a director reviews it; sent and answered ones get a new version instead). Send `revision` to be "
            f"protected from lost updates. {EDIT_RULE}"
        ),
        request=ProposalUpdateSerializer,
        responses={200: ProposalDetailSerializer, **CONFLICT_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        proposal = self._editable()
        changes = _input(request, ProposalUpdateSerializer, partial=True)
        revision = changes.pop("revision", None)
        proposal = services.proposal_update(
            proposal=proposal, actor=request.user, expected_revision=revision, **changes
        )
        return self._answer(proposal)

    @extend_schema(
        summary="Send the proposal to the client",
        description=(
            "E-mails the contact a signed link valid until `valid_until` and renders the PDF. Refused (400) while "
            "a discount above the threshold lacks a director's approval (code `approval_required`), without lines, "
            "without a recipient with an e-mail, or past its validity. Sending again issues a new link. " + EDIT_RULE
        ),
        request=SendSerializer,
        responses={200: ProposalDetailSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def send(self, request, pk=None):
        proposal = self._editable()
        recipient = _input(request, SendSerializer).get("recipient")
        proposal = services.proposal_send(proposal=proposal, actor=request.user, recipient=recipient)
        return self._answer(proposal)

    @extend_schema(
        summary="Ask a director to approve the discount",
        description="Only when the discount needs approval; the proposal is locked until a director approves or "
        "returns it, and the directors are notified. " + EDIT_RULE,
        request=NoteSerializer,
        responses={200: ProposalDetailSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def submit(self, request, pk=None):
        proposal = self._editable()
        note = _input(request, NoteSerializer)["note"]
        proposal = services.proposal_submit(proposal=proposal, actor=request.user, note=note)
        return self._answer(proposal)

    @extend_schema(
        summary="Approve the discount",
        description="The proposal may then be sent; its owner is notified. " + DIRECTOR_RULE,
        request=NoteSerializer,
        responses={200: ProposalDetailSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def approve(self, request, pk=None):
        proposal = self.get_object()
        note = _input(request, NoteSerializer)["note"]
        proposal = services.proposal_approve(proposal=proposal, actor=request.user, note=note)
        return self._answer(proposal)

    @extend_schema(
        summary="Return the proposal to its owner",
        description="It becomes a draft again; the `note` saying what to change is required and the owner is "
        "notified. " + DIRECTOR_RULE,
        request=ReturnSerializer,
        responses={200: ProposalDetailSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return", filter_backends=[])
    def return_to_owner(self, request, pk=None):
        proposal = self.get_object()
        note = _input(request, ReturnSerializer)["note"]
        proposal = services.proposal_return(proposal=proposal, actor=request.user, note=note)
        return self._answer(proposal)

    @extend_schema(
        summary="Start a new version",
        description="Copies this version (header and lines) into a draft with the same number and the next "
        "version, and marks this one superseded. Not for an accepted or already superseded version. " + EDIT_RULE,
        request=None,
        responses={201: ProposalDetailSerializer, **WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path="new-version", url_name="new-version", filter_backends=[])
    def new_version(self, request, pk=None):
        proposal = self._editable()
        copy = services.proposal_new_version(proposal=proposal, actor=request.user)
        return self._answer(copy, status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="Where the proposal's PDF stands",
        description="`ready` with its download `url`, `pending` while the worker renders it, `failed`, or "
        "`not_requested` (never asked for, or the proposal changed since).",
        request=None,
        responses={200: PdfSerializer, **ERROR_RESPONSES},
    )
    @extend_schema(
        methods=["POST"],
        summary="Ask for the proposal's PDF",
        description="Queues a render unless the current PDF is ready or being rendered; poll `GET` until `ready`. "
        "For whoever may see the proposal.",
        request=None,
        responses={
            200: OpenApiResponse(PdfSerializer, description="Ready."),
            202: OpenApiResponse(PdfSerializer, description="Being rendered, or failed (`status`)."),
            **ERROR_RESPONSES,
        },
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def pdf(self, request, pk=None):
        from proposals.pdf import READY, pdf_state  # the PDF module loads WeasyPrint

        proposal = self.get_object()
        if request.method == "POST":
            services.request_pdf(proposal)
            proposal.refresh_from_db()  # rendered already when tasks run in-process
        state = pdf_state(proposal)
        ready = state == READY
        url = request.build_absolute_uri(reverse("proposals:pdf", args=[proposal.pk])) if ready else None
        body = PdfSerializer({"status": state, "url": url, "error": proposal.pdf_error if not ready else ""}).data
        code = status.HTTP_202_ACCEPTED if request.method == "POST" and not ready else status.HTTP_200_OK
        return Response(body, status=code)

    @history_schema(
        resource="proposal",
        description="Changes to this version of the proposal (status, totals, texts, validity, ...); each version "
        "has its own history.",
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, pk=None):
        proposal = get_object_or_404(Proposal.objects.visible_to(request.user), pk=pk)
        return history_answer(request, [HistorySource(Proposal, Q(id=proposal.pk), currency="currency")])


# --- Lines ------------------------------------------------------------------------------------------------

LINE_RULE = (
    "The answer is the line and the proposal's new totals (and `revision`). Send `revision` to be protected from "
    "lost updates. Only while the proposal is a draft or approved; growing an approved discount voids the "
    f"approval. {EDIT_RULE}"
)


@extend_schema_view(
    retrieve=extend_schema(
        summary="One proposal line",
        description="Lines of the proposals you may see; they are listed in their proposal.",
        responses={200: LineItemSerializer, **ERROR_RESPONSES},
    ),
)
class ProposalLineViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = LineItemSerializer
    filter_backends = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[LineItem]:
        return line_list(user=self.request.user)

    def _answer(self, proposal: Proposal, line: LineItem | None, code: int = status.HTTP_200_OK) -> Response:
        fresh = Proposal.objects.get(pk=proposal.pk)
        if line is not None:
            line = LineItem.objects.select_related("department").get(pk=line.pk)
            line.proposal = fresh
        return Response(LineChangeSerializer({"line": line, "proposal": fresh}).data, status=code)

    @extend_schema(
        summary="Add a line to a proposal",
        description="Appended after the last line. " + LINE_RULE,
        request=LineCreateSerializer,
        responses={201: LineChangeSerializer, **CONFLICT_RESPONSES},
    )
    def create(self, request):
        proposal = _input(request, LineTargetSerializer)["proposal"]
        ensure_proposal_editable(user=request.user, proposal=proposal)
        values = _input(request, LineCreateSerializer)
        values.pop("proposal")
        revision = values.pop("revision", None)
        line = services.line_add(proposal=proposal, actor=request.user, expected_revision=revision, **values)
        return self._answer(proposal, line, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a line",
        description=LINE_RULE,
        request=LineUpdateSerializer,
        responses={200: LineChangeSerializer, **CONFLICT_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        line = self.get_object()
        ensure_proposal_editable(user=request.user, proposal=line.proposal)
        values = _input(request, LineUpdateSerializer, context={"currency": line.proposal.currency}, partial=True)
        revision = values.pop("revision", None)
        line = services.line_update(line=line, actor=request.user, expected_revision=revision, **values)
        return self._answer(line.proposal, line)

    @extend_schema(
        summary="Remove a line",
        description="`revision` may be sent in the body or the query string. " + LINE_RULE,
        request=LineRemoveSerializer,
        responses={200: LineChangeSerializer, **CONFLICT_RESPONSES},
    )
    def destroy(self, request, pk=None):
        line = self.get_object()
        ensure_proposal_editable(user=request.user, proposal=line.proposal)
        data = LineRemoveSerializer(data={**request.query_params.dict(), **_body(request)})
        data.is_valid(raise_exception=True)
        revision = data.validated_data.get("revision")
        proposal = services.line_remove(line=line, actor=request.user, expected_revision=revision)
        return self._answer(proposal, None)


def _body(request) -> dict:
    body = request.data.dict() if hasattr(request.data, "dict") else request.data
    return body if isinstance(body, dict) else {}


# --- Rate card --------------------------------------------------------------------------------------------


class RateCardFilter(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(queryset=Department.objects.all())
    currency = django_filters.ChoiceFilter(choices=Currency.choices)

    class Meta:
        model = RateCardItem
        fields = ["department", "currency"]


@extend_schema_view(
    list=extend_schema(
        summary="Rate card",
        description="The services each department sells, their unit and default price, for everyone signed in. "
        "Kept by the admin; retired items are left out.",
        responses={200: RateCardItemSerializer, **ERROR_RESPONSES},
    ),
)
class RateCardViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = RateCardItemSerializer
    filterset_class = RateCardFilter
    ordering_fields = ["service", "price"]

    def get_queryset(self) -> QuerySet[RateCardItem]:
        return rate_card_list()
