"""The follow-up e-mail: one billing contact's copy, in their language, sent at most once."""

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import translation

from clients.models import Contact
from contracts.billing.selectors import totals_by_currency
from contracts.models import CollectionLevel, CollectionNotice, Invoice

from .claims import claim_delivery
from .rules import chased_invoices

logger = logging.getLogger(__name__)

TEMPLATE_LANGUAGES = ("vi", "en")
TEMPLATES = "contracts/billing/email"


@dataclass(frozen=True)
class NoticeLine:
    number: str
    issue_date: date
    due_date: date
    gross: Decimal
    outstanding: Decimal
    currency: str
    days_overdue: int  # negative: due in that many days


def notice_invoices(*, client_id: int, day: date) -> QuerySet[Invoice]:
    """What a client's follow-up e-mail of ``day`` lists, as the invoices stand now (a payment made since the
    sweep is left out)."""
    return chased_invoices(day).filter(client_id=client_id).order_by("due_date", "pk")


def notice_message(
    *, notice: CollectionNotice, contact: Contact, lines: list[NoticeLine], balances: list[dict]
) -> EmailMultiAlternatives:
    """One billing contact's copy, text and HTML, in their language (vi or en); the account manager in CC on a
    final notice. No links into Accord: the client has no account there."""
    language = contact.preferred_language if contact.preferred_language in TEMPLATE_LANGUAGES else "vi"
    owner = notice.client.owner
    reachable_owner = owner if owner.is_active and owner.email else None
    context = {
        "agency_name": settings.ACCORD_AGENCY_NAME,
        "client": notice.client,
        "contact": contact,
        "level": notice.level,
        "lines": lines,
        "balances": [(row["currency"], row["outstanding"]) for row in balances],
        "payment_instructions": getattr(settings, "ACCORD_PAYMENT_INSTRUCTIONS", ""),
        "account_manager": reachable_owner,
        "final": notice.level == CollectionLevel.FINAL,
    }
    with translation.override(language):
        subject = " ".join(render_to_string(f"{TEMPLATES}/notice_subject_{language}.txt", context).split())
        context["subject"] = subject
        text = render_to_string(f"{TEMPLATES}/notice_{language}.txt", context)
        html = render_to_string(f"{TEMPLATES}/notice_{language}.html", context)
    message = EmailMultiAlternatives(
        subject=f"[{settings.ACCORD_AGENCY_NAME}] {subject}",
        body=text,
        to=[contact.email],
        cc=[reachable_owner.email] if context["final"] and reachable_owner else [],
        reply_to=[reachable_owner.email] if reachable_owner else None,
        headers={"Content-Language": language},
    )
    message.attach_alternative(html, "text/html")
    return message


def deliver_notice_email(*, notice_id: int, contact_id: int) -> bool:
    """Send one billing contact their copy of a client's follow-up e-mail, at most once.

    The NoticeDelivery row is claimed and the message queued (core/mail.py) in one transaction: a concurrent or
    redelivered task waits for the claim and then sends nothing; the mail queue retries a mail server that refuses.
    False when already sent, or when nothing is left to ask for (paid, paused or disputed since the sweep), or
    when the contact is gone or has no e-mail address any more.
    """
    notice = (
        CollectionNotice.objects.select_related("client__owner")
        .exclude(level=CollectionLevel.ESCALATED)
        .filter(pk=notice_id)
        .first()
    )
    if notice is None:
        return False
    contact = Contact.objects.filter(pk=contact_id, client_id=notice.client_id).exclude(email="").first()
    if contact is None:
        return False
    invoices = notice_invoices(client_id=notice.client_id, day=notice.sent_on)
    lines = [_line(invoice, notice.sent_on) for invoice in invoices]
    if not lines:
        logger.info("collection notice %s: nothing left to ask %s for", notice_id, contact_id)
        return False
    message = notice_message(notice=notice, contact=contact, lines=lines, balances=totals_by_currency(invoices))
    with transaction.atomic():
        if not claim_delivery(notice.pk, contact.pk):
            return False
        message.send()
    return True


def _line(invoice: Invoice, day: date) -> NoticeLine:
    return NoticeLine(
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        gross=invoice.gross_amount,
        outstanding=invoice.gross_amount - invoice.paid_amount,
        currency=invoice.currency,
        days_overdue=(day - invoice.due_date).days,
    )
