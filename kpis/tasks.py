"""Background work of the KPIs: the weekly digest to directors (beat: Mondays 08:00, local time)."""

import logging
from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from .digest import digest_recipients, digest_send, week_of

logger = logging.getLogger(__name__)


@shared_task
def send_kpi_digest_task(today: str | None = None) -> int:
    """Queue the digest of this ISO week (of ``today``, an ISO date, when given) for every active director;
    returns how many were queued.

    Safe to run any number of times a week: each director's copy is sent at most once per week (kpis.digest).
    """
    monday = week_of(date.fromisoformat(today) if today else timezone.localdate())
    directors = list(digest_recipients().values_list("pk", flat=True))
    for director_id in directors:
        send_kpi_digest_to_director_task.delay(director_id, monday.isoformat())
    logger.info("KPI digest of the week of %s queued for %s directors", monday, len(directors))
    return len(directors)


@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
)
def send_kpi_digest_to_director_task(director_id: int, monday: str) -> bool:
    """E-mail one director the digest of the week starting ``monday`` (ISO date), at most once; the e-mail is
    queued with the week's record (core/mail.py retries a mail server that refuses), a dropped database
    connection is retried with backoff."""
    return digest_send(director_id=director_id, monday=date.fromisoformat(monday))
