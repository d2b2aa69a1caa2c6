"""The proposal as a branded PDF: rendered by the worker, stored, and kept while what it prints stays the same.

``printed_content`` gathers everything the PDF shows (header, client, recipient, owner, lines in order, totals,
the agency's brand settings, the language, ``TEMPLATE_VERSION``) as plain values; ``content_hash`` is its SHA-256,
and the template is rendered from those same values, so nothing can be printed that the hash does not cover.

``store_proposal_pdf`` (the body of ``render_proposal_pdf_task``) renders without holding any lock, then writes
under the proposal's row lock after checking again that the proposal still prints what was rendered and that no
other task stored it first: two tasks for the same proposal never both write, a slow task never overwrites a newer
PDF, and editors are never blocked for the seconds a render takes.
"""

import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from core.money import format_money
from proposals.models import Proposal, ProposalStatus, Unit
from proposals.totals import amount_in_words, proposal_totals

logger = logging.getLogger(__name__)

TEMPLATE = "proposals/pdf/proposal.html"
STYLESHEET = "proposals/pdf/proposal.css"
# Part of the content hash: raise it when the PDF's layout or wording changes, so unchanged proposals render anew.
TEMPLATE_VERSION = 1
ERROR_LENGTH = 2000
# A proposal edited while it renders is rendered again, this many times at most (then the next request renders it).
RENDER_ATTEMPTS = 3
# Beyond this many lines the table runs over several pages and the cover's contents give page numbers.
LONG_DOCUMENT_LINES = 15
DEFAULT_BRAND_COLOR = "#4338ca"
HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
# Not yet sent to the client: the PDF says "draft" on every page.
DRAFT_STATUSES = (ProposalStatus.DRAFT, ProposalStatus.PENDING_APPROVAL, ProposalStatus.APPROVED)

# What store_proposal_pdf did.
RENDERED, UNCHANGED, FAILED, MISSING, CHANGED = "rendered", "unchanged", "failed", "missing", "changed"
# Where the proposal's PDF stands, for the download button.
READY, PENDING, NOT_REQUESTED = "ready", "pending", "not_requested"


# --- What the PDF prints -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrintedLine:
    position: int
    description: str
    department: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    amount: Decimal  # after the line's discount


def printed_content(proposal: Proposal) -> dict:
    """Everything the PDF shows, as plain values (two queries: the lines, and the proposal's people)."""
    proposal = _with_people(proposal)
    lines = list(proposal.lines.select_related("department"))
    totals = proposal_totals(lines, currency=proposal.currency, vat_rate=proposal.vat_rate)
    client, recipient, owner = proposal.client, proposal.recipient, proposal.owner
    return {
        "template": TEMPLATE_VERSION,
        "language": proposal.language,
        "brand": brand(),
        "proposal": {
            "number": proposal.number,
            "version": proposal.version,
            "title": proposal.title,
            "date": _issue_date(proposal),
            "valid_until": proposal.valid_until,
            "currency": proposal.currency,
            "vat_rate": proposal.vat_rate,
            "objectives": proposal.objectives,
            "scope": proposal.scope,
            "terms": proposal.terms,
            "is_draft": proposal.status in DRAFT_STATUSES,
        },
        "client": {
            "name": client.name,
            "legal_name": client.legal_name if client.legal_name != client.name else "",
            "address": client.billing_address or client.address,
            "tax_code": client.tax_code,
        },
        "recipient": _person(recipient, job_title=recipient.title) if recipient else None,
        "owner": _person(owner),
        "lines": [
            asdict(_printed_line(position, line, amounts.net))
            for position, (line, amounts) in enumerate(zip(lines, totals.lines, strict=True), start=1)
        ],
        "totals": {
            "subtotal": totals.subtotal,
            "discount": totals.discount,
            "discount_percent": totals.discount_percent,
            "net": totals.net,
            "vat": totals.vat,
            "total": totals.total,
            "in_words": amount_in_words(totals.total, proposal.currency, proposal.language),
        },
    }


def _with_people(proposal: Proposal) -> Proposal:
    """The proposal with its client, recipient and owner loaded in one query, unless the caller has them."""
    cached = proposal._state.fields_cache
    if all(name in cached for name in ("client", "recipient", "owner")):
        return proposal
    people = Proposal.objects.select_related("client", "recipient", "owner").get(pk=proposal.pk)
    for name in ("client", "recipient", "owner"):
        cached.setdefault(name, getattr(people, name))
    return proposal


def _issue_date(proposal: Proposal) -> date:
    """The day it was sent, or (a draft) the day it was started: never the day it happens to be rendered."""
    return timezone.localdate(proposal.sent_at or proposal.created_at)


