"""Background sweeps for clients: SLA breach alerts and the at-risk status from the health score."""

import logging

from celery import shared_task
from django.db.models import F, Q
from django.utils import timezone

from clients import services
from clients.health import AT_RISK_BELOW, annotate_health
from clients.models import Client, ClientStatus
from core.history import record_history

logger = logging.getLogger(__name__)


@shared_task
def notify_sla_breaches_task() -> int:
    """Tell owners about requests that passed their SLA since the last sweep (each request once, ever)."""
    count = services.requests_notify_breaches()
    logger.info("notified %s SLA breaches", count)
    return count


@shared_task
def refresh_client_status_task() -> dict:
    """Active clients whose health fell below 50 become at risk; at-risk clients that recovered become active."""
    scored = annotate_health(Client.objects.filter(status__in=[ClientStatus.ACTIVE, ClientStatus.AT_RISK]))
    to_risk = scored.filter(status=ClientStatus.ACTIVE, health_score__lt=AT_RISK_BELOW).values("pk")
    recovered = scored.filter(status=ClientStatus.AT_RISK, health_score__gte=AT_RISK_BELOW).values("pk")
    # The version moves too, so a form opened before the sweep cannot save the old status back unnoticed.
    now = timezone.now()
    bump = {"version": F("version") + 1, "updated_at": now}
    changed = {
        "at_risk": Client.objects.filter(pk__in=to_risk).update(status=ClientStatus.AT_RISK, **bump),
        "active": Client.objects.filter(Q(pk__in=recovered)).update(status=ClientStatus.ACTIVE, **bump),
    }
    if any(changed.values()):
        # The rows these two updates changed carry their moment: the audit history gets them, with no user.
        record_history(Client.objects.filter(updated_at=now, status__in=[ClientStatus.AT_RISK, ClientStatus.ACTIVE]))
    logger.info("client status refresh: %s", changed)
    return changed
