"""Approval (ask, approve, return), sending to the client, and new versions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import is_director
from core.errors import ConflictError, DomainError
from core.forms import add_domain_error
from proposals import selectors, services
from proposals.forms import ApproveForm, ReturnForm, RevisionForm, SendForm, SubmitForm
from proposals.models import Proposal
from proposals.views.common import (
    at_revision,
    detail_url,
    editable_proposal_or_404,
    render_page,
    visible_proposal_or_404,
)


def _act(request: HttpRequest, proposal: Proposal, form, form_name: str, action) -> HttpResponse | None:
    """Run ``action(data)`` at the revision the form carries; None when done, else the page with the error."""
    if form.is_valid():
        try:
            with at_revision(proposal, form.cleaned_data["expected_revision"]):
                action(form.cleaned_data)
        except ConflictError as error:
            form.add_error(None, error.message)
            return _page_with(request, proposal, form_name, form, status=409)
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            return None
    return _page_with(request, proposal, form_name, form, status=400)


def _page_with(request: HttpRequest, proposal: Proposal, form_name: str, form, *, status: int) -> HttpResponse:
    proposal = visible_proposal_or_404(request.user, proposal.pk)
    return render_page(request, proposal, status=status, **{form_name: form})


@login_required
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask the directors to approve the discount; the proposal is locked meanwhile."""
    proposal = editable_proposal_or_404(request.user, pk)
    form = SubmitForm(request.POST)

    def action(data):
        services.proposal_submit(proposal=proposal, actor=request.user, note=data["note"])

    refused = _act(request, proposal, form, "submit_form", action)
    if refused:
        return refused
    messages.success(request, _("Sent to the directors for approval. The proposal is locked until one answers."))
    return redirect(detail_url(proposal))


def _director_proposal_or_404(request: HttpRequest, pk: int) -> Proposal:
    proposal = visible_proposal_or_404(request.user, pk)
    if not is_director(request.user):
        raise PermissionDenied
    return proposal


@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _director_proposal_or_404(request, pk)
    form = ApproveForm(request.POST)

    def action(data):
        services.proposal_approve(proposal=proposal, actor=request.user, note=data["note"])

    refused = _act(request, proposal, form, "approve_form", action)
    if refused:
        return refused
    messages.success(request, _("Discount approved: the owner can send the proposal."))
    return redirect(detail_url(proposal))


@login_required
@require_POST
def return_to_owner(request: HttpRequest, pk: int) -> HttpResponse:
    """A director sends the proposal back with a comment; it becomes a draft again."""
    proposal = _director_proposal_or_404(request, pk)
    form = ReturnForm(request.POST)

    def action(data):
        services.proposal_return(proposal=proposal, actor=request.user, note=data["note"])

    refused = _act(request, proposal, form, "return_form", action)
    if refused:
        return refused
    messages.success(request, _("Returned to %(owner)s with your comment.") % {"owner": proposal.owner.full_name})
    return redirect(detail_url(proposal))


@login_required
@require_POST
def send(request: HttpRequest, pk: int) -> HttpResponse:
    """E-mail the chosen contact the link to the proposal; sending again replaces the earlier link."""
    proposal = editable_proposal_or_404(request.user, pk)
    form = SendForm(request.POST, proposal=proposal, recipients=selectors.recipients(proposal))

    def action(data):
        services.proposal_send(proposal=proposal, actor=request.user, recipient=data["recipient"])

    refused = _act(request, proposal, form, "send_form", action)
    if refused:
        return refused
    recipient = form.cleaned_data["recipient"]
    messages.success(
        request,
        _("Sent to %(name)s (%(email)s). The link works until %(date)s.")
        % {
            "name": recipient.full_name,
            "email": recipient.email,
            "date": date_format(proposal.valid_until, "SHORT_DATE_FORMAT"),
        },
    )
    return redirect(detail_url(proposal, "status"))


@login_required
@require_POST
def new_version(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = editable_proposal_or_404(request.user, pk)
    form = RevisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Reload the page and try again."))
        return redirect(detail_url(proposal))
    try:
        with at_revision(proposal, form.cleaned_data["expected_revision"]):
            copy = services.proposal_new_version(proposal=proposal, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(detail_url(proposal))
    messages.success(
        request,
        _("Version %(version)s created as a draft; version %(previous)s is kept, read-only.")
        % {"version": copy.version, "previous": proposal.version},
    )
    return redirect(detail_url(copy))