def _person(person, *, job_title: str = "") -> dict:
    return {"name": person.full_name, "job_title": job_title, "email": person.email, "phone": person.phone}


def _printed_line(position: int, line, amount: Decimal) -> PrintedLine:
    return PrintedLine(
        position=position,
        description=line.description,
        department=line.department.name if line.department else "",
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        discount_percent=line.discount_percent,
        amount=amount,
    )


def brand() -> dict:
    """The agency's name, logo (its static path and a digest of the file, so a new logo renders anew) and colour."""
    color = settings.ACCORD_BRAND_COLOR if HEX_COLOR.match(settings.ACCORD_BRAND_COLOR or "") else None
    return {
        "agency": settings.ACCORD_AGENCY_NAME,
        "logo": settings.ACCORD_BRAND_LOGO,
        "logo_digest": _logo_digest(settings.ACCORD_BRAND_LOGO),
        "color": color or DEFAULT_BRAND_COLOR,
    }


def _logo_digest(logo: str) -> str:
    found = finders.find(logo) if logo else None
    if not found:
        return ""
    path = Path(found)
    return _file_digest(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _file_digest(path: str, modified: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def content_hash(proposal: Proposal) -> str:
    """SHA-256 of what the PDF prints: two proposals with the same hash print the same document."""
    return _digest(printed_content(proposal))


def _digest(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, default=_plain, sort_keys=True).encode()).hexdigest()


def _plain(value) -> str:
    """The same amount hashes the same, whatever exponent it has (1E+1, 10, 10.00)."""
    if isinstance(value, Decimal):
        return f"{value:.4f}"
    return str(value)


# --- Rendering -----------------------------------------------------------------------------------------------


def render_proposal_html(proposal: Proposal) -> str:
    return _html(printed_content(proposal))


def render_proposal_pdf(proposal: Proposal) -> bytes:
    return _pdf(printed_content(proposal))


def render_proposal_document(proposal: Proposal):
    """The proposal laid out in pages (WeasyPrint's Document), as its PDF prints it: to look at the pages' boxes."""
    from core import pdf

    content = printed_content(proposal)
    return pdf.render_document(_html(content), stylesheet=_stylesheet(content["brand"]["color"]))


def _pdf(content: dict) -> bytes:
    from core import pdf  # WeasyPrint takes a second to load: only processes that render a PDF import it

    return pdf.render_pdf(_html(content), stylesheet=_stylesheet(content["brand"]["color"]))


def _stylesheet(color: str) -> str:
    """The PDF's CSS in the brand's colours: the same text for every proposal, so WeasyPrint keeps it parsed."""
    return render_to_string(STYLESHEET, {"colors": _colors(color)})


def _colors(color: str) -> dict:
    return {"brand": color, "tint": _tint(color, 0.9), "soft": _tint(color, 0.75)}


def warm_up() -> None:
    """Load WeasyPrint, the PDF's stylesheet and its fonts in this process (a worker calls it as it starts), so
    the first proposal it renders does not pay for them. Reads no database."""
    from core import pdf

    stylesheet = _stylesheet(brand()["color"])
    pdf.render_pdf("<p>Bảng báo giá <strong>Đồng</strong> 1.000 ₫</p>", stylesheet=stylesheet)


def _html(content: dict) -> str:
    """The PDF's HTML, worded, numbered and dated in the proposal's language; user text is escaped."""
    with translation.override(content["language"]):
        return render_to_string(TEMPLATE, _template_context(content))


def _template_context(content: dict) -> dict:
    currency = content["proposal"]["currency"]
    units = dict(Unit.choices)
    lines = [
        {
            **line,
            "quantity": _number(line["quantity"]),
            "unit": str(units.get(line["unit"], line["unit"])),
            "unit_price": format_money(line["unit_price"], currency),
            "discount_percent": _number(line["discount_percent"]) if line["discount_percent"] else "",
            "amount": format_money(line["amount"], currency),
        }
        for line in content["lines"]
    ]
    totals = content["totals"]
    money = {key: format_money(totals[key], currency) for key in ("subtotal", "discount", "net", "vat", "total")}
    return {
        **content,
        "contents": _contents(content["proposal"]),
        "long_document": len(lines) > LONG_DOCUMENT_LINES,
        "lines": lines,
        "money": money,
        "discount_percent": _number(totals["discount_percent"]),
    }


def _contents(proposal: dict) -> list[tuple[str, str]]:
    """(anchor, heading) of the sections, as numbered in the document (objectives and scope only when written)."""
    sections = [
        ("objectives", _("Objectives")) if proposal["objectives"] else None,
        ("scope", _("Scope of work")) if proposal["scope"] else None,
        ("pricing", _("Pricing")),
        ("terms", _("Terms")),
        ("acceptance", _("Acceptance")),
    ]
    return [section for section in sections if section]


def _number(value: Decimal) -> str:
    """2 → '2', 2.50 → '2.5' (or '2,5' in Vietnamese)."""
    value = value.normalize()
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))
    return number_format(value, use_l10n=True, force_grouping=True)


