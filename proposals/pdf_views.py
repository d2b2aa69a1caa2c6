"""The proposal's PDF on its page: ask the worker for it, watch it being prepared (htmx polling), download it.

Whoever may see the proposal may ask for its PDF and download it; to anyone else it is a 404. A PDF is offered
only while it prints the proposal as it is now (``proposals.pdf.pdf_state``): asking to download a stale or
missing one queues a render instead.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.outbox import enqueue
from proposals import services
from proposals.models import Proposal
from proposals.pdf import FAILED, READY, download_filename, pdf_state

BUTTON_TEMPLATE = "proposals/pdf/_button.html"


def _visible_proposal(request: HttpRequest, pk: int) -> Proposal:
    return get_object_or_404(
        Proposal.objects.visible_to(request.user).select_related("client", "recipient", "owner"), pk=pk
    )


def _button(request: HttpRequest, proposal: Proposal, state: str | None = None) -> HttpResponse:
    context = {"proposal": proposal, "pdf_state": state or pdf_state(proposal)}
    response = render(request, BUTTON_TEMPLATE, context)
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_GET
def pdf_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The button as it stands: polling while the worker prepares the PDF, then its download link (or the error)."""
    return _button(request, _visible_proposal(request, pk))


@login_required
@require_POST
def pdf_request(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask the worker for the PDF (nothing is queued when the current one is ready or being prepared); the button."""
    proposal = _visible_proposal(request, pk)
    services.request_pdf(proposal)
    if not request.htmx:  # without JavaScript: back to the proposal, whose button shows the state
        return redirect(proposal.get_absolute_url())
    proposal.refresh_from_db()  # rendered already when tasks run in-process
    return _button(request, proposal)


@login_required
@require_http_methods(["GET", "POST"])
def pdf_download(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the PDF as an attachment while it prints the proposal as it is now; otherwise a render is queued and
    the button (htmx) or the proposal's page (a plain link) says it is being prepared. POST: as ``pdf_request``."""
    if request.method == "POST":
        return pdf_request(request, pk)
    proposal = _visible_proposal(request, pk)
    if pdf_state(proposal) == READY:
        try:
            return _attachment(proposal)
        except FileNotFoundError:  # the stored file is gone: the task sees it missing and renders it again
            from proposals.tasks import render_proposal_pdf_task

            enqueue(render_proposal_pdf_task, proposal.pk)
    else:
        services.request_pdf(proposal)
    proposal.refresh_from_db()
    state = pdf_state(proposal)
    if request.htmx:
        return _button(request, proposal, state)
    if state == READY and proposal.pdf.storage.exists(proposal.pdf.name):  # tasks run in-process, no broker
        return _attachment(proposal)
    if state == FAILED:
        messages.error(request, _("The PDF could not be prepared. Try again from the proposal's page."))
    else:
        messages.info(request, _("The PDF is being prepared. It will be ready to download in a moment."))
    return redirect(proposal.get_absolute_url())


def _attachment(proposal: Proposal) -> FileResponse:
    handle = proposal.pdf.open("rb")
    response = FileResponse(
        handle, as_attachment=True, filename=download_filename(proposal), content_type="application/pdf"
    )
    patch_cache_control(response, private=True, no_store=True)
    return response
