"""The client's page behind the signed link (no login): read the proposal, download its PDF, accept with a typed
name or decline with a reason. Shown in the proposal's language, never indexed, never leaking the link to other
sites as a referrer; a tampered link is a 404, an expired or replaced one a 410, each with a friendly page."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_POST, require_safe

from core.errors import DomainError
from core.forms import add_domain_error
from proposals import selectors, services
from proposals.forms import AcceptForm, DeclineForm
from proposals.models import Proposal, ProposalStatus
from proposals.pdf import READY, download_filename, pdf_state
from proposals.services import LinkError
from proposals.totals import amount_in_words

# The token in the address never leaves for another site: "same-origin" sends no referrer to any other origin.
# Not "no-referrer": with it browsers send "Origin: null" on the answer forms' POST and CSRF refuses them.
PRIVATE_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "private, no-store",
}
LINK_ERROR_STATUS = {"invalid": 404, "expired": 410, "replaced": 410}


def _private(response: HttpResponse) -> HttpResponse:
    for header, value in PRIVATE_HEADERS.items():
        response[header] = value
    return response


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:400]


def pdf_ready(proposal: Proposal) -> bool:
    """A stored PDF prints the proposal as it is now (an older one is never offered to the client)."""
    return pdf_state(proposal) == READY


def _pdf_file(proposal: Proposal) -> FileResponse:
    filename = download_filename(proposal)
    return FileResponse(proposal.pdf.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf")


def _brand() -> dict:
    return {"agency_name": settings.ACCORD_AGENCY_NAME, "brand_logo": settings.ACCORD_BRAND_LOGO}


def _link_error(request: HttpRequest, error: LinkError, *, pdf_pending: bool = False) -> HttpResponse:
    """The friendly page of a link that does not open: in the proposal's language when the link names one."""
    proposal = error.proposal
    context = {**_brand(), "reason": error.reason, "proposal": proposal, "pdf_pending": pdf_pending}
    status = 404 if pdf_pending else LINK_ERROR_STATUS[error.reason]
    if proposal is None:
        return _private(render(request, "proposals/public/link_error.html", context, status=status))
    with translation.override(proposal.language):
        return _private(render(request, "proposals/public/link_error.html", context, status=status))


def _render(request: HttpRequest, token: str, proposal: Proposal, *, status: int = 200, **forms) -> HttpResponse:
    """The page, rendered in the caller's translation.override of the proposal's language."""
    lines = selectors.proposal_lines(proposal)
    context = {
        **_brand(),
        "token": token,
        "proposal": proposal,
        "lines": lines,
        "has_discounts": any(line.discount_percent for line in lines),
        "words": amount_in_words(proposal.total, proposal.currency, proposal.language),
        "pdf_ready": pdf_ready(proposal),
        "answerable": proposal.status == ProposalStatus.SENT,
        "accept_form": forms.get("accept_form") or AcceptForm(),
        "decline_form": forms.get("decline_form") or DeclineForm(),
        "open_form": forms.get("open_form", ""),
    }
    return _private(render(request, "proposals/public/proposal.html", context, status=status))


@require_safe
def public(request: HttpRequest, token: str) -> HttpResponse:
    try:
        proposal = services.proposal_for_token(token)
    except LinkError as error:
        return _link_error(request, error)
    with translation.override(proposal.language):
        # A HEAD (a link checker) is not a view; the service records the first GET once, whoever races to it.
        if request.method == "GET" and proposal.status == ProposalStatus.SENT and proposal.first_viewed_at is None:
            proposal = services.proposal_record_view(
                proposal=proposal, ip=_client_ip(request), user_agent=_user_agent(request)
            )
        return _render(request, token, proposal)


def _answer(request: HttpRequest, token: str, form_class, form_name: str, answer) -> HttpResponse:
    """Accept or decline: the service's answer, then back to the page (which shows the outcome)."""
    try:
        proposal = services.proposal_for_token(token)
    except LinkError as error:
        return _link_error(request, error)
    with translation.override(proposal.language):
        form = form_class(request.POST)
        if form.is_valid():
            try:
                answer(proposal, form.cleaned_data)
            except (DomainError, ValidationError) as error:
                add_domain_error(form, error)
            else:
                return _private(redirect("proposals:public", token=token))
        proposal.refresh_from_db()
        return _render(request, token, proposal, status=400, open_form=form_name, **{form_name: form})


@require_POST
def public_accept(request: HttpRequest, token: str) -> HttpResponse:
    def answer(proposal, data):
        services.proposal_accept(
            proposal=proposal, full_name=data["full_name"], ip=_client_ip(request), user_agent=_user_agent(request)
        )

    return _answer(request, token, AcceptForm, "accept_form", answer)


@require_POST
def public_decline(request: HttpRequest, token: str) -> HttpResponse:
    def answer(proposal, data):
        services.proposal_decline(
            proposal=proposal, reason=data["reason"], ip=_client_ip(request), user_agent=_user_agent(request)
        )

    return _answer(request, token, DeclineForm, "decline_form", answer)


@require_safe
def public_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The proposal's PDF for the client, once the worker has rendered it."""
    try:
        proposal = services.proposal_for_token(token)
    except LinkError as error:
        return _link_error(request, error)
    if not pdf_ready(proposal):
        return _link_error(request, LinkError("pending", proposal), pdf_pending=True)
    return _private(_pdf_file(proposal))