def _tint(color: str, share: float) -> str:
    """``color`` mixed with ``share`` of white: '#4338ca' at 0.9 → a pale wash of it for backgrounds."""
    digits = color.lstrip("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    channels = [int(digits[index : index + 2], 16) for index in (0, 2, 4)]
    return "#" + "".join(f"{round(channel + (255 - channel) * share):02x}" for channel in channels)


# --- Storing -------------------------------------------------------------------------------------------------


def store_proposal_pdf(proposal_id: int) -> str:
    """Render the proposal's PDF and store it, unless the stored one already prints the same content.

    Returns RENDERED, UNCHANGED (the stored PDF is current, or a concurrent task stored it first), FAILED (the
    template or WeasyPrint raised: the error is kept in ``pdf_error`` for the page to show, nothing is raised),
    MISSING (deleted meanwhile) or CHANGED (edited during every attempt). Database and storage errors propagate,
    so the task retries them.
    """
    for _attempt in range(RENDER_ATTEMPTS):
        proposal = Proposal.objects.select_related("client", "recipient", "owner").filter(pk=proposal_id).first()
        if proposal is None:
            return MISSING
        content = printed_content(proposal)
        digest = _digest(content)
        if proposal.pdf_hash == digest and _file_exists(proposal):
            return UNCHANGED
        try:
            pdf = _pdf(content)
        except Exception as error:  # whatever the template or WeasyPrint raise, the page says it failed
            logger.exception("Proposal %s: the PDF failed to render", proposal_id)
            outcome = _keep_error(proposal_id, digest, error)
        else:
            outcome = _keep_pdf(proposal_id, digest, pdf)
        if outcome != CHANGED:
            return outcome
    return CHANGED


def _file_exists(proposal: Proposal) -> bool:
    return bool(proposal.pdf) and proposal.pdf.storage.exists(proposal.pdf.name)


def _locked_if_unchanged(proposal_id: int, digest: str) -> tuple[Proposal | None, str]:
    """The proposal's row, locked, if it still prints ``digest`` and no PDF of it is stored; else what happened."""
    proposal = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("client", "recipient", "owner")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None:
        return None, MISSING
    if content_hash(proposal) != digest:
        return None, CHANGED
    if proposal.pdf_hash == digest and _file_exists(proposal):
        return None, UNCHANGED
    return proposal, ""


@transaction.atomic
def _keep_pdf(proposal_id: int, digest: str, pdf: bytes) -> str:
    proposal, outcome = _locked_if_unchanged(proposal_id, digest)
    if proposal is None:
        return outcome
    previous = proposal.pdf.name
    proposal.pdf.save(storage_name(proposal), ContentFile(pdf), save=False)
    stored, storage = proposal.pdf.name, proposal.pdf.storage
    if previous and previous != stored:  # the stale file goes once the new one is recorded
        transaction.on_commit(lambda: storage.delete(previous))
    Proposal.objects.filter(pk=proposal_id).update(pdf=stored, pdf_hash=digest, pdf_requested_hash=digest, pdf_error="")
    return RENDERED


@transaction.atomic
def _keep_error(proposal_id: int, digest: str, error: Exception) -> str:
    proposal, outcome = _locked_if_unchanged(proposal_id, digest)
    if proposal is None:
        return outcome
    message = f"{type(error).__name__}: {error}"[:ERROR_LENGTH]
    Proposal.objects.filter(pk=proposal_id).update(pdf_error=message, pdf_requested_hash=digest)
    return FAILED


def storage_name(proposal: Proposal) -> str:
    """BG-2026-00042-v2.pdf (the field's upload_to puts it under proposals/<year>/<month>/)."""
    return f"{proposal.number}-v{proposal.version}.pdf"


def download_filename(proposal: Proposal) -> str:
    return storage_name(proposal)


# --- Where it stands -----------------------------------------------------------------------------------------


def pdf_state(proposal: Proposal) -> str:
    """READY (a stored PDF prints the proposal as it is now), PENDING (asked for, the worker is on it), FAILED
    (the last render of this content failed) or NOT_REQUESTED (never asked for, or the proposal changed since)."""
    digest = content_hash(proposal)
    if proposal.pdf and proposal.pdf_hash == digest:
        return READY
    if proposal.pdf_requested_hash == digest:
        return FAILED if proposal.pdf_error else PENDING
    return NOT_REQUESTED
