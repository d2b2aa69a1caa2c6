"""The client health score, 0–100: one set of rules, computed in SQL for lists and explained on the client page.

Factors so far (later issues add overdue receivables, renewals without a renewal deal and budget overruns):
- days since the last activity (or since the client was created, when it has none);
- open urgent requests.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

AT_RISK_BELOW = 50
# (days without any activity, points lost), the longest first
INACTIVITY_RULES = ((90, 55), (60, 30), (30, 15))
URGENT_POINTS_EACH = 15
URGENT_POINTS_MAX = 30


@dataclass(frozen=True)
class Factor:
    label: str
    points: int
    detail: str


@dataclass(frozen=True)
class HealthRule:
    """A factor another app adds (contracts: renewals; billing: receivables), without clients importing it.

    ``annotations(now)`` returns the SQL annotations it needs on clients, ``penalty()`` an integer expression over
    them (points lost), and ``explain(client, now)`` the Factor to show, or None when it costs nothing.
    """

    annotations: Callable
    penalty: Callable
    explain: Callable


RULES: list[HealthRule] = []


def register_health_rule(rule: HealthRule) -> None:
    RULES.append(rule)


def annotate_health(clients: QuerySet, now=None) -> QuerySet:
    """Add last_activity_at, last_touch_at, open_urgent_requests and health_score (SQL, no per-row queries)."""
    from clients.models import OPEN_REQUEST_STATUSES, Activity, Priority, Request

    now = now or timezone.now()
    # A meeting planned for next month is no sign of life today.
    activities = Activity.objects.filter(client=OuterRef("pk"), occurred_at__lte=now, is_system=False).order_by()
    last_activity = activities.order_by("-occurred_at").values("occurred_at")[:1]
    # One look-up per client for the score: a CASE over the last_touch_at annotation would repeat its subquery once
    # per rule, while MAX() without GROUP BY returns one row even for a client without activities.
    last_touch = Coalesce(Func(F("occurred_at"), function="MAX"), OuterRef("created_at"))
    rules = [
        When(LessThan(last_touch, now - timedelta(days=days)), then=Value(points)) for days, points in INACTIVITY_RULES
    ]
    inactivity = activities.values(points=Case(*rules, default=Value(0), output_field=IntegerField()))
    urgent = (
        Request.objects.filter(client=OuterRef("pk"), priority=Priority.URGENT, status__in=OPEN_REQUEST_STATUSES)
        .order_by()
        .values("client")
        .annotate(n=Count("pk"))
        .values("n")
    )
    clients = clients.annotate(
        last_activity_at=Subquery(last_activity, output_field=DateTimeField()),
        last_touch_at=Coalesce(F("last_activity_at"), F("created_at")),
        open_urgent_requests=Coalesce(Subquery(urgent, output_field=IntegerField()), Value(0)),
    )
    penalty = Subquery(inactivity, output_field=IntegerField()) + Least(
        F("open_urgent_requests") * URGENT_POINTS_EACH, Value(URGENT_POINTS_MAX)
    )
    for rule in RULES:
        clients = clients.annotate(**rule.annotations(now))
        penalty = penalty + rule.penalty()
    return clients.annotate(health_score=Greatest(Value(100) - penalty, Value(0)))


def health_factors(client, now=None) -> list[Factor]:
    """What cost the client points, from the values ``annotate_health`` put on it."""
    now = now or timezone.now()
    factors = []
    idle = now - client.last_touch_at
    idle_days = idle.days
    for days, points in INACTIVITY_RULES:
        if idle > timedelta(days=days):
            detail = ngettext("No activity for %(days)d day.", "No activity for %(days)d days.", idle_days)
            factors.append(Factor(str(_("Days since the last activity")), points, detail % {"days": idle_days}))
            break
    if client.open_urgent_requests:
        points = min(client.open_urgent_requests * URGENT_POINTS_EACH, URGENT_POINTS_MAX)
        detail = ngettext(
            "%(count)d urgent request is open.",
            "%(count)d urgent requests are open.",
            client.open_urgent_requests,
        )
        factors.append(Factor(str(_("Open urgent requests")), points, detail % {"count": client.open_urgent_requests}))
    factors.extend(factor for rule in RULES if (factor := rule.explain(client, now)) is not None)
    return factors
