"""What the proposal pages share: finding a proposal the user may see or change, the page's context, and the
answer to an editor change (a page for plain forms, the lines with out-of-band totals for htmx)."""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django_htmx.http import reswap, retarget

from accounts.models import User
from accounts.permissions import has_role, is_director
from clients.models import Client, Request
from contracts.models import Contract
from core.errors import ConflictError
from proposals import selectors, services
from proposals.forms import (
    ApproveForm,
    HeaderForm,
    LineForm,
    RateCardForm,
    ReturnForm,
    SendForm,
    SubmitForm,
    active_departments,
)
from proposals.models import FINAL_STATUSES, LineItem, Proposal, ProposalStatus
from proposals.totals import amount_in_words

CREATORS = ("account_manager", "sales", "director", "admin")
STALE_MESSAGE = gettext_lazy("Someone else changed this proposal first. Reload to see their changes.")
SENDABLE = (ProposalStatus.DRAFT, ProposalStatus.APPROVED, ProposalStatus.SENT)
NEW_VERSION_FROM = (ProposalStatus.SENT, ProposalStatus.DECLINED, ProposalStatus.EXPIRED)


def visible_proposal_or_404(user: User, pk: int) -> Proposal:
    return get_object_or_404(selectors.proposal_detail(user=user), pk=pk)


def can_manage(user: User, proposal: Proposal) -> bool:
    """The proposal's owner, the client's owner and directors: they edit, send and version it."""
    return Proposal.objects.editable_by(user).filter(pk=proposal.pk).exists()


def editable_proposal_or_404(user: User, pk: int) -> Proposal:
    """404 if the user may not see the proposal, 403 if they see it but may not change it."""
    proposal = visible_proposal_or_404(user, pk)
    if not can_manage(user, proposal):
        raise PermissionDenied
    return proposal


@contextmanager
def at_revision(proposal: Proposal, expected_revision: int):
    """Run a service inside a transaction that holds the proposal's row at the revision the user saw; raises
    ConflictError when someone changed it meanwhile (for the actions whose services take no revision)."""
    with transaction.atomic():
        current = Proposal.objects.select_for_update().filter(pk=proposal.pk).values_list("revision", flat=True)
        if current.first() != expected_revision:
            raise ConflictError(STALE_MESSAGE)
        yield


def detail_url(proposal: Proposal, section: str = "") -> str:
    url = reverse("proposals:detail", args=[proposal.pk])
    return f"{url}#{section}" if section else url


# --- The page's context --------------------------------------------------------------------------------------


def _edit_line_id(request: HttpRequest) -> int | None:
    try:
        return int(request.GET.get("edit", ""))
    except ValueError:
        return None


def lines_context(request: HttpRequest, proposal: Proposal, *, editable: bool, **forms) -> dict:
    """The lines panel: lines with amounts, the line being edited, the add-line and rate-card forms."""
    lines = selectors.proposal_lines(proposal)
    context = {"proposal": proposal, "lines": lines, "can_edit": editable, "editor_message": forms.get("message")}
    if not editable:
        return context
    departments = active_departments()
    edit_line = forms.get("edit_line") or _edit_line_id(request)
    edit_form = forms.get("edit_form")
    for line in lines:
        if line.pk == edit_line:
            line.form = edit_form or LineForm(
                instance=line, proposal=proposal, departments=departments, prefix_id=str(line.pk)
            )
    context.update(
        {
            "line_form": forms.get("line_form") or LineForm(proposal=proposal, departments=departments),
            "rate_card": selectors.rate_card(proposal.currency),
            "rate_form": forms.get("rate_form") or RateCardForm(proposal=proposal),
            "line_count": len(lines),
        }
    )
    return context


def totals_context(proposal: Proposal) -> dict:
    return {
        "words": amount_in_words(proposal.total, proposal.currency, proposal.language),
        "threshold": services.approval_threshold(),
        "needs_approval": services.needs_approval(proposal),
    }


def actions_context(request: HttpRequest, proposal: Proposal, *, manage: bool, **forms) -> dict:
    """The status panel: approval, sending, the client's answer, and the forms the user may use."""
    user = request.user
    director = is_director(user)
    context = {
        "can_manage": manage,
        "is_director": director,
        "public_url": services.public_url(proposal) if proposal.token_nonce else "",
        "can_new_version": manage and proposal.status in NEW_VERSION_FROM,
    }
    if manage and proposal.is_editable:
        revision = {"expected_revision": proposal.revision}
        context["submit_form"] = forms.get("submit_form") or SubmitForm(initial=revision)
    if manage and proposal.status in SENDABLE:
        context["send_form"] = forms.get("send_form") or SendForm(
            proposal=proposal, recipients=selectors.recipients(proposal)
        )
    if director and proposal.status == ProposalStatus.PENDING_APPROVAL:
        revision = {"expected_revision": proposal.revision}
        context["approve_form"] = forms.get("approve_form") or ApproveForm(initial=revision)
        context["return_form"] = forms.get("return_form") or ReturnForm(initial=revision)
    return context


