"""Background work of contracts. Tasks are thin: they take ids and call a service that makes them idempotent."""

from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError

from contracts.reminders import BATCH_SIZE, send_renewal_reminders
from contracts.reports import phase_report_deliver
from contracts.sweeps import renew_and_expire_contracts

# Only the database's transient failures (a dropped connection, a lock or statement timeout) are worth a retry;
# a bug would fail the same way again. The sweeps are idempotent, so a retry redoes only what is left. A mail
# server's failures never reach a task: e-mails are queued with the change and retried by the mail queue
# (core/mail.py).
TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)


@shared_task(autoretry_for=TRANSIENT_DATABASE_ERRORS, retry_backoff=30, retry_backoff_max=3600, max_retries=12)
def send_phase_report_task(phase_id: int, actor_id: int) -> bool:
    """E-mail a phase's results report to the client's contacts and log it on the timeline, at most once.

    The phase row is locked and ``report_sent_at`` claimed with the timeline entry: a redelivered or concurrent
    task finds the report sent and does nothing. The e-mails are queued after commit, one task per contact.
    """
    return phase_report_deliver(phase_id=phase_id, actor_id=actor_id)


@shared_task(autoretry_for=TRANSIENT_DATABASE_ERRORS, retry_backoff=30, retry_backoff_max=3600, max_retries=12)
def send_phase_report_email_task(phase_id: int, contact_id: int, actor_id: int) -> None:
    """One contact's copy of a phase's results report, queued for delivery (core/mail.py)."""
    from contracts.reports import phase_report_email

    phase_report_email(phase_id=phase_id, contact_id=contact_id, actor_id=actor_id)


# --- Renewal reminders and the nightly sweep (beat: config/settings.py CELERY_BEAT_SCHEDULE) -------------------


@shared_task(
    autoretry_for=TRANSIENT_DATABASE_ERRORS,
    retry_backoff=60,
    retry_backoff_max=1800,
    max_retries=5,
    soft_time_limit=900,
    time_limit=960,
)
def send_renewal_reminders_task(today: str | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Send the renewal reminders due today (or on ``today``, an ISO date); how many were sent.

    Each (contract, offset) is claimed by a unique row in the same transaction as its notifications: a concurrent
    or redelivered sweep, or a rerun after a worker was killed, never sends one twice and never loses one.
    """
    return send_renewal_reminders(today=date.fromisoformat(today) if today else None, batch_size=batch_size)


@shared_task(
    autoretry_for=TRANSIENT_DATABASE_ERRORS,
    retry_backoff=60,
    retry_backoff_max=1800,
    max_retries=5,
    soft_time_limit=900,
    time_limit=960,
)
def renew_and_expire_contracts_task(today: str | None = None) -> dict[str, int]:
    """Draft the successors of auto-renewing contracts at their notice deadline, then expire ended contracts.

    One successor at most per contract (``renewal_of`` is one-to-one) and one expiry, however often it runs.
    """
    return renew_and_expire_contracts(today=date.fromisoformat(today) if today else None)


# --- Billing (contracts/billing/): invoices from billing schedules, collection follow-ups, statement PDFs ------


@shared_task(
    autoretry_for=TRANSIENT_DATABASE_ERRORS,
    retry_backoff=60,
    retry_backoff_max=1800,
    max_retries=5,
    soft_time_limit=900,
    time_limit=960,
)
def create_scheduled_invoices_task(today: str | None = None) -> int:
    """Issue the invoices the billing schedules of active contracts call for today; how many were created.

    Each schedule item (a month of a retainer, a milestone) is one invoice at most (a unique key per contract).
    """
    from contracts.billing.schedule import create_scheduled_invoices

    return create_scheduled_invoices(today=date.fromisoformat(today) if today else None)


@shared_task(
    autoretry_for=TRANSIENT_DATABASE_ERRORS,
    retry_backoff=60,
    retry_backoff_max=1800,
    max_retries=5,
    soft_time_limit=1800,
    time_limit=1860,
)
def send_collection_follow_ups_task(today: str | None = None, batch_size: int | None = None) -> int:
    """Take the collection follow-ups due today: each (invoice, level) at most once, ever; one e-mail per client."""
    from contracts.billing.collections import BATCH_SIZE, send_follow_ups

    return send_follow_ups(today=date.fromisoformat(today) if today else None, batch_size=batch_size or BATCH_SIZE)


@shared_task(autoretry_for=TRANSIENT_DATABASE_ERRORS, retry_backoff=60, max_retries=5, time_limit=900)
def announce_overdue_invoices_task(today: str | None = None) -> int:
    """Emit the ``invoice.overdue`` webhook once per invoice that became overdue (contracts/billing/overdue.py)."""
    from contracts.billing.overdue import announce_overdue_invoices

    return announce_overdue_invoices(today=date.fromisoformat(today) if today else None)


@shared_task(autoretry_for=TRANSIENT_DATABASE_ERRORS, retry_backoff=30, retry_backoff_max=3600, max_retries=12)
def send_collection_notice_email_task(notice_id: int, contact_id: int) -> bool:
    """One billing contact's copy of a follow-up e-mail, in their language; claimed first, so sent at most once."""
    from contracts.billing.collections import deliver_notice_email

    return deliver_notice_email(notice_id=notice_id, contact_id=contact_id)


@shared_task(
    autoretry_for=TRANSIENT_DATABASE_ERRORS,
    retry_backoff=10,
    max_retries=5,
    soft_time_limit=120,
    time_limit=150,
)
def render_statement_pdf_task(document_id: int) -> str:
    """Render a statement of account to PDF and store it; a document already rendered is left alone."""
    from contracts.billing.statement_pdf import render_statement_document

    return render_statement_document(document_id=document_id)
