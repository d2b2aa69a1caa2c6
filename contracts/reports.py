"""A phase's results report e-mailed to the client's contacts, and recorded on the client's timeline.

The view calls ``phase_send_report``: it checks who may send what to whom and queues the work after commit.
The task calls ``phase_report_deliver``: under the phase's row lock it claims the send (``report_sent_at``) and
logs the status report on the timeline, so a redelivered or concurrent task finds the report sent and does
nothing; after commit each contact's e-mail (in their language) is a task of its own.
"""

import logging
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from clients.models import ActivityKind, Client, Contact
from clients.services import activity_log
from contracts.models import Contract, Phase
from core.errors import ConflictError, DomainError, PermissionDeniedError
from core.outbox import enqueue

logger = logging.getLogger(__name__)


def report_recipients(client: Client) -> QuerySet[Contact]:
    """The client's decision makers and day-to-day contacts who have an e-mail address."""
    return (
        Contact.objects.filter(client=client)
        .filter(Q(is_decision_maker=True) | Q(is_day_to_day=True))
        .exclude(email="")
        .order_by("full_name", "pk")
    )


def _check_can_send(phase: Phase, actor: User) -> None:
    contract = phase.contract
    if not Contract.objects.editable_by(actor).filter(pk=contract.pk).exists():
        raise PermissionDeniedError(
            _("Only the deal's owner, the client's owner or a director can change this contract.")
        )
    # The report lands on the client's timeline, which only the client's owner (or a director) writes to.
    if not Client.objects.editable_by(actor).filter(pk=contract.client_id).exists():
        raise PermissionDeniedError(_("Only the client's owner or a director can send reports to the client."))


@transaction.atomic
def phase_send_report(*, phase: Phase, actor: User) -> list[Contact]:
    """Send the phase's results report to the client's decision makers and day-to-day contacts.

    Returns the contacts it goes to. The e-mails, ``report_sent_at`` and the status report on the client's
    timeline follow after commit (``send_phase_report_task``), at most once per phase. Raises
    PermissionDeniedError (not the contract's or the client's owner, nor a director), ConflictError (already
    sent) or DomainError (no report written, no contact with an e-mail); nothing is queued then.
    """
    _check_can_send(phase, actor)
    phase = Phase.objects.select_related("contract__client").get(pk=phase.pk)
    if phase.report_sent_at:
        raise ConflictError(
            _("This report was already sent on %(date)s.")
            % {"date": timezone.localtime(phase.report_sent_at).strftime("%Y-%m-%d %H:%M")},
            code="already_sent",
        )
    if not phase.report.strip():
        message = _("Write the report before sending it.")
        raise DomainError(message, code="no_report", fields={"report": [message]})
    recipients = list(report_recipients(phase.contract.client))
    if not recipients:
        raise DomainError(
            _("No decision maker or day-to-day contact of this client has an e-mail address."), code="no_recipients"
        )
    from contracts.tasks import send_phase_report_task

    phase_id, actor_id = phase.pk, actor.pk
    enqueue(send_phase_report_task, phase_id, actor_id)
    return recipients


def _message(phase: Phase, contact: Contact, actor: User) -> EmailMessage:
    """The report for one contact, with the fixed wording in the contact's language."""
    contract = phase.contract
    with translation.override(contact.preferred_language):
        context = {
            "phase": phase,
            "contract": contract,
            "contact": contact,
            "sender": actor,
            "agency_name": settings.ACCORD_AGENCY_NAME,
        }
        subject = _("Results report: %(phase)s · %(contract)s") % {"phase": phase.name, "contract": contract.title}
        body = render_to_string("contracts/email/phase_report.txt", context)
    return EmailMessage(
        subject=f"[{settings.ACCORD_AGENCY_NAME}] {subject}",
        body=body,
        to=[contact.email],
        reply_to=[actor.email] if actor.email else None,
        headers={"Content-Language": contact.preferred_language},
    )


@transaction.atomic
def phase_report_deliver(*, phase_id: int, actor_id: int) -> bool:
    """Record the report as sent, once, and queue one e-mail per contact after commit.

    False if it was already sent (or nobody is left to send it to). Each contact's e-mail is its own task and its
    own row in the mail queue (core/mail.py), retried alone when the mail server refuses it.
    """
    phase = (
        Phase.objects.select_for_update(of=("self",))
        .select_related("contract__client")
        .filter(pk=phase_id, report_sent_at__isnull=True)
        .first()
    )
    if phase is None:
        return False
    actor = User.objects.get(pk=actor_id)
    recipients = list(report_recipients(phase.contract.client))
    if not recipients:
        logger.warning("phase %s: no contact left to send the report to", phase_id)
        return False
    now = timezone.now()
    Phase.objects.filter(pk=phase.pk).update(report_sent_at=now, updated_at=now)
    with translation.override(actor.preferred_language):
        activity_log(
            client=phase.contract.client,
            actor=actor,
            kind=ActivityKind.STATUS_REPORT,
            subject=(
                _("Results report sent: %(phase)s (%(number)s)")
                % {"phase": phase.name, "number": phase.contract.number}
            )[:200],
            body=_("Sent to: %(recipients)s") % {"recipients": ", ".join(_address(contact) for contact in recipients)}
            + "\n\n"
            + phase.report,
            occurred_at=now,
        )
    from contracts.tasks import send_phase_report_email_task

    for contact in recipients:
        transaction.on_commit(partial(send_phase_report_email_task.delay, phase.pk, contact.pk, actor.pk))
    return True


def phase_report_email(*, phase_id: int, contact_id: int, actor_id: int) -> None:
    """Queue one contact's copy of the phase's results report (core/mail.py delivers and retries it)."""
    phase = Phase.objects.select_related("contract__client").get(pk=phase_id)
    contact = Contact.objects.get(pk=contact_id)
    _message(phase, contact, User.objects.get(pk=actor_id)).send()


def _address(contact: Contact) -> str:
    return f"{contact.full_name} <{contact.email}>"
