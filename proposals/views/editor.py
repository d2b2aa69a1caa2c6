"""The proposal page and its editor: the header form, and the lines edited inline (add, change, remove, move,
add from the rate card), each change answering with the lines and fresh totals."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ConflictError, DomainError
from core.forms import add_domain_error
from proposals import services
from proposals.forms import HeaderForm, LineForm, MoveLineForm, RateCardForm, RevisionForm, active_departments
from proposals.models import LineItem, Proposal
from proposals.views.common import (
    can_manage,
    conflict_response,
    detail_url,
    editable_proposal_or_404,
    editor_response,
    line_saved_response,
    lines_context,
    render_page,
    visible_proposal_or_404,
)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = visible_proposal_or_404(request.user, pk)
    if request.htmx and request.htmx.target == "proposal-lines":
        editable = proposal.is_editable and can_manage(request.user, proposal)
        return render(request, "proposals/_lines.html", lines_context(request, proposal, editable=editable))
    return render_page(request, proposal)


@login_required
@require_POST
def update(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the header (title, links, language, currency, VAT, validity, texts)."""
    proposal = editable_proposal_or_404(request.user, pk)
    form = HeaderForm(request.POST, instance=Proposal.objects.get(pk=proposal.pk), user=request.user)
    status = 400
    if form.is_valid():
        try:
            services.proposal_update(
                proposal=proposal,
                actor=request.user,
                expected_revision=form.cleaned_data["expected_revision"],
                **form.header(),
            )
        except ConflictError as error:
            form.add_error(None, error.message)
            status = 409
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Proposal saved."))
            return redirect(detail_url(proposal))
    proposal = visible_proposal_or_404(request.user, pk)
    return render_page(request, proposal, status=status, header_form=form)


# --- Lines ---------------------------------------------------------------------------------------------------


def _editable_line_or_404(request: HttpRequest, pk: int) -> LineItem:
    line = get_object_or_404(LineItem.objects.select_related("department"), pk=pk)
    proposal = editable_proposal_or_404(request.user, line.proposal_id)
    line.proposal = proposal
    return line


def _line_form(request: HttpRequest, proposal: Proposal, line: LineItem | None = None) -> LineForm:
    return LineForm(
        request.POST,
        instance=line,
        proposal=proposal,
        departments=active_departments(),
        prefix_id=str(line.pk) if line else "new",
    )


def _refused(request: HttpRequest, pk: int, form, error: Exception, **forms) -> HttpResponse:
    """A service refusal: a stale revision answers 409 with the current lines; a refusal about a field shows on
    the form, one about the whole proposal above the lines (400)."""
    if isinstance(error, ConflictError):
        return conflict_response(request, pk, error)
    if isinstance(error, DomainError) and not error.fields:
        # About the proposal, not the form (locked, sent, too many lines): above the lines, where it stays visible.
        return editor_response(request, pk, status=400, message=error.message)
    add_domain_error(form, error)
    return editor_response(request, pk, status=400, **forms)


@login_required
@require_POST
def line_add(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = editable_proposal_or_404(request.user, pk)
    form = _line_form(request, proposal)
    if not form.is_valid():
        return editor_response(request, pk, status=400, line_form=form)
    try:
        services.line_add(
            proposal=proposal,
            actor=request.user,
            expected_revision=form.cleaned_data["expected_revision"],
            **form.values(),
        )
    except (DomainError, ValidationError) as error:
        return _refused(request, pk, form, error, line_form=form)
    return editor_response(request, pk)


@login_required
@require_POST
def line_update(request: HttpRequest, pk: int) -> HttpResponse:
    line = _editable_line_or_404(request, pk)
    proposal = line.proposal
    form = _line_form(request, proposal, line)
    if not form.is_valid():
        return editor_response(request, proposal.pk, status=400, edit_line=line.pk, edit_form=form)
    try:
        services.line_update(
            line=line,
            actor=request.user,
            expected_revision=form.cleaned_data["expected_revision"],
            **form.values(),
        )
    except (DomainError, ValidationError) as error:
        return _refused(request, proposal.pk, form, error, edit_line=line.pk, edit_form=form)
    return line_saved_response(request, proposal, line.pk)


@login_required
@require_POST
def line_remove(request: HttpRequest, pk: int) -> HttpResponse:
    line = _editable_line_or_404(request, pk)
    form = RevisionForm(request.POST)
    if not form.is_valid():
        return editor_response(request, line.proposal_id, status=400, message=_("Reload the page and try again."))
    try:
        services.line_remove(line=line, actor=request.user, expected_revision=form.cleaned_data["expected_revision"])
    except DomainError as error:
        return _message_response(request, line.proposal_id, error)
    return editor_response(request, line.proposal_id)


def _message_response(request: HttpRequest, pk: int, error: DomainError) -> HttpResponse:
    if isinstance(error, ConflictError):
        return conflict_response(request, pk, error)
    return editor_response(request, pk, status=400, message=error.message)


def _moved(order: list[int], line_id: int, direction: str) -> list[int]:
    """The line ids with ``line_id`` one place up or down (unchanged at either end)."""
    index = order.index(line_id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    return order


@login_required
@require_POST
def line_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a line one place up or down (a plain form: works without JavaScript)."""
    line = _editable_line_or_404(request, pk)
    proposal = line.proposal
    form = MoveLineForm(request.POST)
    if not form.is_valid():
        return editor_response(request, proposal.pk, status=400, message=_("Reload the page and try again."))
    order = list(proposal.lines.values_list("pk", flat=True))
    try:
        services.lines_reorder(
            proposal=proposal,
            actor=request.user,
            line_ids=_moved(order, line.pk, form.cleaned_data["direction"]),
            expected_revision=form.cleaned_data["expected_revision"],
        )
    except DomainError as error:
        return _message_response(request, proposal.pk, error)
    return editor_response(request, proposal.pk)


@login_required
@require_POST
def rate_card_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add the ticked rate-card services as lines at their default prices."""
    proposal = editable_proposal_or_404(request.user, pk)
    form = RateCardForm(request.POST, proposal=proposal)
    if not form.is_valid():
        return editor_response(request, pk, status=400, rate_form=form)
    try:
        services.lines_from_rate_card(
            proposal=proposal,
            actor=request.user,
            items=list(form.cleaned_data["items"].select_related("department").order_by("department__name", "service")),
            expected_revision=form.cleaned_data["expected_revision"],
        )
    except (DomainError, ValidationError) as error:
        return _refused(request, pk, form, error, rate_form=form)
    return editor_response(request, pk)