def _links(user: User, proposal: Proposal) -> dict:
    """Which of the client, deal and brief the user may open (each named either way)."""
    return {
        "can_open_client": Client.objects.detailed_for(user).filter(pk=proposal.client_id).exists(),
        "can_open_deal": bool(proposal.contract_id)
        and Contract.objects.visible_to(user).filter(pk=proposal.contract_id).exists(),
        "can_open_brief": bool(proposal.brief_id)
        and Request.objects.visible_to(user).filter(pk=proposal.brief_id).exists(),
    }


def page_context(request: HttpRequest, proposal: Proposal, **forms) -> dict:
    user = request.user
    manage = can_manage(user, proposal)
    editable = manage and proposal.is_editable
    context = {
        **lines_context(request, proposal, editable=editable, **forms),
        **totals_context(proposal),
        **actions_context(request, proposal, manage=manage, **forms),
        **_links(user, proposal),
        "versions": selectors.proposal_versions(user=user, proposal=proposal),
        "events": selectors.proposal_events(proposal),
        "changes": _changes(user, proposal),
        "is_final": proposal.status in FINAL_STATUSES,
        "can_copy": has_role(user, *CREATORS),
    }
    if editable:
        context["header_form"] = forms.get("header_form") or HeaderForm(instance=proposal, user=user)
    return context


def _changes(user: User, proposal: Proposal) -> selectors.VersionChanges | None:
    previous = proposal.previous
    if previous is None or not Proposal.objects.visible_to(user).filter(pk=previous.pk).exists():
        return None
    return selectors.version_changes(previous, proposal)


# --- Answers -------------------------------------------------------------------------------------------------


def render_page(request: HttpRequest, proposal: Proposal, *, status: int = 200, **forms) -> HttpResponse:
    return render(request, "proposals/detail.html", page_context(request, proposal, **forms), status=status)


def editor_response(request: HttpRequest, pk: int, *, status: int = 200, **forms) -> HttpResponse:
    """After a change to the lines: htmx gets the lines with the totals, status panel, what-changed panel and
    the header's revision out of band; a plain form gets the page again (redirect on success)."""
    proposal = visible_proposal_or_404(request.user, pk)
    if not request.htmx:
        if status == 200:
            return redirect(detail_url(proposal, "lines"))
        return render_page(request, proposal, status=status, **forms)
    manage = can_manage(request.user, proposal)
    context = {
        **lines_context(request, proposal, editable=manage and proposal.is_editable, **forms),
        **totals_context(proposal),
        **actions_context(request, proposal, manage=manage),
        "changes": _changes(request.user, proposal),
        "oob": True,
    }
    return render(request, "proposals/_editor_update.html", context, status=status)


# What saving a line can change on its proposal (totals, status, approval, revision); never its client, owner,
# deal, brief, recipient or previous version, whose rows the page already holds.
LINE_SAVE_CHANGES = tuple(
    field.attname
    for field in Proposal._meta.concrete_fields
    if field.name not in {"id", "client", "owner", "contract", "brief", "recipient", "previous"}
)


def line_saved_response(request: HttpRequest, proposal: Proposal, line_id: int) -> HttpResponse:
    """After a line is saved in place: htmx gets only that line's row, with the totals, status panel, what-changed
    panel and the new revision out of band (re-rendering every row would take time in proportion to the lines);
    a plain form goes back to the page. Only for a user the service has just let change ``proposal`` (read with
    ``editable_proposal_or_404``): its changed fields are read again by primary key, without the page's joins."""
    proposal.refresh_from_db(fields=LINE_SAVE_CHANGES)
    pk = proposal.pk
    if not request.htmx:
        return redirect(detail_url(proposal, "lines"))
    try:
        line = selectors.proposal_line(proposal, line_id)
    except LineItem.DoesNotExist:  # removed by someone else since: the lines as they are now
        return editor_response(request, pk)
    context = {
        "proposal": proposal,
        "line": line,
        "can_edit": proposal.is_editable,
        **totals_context(proposal),
        **actions_context(request, proposal, manage=True),
        "changes": _changes(request.user, proposal),
        "oob": True,
    }
    response = render(request, "proposals/_line_saved.html", context)
    return retarget(reswap(response, "outerHTML"), f"#line-{line_id}")


def conflict_response(request: HttpRequest, pk: int, error: ConflictError) -> HttpResponse:
    return editor_response(request, pk, status=409, message=error.message)
