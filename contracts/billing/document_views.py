"""Statement PDFs on the statement page: ask the worker for one, watch it being prepared (htmx polling), download it.

Whoever may open the client may ask for and download its statements; to anyone else a document is a 404.
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_POST

from clients.models import Client
from contracts.billing.forms import StatementForm
from contracts.billing.statement_pdf import download_filename, request_statement_document
from contracts.billing.views.shared import refusal_status
from contracts.models import DocumentStatus, StatementDocument
from core.errors import DomainError

BUTTON_TEMPLATE = "contracts/billing/_statement_pdf_button.html"


def visible_documents(user) -> QuerySet[StatementDocument]:
    """Statement documents of the clients the user may open."""
    return StatementDocument.objects.filter(client__in=Client.objects.detailed_for(user).values("pk")).select_related(
        "client"
    )


def _button(request: HttpRequest, client: Client, document, *, error: str = "", status: int = 200, form=None):
    context = {"client": client, "statement": None, "document": document, "error": error, "form": form}
    return render(request, BUTTON_TEMPLATE, context, status=status)


@login_required
@require_POST
def statement_pdf(request: HttpRequest, client_pk: int) -> HttpResponse:
    """Ask for the statement's PDF (currency and period as on the statement page); the button, now polling."""
    client = get_object_or_404(Client.objects.detailed_for(request.user), pk=client_pk)
    form = StatementForm(request.POST)
    if not form.is_valid():
        return _button(request, client, None, error=_first_error(form), status=400, form=form)
    currency = form.cleaned_data["currency"] or client.billing_currency
    start, end = form.period(timezone.localdate())
    try:
        document = request_statement_document(
            client=client,
            currency=currency,
            start=start,
            end=end,
            language=translation.get_language(),
            actor=request.user,
        )
    except DomainError as error:
        return _button(request, client, None, error=error.message, status=refusal_status(error), form=form)
    if not request.htmx:  # without JavaScript: back to the statement, which shows the document's state
        query = urlencode({"currency": currency, "start": start.isoformat(), "end": end.isoformat()})
        return redirect(f"{reverse('contracts:statement', args=[client.pk])}?{query}")
    document.refresh_from_db()  # rendered already when tasks run in-process
    return _button(request, client, document, form=form)


def _first_error(form: StatementForm) -> str:
    return next((str(error) for errors in form.errors.values() for error in errors), "")


@login_required
@require_GET
def statement_document(request: HttpRequest, pk: int) -> HttpResponse:
    """The button for a document: still polling while it is prepared, then its download link (or the failure)."""
    document = get_object_or_404(visible_documents(request.user), pk=pk)
    response = _button(request, document.client, document)
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_GET
def statement_document_download(request: HttpRequest, pk: int) -> FileResponse:
    """The PDF as an attachment, to users who may open the client; 404 for others and while it is not ready."""
    document = get_object_or_404(visible_documents(request.user), pk=pk, status=DocumentStatus.READY)
    try:
        pdf = document.file.open("rb")
    except (FileNotFoundError, ValueError) as error:  # the stored file is gone, or was never saved
        raise Http404 from error
    response = FileResponse(
        pdf, as_attachment=True, filename=download_filename(document), content_type="application/pdf"
    )
    patch_cache_control(response, private=True, no_store=True)
    return response
