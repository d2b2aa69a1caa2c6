"""Statements of account as PDFs: asked for on the statement page or through the API, rendered by the worker.

``request_statement_document`` checks that the user may open the client, computes the statement and a hash of
everything the PDF shows (figures, client details, payment rating, language, template version). A READY or PENDING
document with that hash is reused; otherwise a PENDING row is created (one per hash: a unique constraint, so two
clicks at once make one row) and ``render_statement_pdf_task`` is queued after commit. A FAILED one is retried, and
one pending for minutes queued again.

``render_statement_document`` (the task's body) locks the row: a READY document is left alone, so a redelivered
or concurrent task renders nothing twice. It renders the template in the document's language, turns it into a
PDF with WeasyPrint (core.pdf: local fonts only) and stores it in the ``documents`` storage; a rendering error is
kept on the row (FAILED) for the page to show. The figures are read again when it renders, so a payment recorded
between the request and the rendering is in the PDF (asking again then makes a document of the new figures' hash).
"""

import hashlib
import json
import logging
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from clients.models import Client
from clients.text import fold
from contracts.billing.selectors import (
    RATING_LABELS,
    Statement,
    StatementLine,
    client_payment_rating,
    client_statement,
)
from contracts.models import DocumentStatus, StatementDocument
from core.errors import DomainError, PermissionDeniedError
from core.money import Currency
from core.outbox import enqueue

logger = logging.getLogger(__name__)

TEMPLATE = "contracts/billing/statement_pdf.html"
# Part of the content hash: raise it when the PDF's layout or wording changes, so unchanged figures render anew.
TEMPLATE_VERSION = 1
ERROR_LENGTH = 2000
# A document still pending after this long is queued again when asked for: a PDF renders in seconds.
PENDING_TOO_LONG = timedelta(minutes=5)


def _check_can_open(client: Client, actor: User) -> None:
    if not Client.objects.detailed_for(actor).filter(pk=client.pk).exists():
        raise PermissionDeniedError(_("You cannot open this client's statement."))


def _check_request(currency: str, start: date, end: date, language: str) -> None:
    if currency not in Currency.values:
        raise DomainError(_("Choose a currency the agency bills in."), code="invalid_currency")
    if start > end:
        raise DomainError(_("The period ends before it starts."), code="invalid_period")
    if language not in dict(settings.LANGUAGES):
        raise DomainError(_("Choose a language the agency writes in."), code="invalid_language")


def statement_content_hash(statement: Statement, *, rating: str | None, language: str) -> str:
    """SHA-256 of what the PDF shows: two statements with the same hash print the same document."""
    client = statement.client
    content = {
        "template": TEMPLATE_VERSION,
        "language": language,
        "agency": settings.ACCORD_AGENCY_NAME,
        "payment_instructions": settings.ACCORD_PAYMENT_INSTRUCTIONS,
        "client": [client.name, client.legal_name, client.tax_code, client_address(client)],
        "period": [statement.currency, statement.start, statement.end],
        "balances": [
            _amount(statement.opening_balance),
            _amount(statement.closing_balance),
            _amount(statement.overdue),
        ],
        # Invoice lines carry the invoice's own description; the others' are worded by the template's language.
        "lines": [_line_content(line) for line in statement.lines],
        "rating": rating,
    }
    return hashlib.sha256(json.dumps(content, default=str, sort_keys=True).encode()).hexdigest()


def _line_content(line: StatementLine) -> list:
    description = line.description if line.kind == "invoice" else None
    amounts = [_amount(line.debit), _amount(line.credit), _amount(line.balance)]
    return [line.day, line.kind, line.reference, line.invoice_id, description, *amounts]


def _amount(amount: Decimal) -> str:
    """The same amount hashes the same, whatever exponent a sum gave it (1E+1, 10, 10.00)."""
    return f"{amount:.2f}"


def client_address(client: Client) -> str:
    return client.billing_address or client.address


@transaction.atomic
def request_statement_document(
    *, client: Client, currency: str, start: date, end: date, language: str, actor: User
) -> StatementDocument:
    """The PDF of a client's statement of account: a ready or pending one for the same content, else a new
    PENDING document whose rendering is queued after commit.

    Raises PermissionDeniedError when the actor may not open the client, DomainError for an unknown currency or
    language or a period that ends before it starts.
    """
    _check_can_open(client, actor)
    _check_request(currency, start, end, language)
    statement = _statement(client, currency, start, end, language)
    rating, _delay = client_payment_rating(client)
    key = {
        "client": client,
        "currency": currency,
        "start": start,
        "end": end,
        "language": language,
        "content_hash": statement_content_hash(statement, rating=rating, language=language),
    }
    document = StatementDocument.objects.filter(**key).first() or _create_document(key, actor)
    if document.status == DocumentStatus.FAILED:
        document = _retry(document)
    elif document.status == DocumentStatus.PENDING and document.created_at < timezone.now() - PENDING_TOO_LONG:
        _enqueue(document.pk)  # its message may be lost (a purged queue); a second rendering does nothing
    return document


