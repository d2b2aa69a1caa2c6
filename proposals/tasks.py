"""Background work of proposals: the PDF, the e-mail with the client's link, the daily expiry sweep.

Tasks are thin: they take ids and call code that makes them idempotent. Beat (config/settings.py
CELERY_BEAT_SCHEDULE): ``expire_proposals_task`` daily just after midnight, local time.

The client's e-mail is claimed, not just sent: under the proposal's row lock, only while the proposal is still
out with the client on the link of that send (``token_nonce``), and only if no e-mail for that link was recorded
yet; the record (a system "sent" event carrying the link's fingerprint) is written in the same transaction as the
message is queued (core/mail.py, which delivers it and retries a mail server that refuses). A concurrent or
redelivered task waits for the lock and then finds the record.
"""

import hashlib
import logging
import threading
import time
from datetime import date

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

# Only transient failures are worth a retry: a dropped database connection or lock timeout, a storage backend
# that does not answer (a mail server's failures never reach a task: core/mail.py queues and retries e-mails).
# A bug would fail the same way again; a template WeasyPrint cannot render is recorded on the proposal instead
# (proposals.pdf).
TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)
TRANSIENT_NETWORK_ERRORS = (ConnectionError, TimeoutError)
EMAIL_TEMPLATES = "proposals/email"
EMAIL_LANGUAGES = ("vi", "en")

logger = logging.getLogger(__name__)


# --- Warming the worker --------------------------------------------------------------------------------------
# A worker loads WeasyPrint, the PDF's stylesheet and its fonts as it starts (a second or more), not in the first
# proposal PDF it renders. ``worker_process_init`` comes in each process of a prefork pool once forked (Fontconfig
# and Pango are not loaded in the parent, whose state would not survive the fork) and in a solo worker's process.
# The warm-up runs beside it, in a thread: the pool gives a new process only a few seconds to report that it is up
# (``worker_proc_alive_timeout``), and a task that comes meanwhile waits for the stylesheet being prepared.


@worker_process_init.connect
def warm_up_pdf_renderer(**kwargs) -> None:
    threading.Thread(target=_warm_up_pdf, name="pdf-warm-up", daemon=True).start()


def _warm_up_pdf() -> None:
    from proposals.pdf import warm_up

    started = time.monotonic()
    try:
        warm_up()
    except Exception:  # the first PDF pays for it instead (and reports what fails)
        logger.exception("Warming up the PDF renderer failed")
    else:
        logger.info("PDF renderer warmed up in %.2f s", time.monotonic() - started)


@shared_task(
    autoretry_for=(*TRANSIENT_DATABASE_ERRORS, *TRANSIENT_NETWORK_ERRORS),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=5,
    soft_time_limit=120,
    time_limit=150,
)
def render_proposal_pdf_task(proposal_id: int) -> str:
    """Render the proposal's PDF and store it, unless the stored one already prints the same content.

    Two tasks for the same proposal never both write (the write happens under the row lock, after checking that
    the proposal still prints what was rendered and no other task stored it first); a rendering error is kept on
    the proposal for its page to show, not raised.
    """
    from proposals.pdf import store_proposal_pdf  # imports WeasyPrint: only processes that render a PDF load it

    return store_proposal_pdf(proposal_id)


@shared_task(
    autoretry_for=TRANSIENT_DATABASE_ERRORS,
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=12,
    soft_time_limit=60,
    time_limit=90,
)
def send_proposal_email_task(proposal_id: int, nonce: str) -> bool:
    """E-mail the recipient the link issued with ``nonce``, at most once; True when this task sent it.

    Nothing is sent when the proposal was sent again since (a new nonce: that send has its own e-mail), when it is
    no longer out with the client (superseded, answered, expired), or when its recipient has no e-mail address.
    """
    return deliver_proposal_email(proposal_id=proposal_id, nonce=nonce)


@shared_task(
    autoretry_for=TRANSIENT_DATABASE_ERRORS,
    retry_backoff=60,
    retry_backoff_max=1800,
    max_retries=5,
    soft_time_limit=600,
    time_limit=660,
)
def expire_proposals_task(today: str | None = None) -> int:
    """Expire the sent proposals past their validity date (``today``: an ISO date); how many expired.

    Batch after batch (the service takes at most a thousand at a time, skipping rows locked by someone else), each
    in its own transaction; an expired proposal is never expired again, so a rerun only does what is left.
    """
    from proposals.services import expire_proposals

    day = date.fromisoformat(today) if today else None
    total = 0
    while expired := expire_proposals(today=day):
        total += expired
    return total


# --- The client's e-mail -------------------------------------------------------------------------------------


def deliver_proposal_email(*, proposal_id: int, nonce: str) -> bool:
    """Claim and send the e-mail of one send (see the module's docstring)."""
    from proposals.models import Proposal, ProposalEvent, ProposalEventKind, ProposalStatus

    with transaction.atomic():
        proposal = (
            Proposal.objects.select_for_update(of=("self",))
            .select_related("client", "recipient", "owner")
            .filter(pk=proposal_id, token_nonce=nonce, status=ProposalStatus.SENT)
            .first()
        )
        if proposal is None or proposal.recipient is None or not proposal.recipient.email:
            return False
        mark = link_mark(nonce)
        if ProposalEvent.objects.filter(proposal=proposal, kind=ProposalEventKind.SENT, note__endswith=mark).exists():
            return False
        message = proposal_message(proposal)
        with translation.override(proposal.owner.preferred_language):  # the history is read by the agency
            note = _("E-mailed to %(email)s") % {"email": proposal.recipient.email}
        ProposalEvent.objects.create(proposal=proposal, kind=ProposalEventKind.SENT, note=f"{note} {mark}")
        message.send()
    return True


def link_mark(nonce: str) -> str:
    """The link's fingerprint in the history: tells links apart without writing the nonce itself anywhere."""
    return f"[{hashlib.sha256(nonce.encode()).hexdigest()[:10]}]"


def proposal_message(proposal) -> EmailMultiAlternatives:
    """The recipient's e-mail, text and HTML, in the proposal's language: the link, its validity and the owner.

    No PDF attached: the link offers it, and keeps the e-mail light.
    """
    from proposals.pdf import brand
    from proposals.services import public_url

    language = proposal.language if proposal.language in EMAIL_LANGUAGES else "vi"
    owner = proposal.owner
    context = {
        "agency_name": settings.ACCORD_AGENCY_NAME,
        "proposal": proposal,
        "client": proposal.client,
        "recipient": proposal.recipient,
        "owner": owner,
        "link": public_url(proposal),
        "brand_color": brand()["color"],
    }
    with translation.override(language):
        subject = " ".join(render_to_string(f"{EMAIL_TEMPLATES}/subject_{language}.txt", context).split())
        context["subject"] = subject
        text = render_to_string(f"{EMAIL_TEMPLATES}/proposal_{language}.txt", context)
        html = render_to_string(f"{EMAIL_TEMPLATES}/proposal_{language}.html", context)
    message = EmailMultiAlternatives(
        subject=f"[{settings.ACCORD_AGENCY_NAME}] {subject}",
        body=text,
        to=[proposal.recipient.email],
        reply_to=[owner.email] if owner.email else None,
        headers={"Content-Language": language},
    )
    message.attach_alternative(html, "text/html")
    return message