def _statement(client: Client, currency: str, start: date, end: date, language: str) -> Statement:
    """The statement with its payment and write-off lines worded in ``language``."""
    with translation.override(language):
        return client_statement(client=client, currency=currency, start=start, end=end)


def _create_document(key: dict, actor: User) -> StatementDocument:
    """A new PENDING document, queued after commit; the one a concurrent request created first, if any."""
    try:
        with transaction.atomic():
            document = StatementDocument.objects.create(**key, requested_by=actor)
    except IntegrityError:
        return StatementDocument.objects.get(**key)
    _enqueue(document.pk)
    return document


def _retry(document: StatementDocument) -> StatementDocument:
    """A failed document goes back to PENDING and is queued again (once, however many ask at the same time)."""
    retried = StatementDocument.objects.filter(pk=document.pk, status=DocumentStatus.FAILED).update(
        status=DocumentStatus.PENDING, error=""
    )
    if retried:
        _enqueue(document.pk)
    document.refresh_from_db()
    return document


def _enqueue(document_id: int) -> None:
    from contracts.tasks import render_statement_pdf_task

    enqueue(render_statement_pdf_task, document_id)


def current_statement_document(*, statement: Statement, language: str) -> StatementDocument | None:
    """The document already asked for with the figures ``statement`` shows now, if any (for the statement page:
    a PDF of older figures is not offered for download). The visibility is the caller's: the page's client."""
    rating, _delay = client_payment_rating(statement.client)
    return StatementDocument.objects.filter(
        client=statement.client,
        currency=statement.currency,
        start=statement.start,
        end=statement.end,
        language=language,
        content_hash=statement_content_hash(statement, rating=rating, language=language),
    ).first()


def render_statement_document(*, document_id: int) -> str:
    """Render a PENDING statement document to PDF and store it; return its status.

    The row is locked while it renders: a concurrent or redelivered task waits, then finds it READY and does
    nothing. A READY or FAILED document is left as it is; a missing one (deleted meanwhile) is "missing". An error
    in the template or WeasyPrint marks the document FAILED with the error; a database error propagates, so the
    task retries it.
    """
    with transaction.atomic():
        document = StatementDocument.objects.select_for_update().filter(pk=document_id).first()
        if document is None:
            return "missing"
        if document.status != DocumentStatus.PENDING:
            return document.status
        client = Client.objects.get(pk=document.client_id)
        statement = _statement(client, document.currency, document.start, document.end, document.language)
        rating, _delay = client_payment_rating(client)
        try:
            pdf = statement_pdf(statement, rating=rating, language=document.language)
        except Exception as error:  # whatever WeasyPrint or the template raise, the page says it failed
            logger.exception("Statement document %s failed to render", document.pk)
            return _mark_failed(document, error)
        document.file.save(storage_name(document), ContentFile(pdf), save=False)
        document.status, document.rendered_at, document.error = DocumentStatus.READY, timezone.now(), ""
        document.save(update_fields=["file", "status", "rendered_at", "error"])
    return document.status


def _mark_failed(document: StatementDocument, error: Exception) -> str:
    document.status = DocumentStatus.FAILED
    document.error = f"{type(error).__name__}: {error}"[:ERROR_LENGTH]
    document.save(update_fields=["status", "error"])
    return document.status


def statement_html(statement: Statement, *, rating: str | None, language: str) -> str:
    """The statement as the PDF's HTML, in ``language`` (numbers and dates too)."""
    with translation.override(language):
        return render_to_string(
            TEMPLATE,
            {
                "agency_name": settings.ACCORD_AGENCY_NAME,
                "payment_instructions": settings.ACCORD_PAYMENT_INSTRUCTIONS,
                "statement": statement,
                "client": statement.client,
                "address": client_address(statement.client),
                "rating": rating,
                "rating_label": RATING_LABELS.get(rating, ""),
                "prepared_on": timezone.localdate(),
                "language": language,
            },
        )


def statement_pdf(statement: Statement, *, rating: str | None, language: str) -> bytes:
    from core import pdf  # WeasyPrint takes a second to load: only processes that render a PDF import it

    return pdf.render_pdf(statement_html(statement, rating=rating, language=language))


def client_slug(client: Client) -> str:
    """The client's name for file names, without diacritics: 'Sữa Việt Nam' → 'sua-viet-nam'."""
    words = "".join(char if char.isalnum() else " " for char in fold(client.name)).split()
    return "-".join(words)[:60].strip("-") or f"client-{client.pk}"


def download_filename(document: StatementDocument) -> str:
    """statement-sua-viet-nam-VND-2026-06-30.pdf"""
    return f"statement-{client_slug(document.client)}-{document.currency}-{document.end.isoformat()}.pdf"


def storage_name(document: StatementDocument) -> str:
    return f"statement-{document.client_id}-{document.currency}-{document.end.isoformat()}-{document.pk}.pdf"
