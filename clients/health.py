"""The client health score, 0–100: one set of rules, computed in SQL for lists and explained on the client page.

Factors so far (later issues add overdue receivables, renewals without a renewal deal and budget overruns):
- days since the last activity (or since the client was created, when it has none);
- open urgent requests.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import connections
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
from django.db.models.functions import Coalesce, Greatest
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

    ``annotations(now)`` returns the SQL annotations it needs on clients (for ``explain``), ``penalty(now)`` an
    integer expression of the points lost (over those annotations, or better, with no look-up per client: a list of
    every client scored runs it on thousands), and ``explain(client, now)`` the Factor to show, or None when it
    costs nothing.
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
    penalty = Subquery(inactivity, output_field=IntegerField()) + _urgent_penalty()
    for rule in RULES:
        clients = clients.annotate(**rule.annotations(now))
        penalty = penalty + rule.penalty(now)
    return clients.annotate(health_score=Greatest(Value(100) - penalty, Value(0)))


def _urgent_penalty() -> Case:
    """Points lost for open urgent requests, as ``open_urgent_requests`` counts them: two sets of clients (with one
    or more, with enough to reach the cap) computed once for the whole list, instead of a count per client."""
    from clients.models import OPEN_REQUEST_STATUSES, Priority, Request

    open_urgent = Request.objects.filter(priority=Priority.URGENT, status__in=OPEN_REQUEST_STATUSES).order_by()
    capped_at = -(-URGENT_POINTS_MAX // URGENT_POINTS_EACH)  # requests that reach the cap
    return tiered_penalty(
        [
            (
                open_urgent.values("client").annotate(n=Count("pk")).filter(n__gte=count).values("client"),
                min(count * URGENT_POINTS_EACH, URGENT_POINTS_MAX),
            )
            for count in range(capped_at, 0, -1)
        ]
    )


def tiered_penalty(tiers: list[tuple[QuerySet, int]]) -> Case:
    """The points of sets of client ids that nest, each in the next (the clients with 2 urgent requests or more
    among those with 1 or more), the narrowest first: ``(clients, points)``. The widest is asked first: a client in
    none of them, most clients, costs one hashed look-up instead of one per set."""
    *narrower, (widest, fewest_points) = tiers
    within_widest = Case(
        *[When(pk__in=clients, then=Value(points)) for clients, points in narrower],
        default=Value(fewest_points),
        output_field=IntegerField(),
    )
    return Case(When(pk__in=widest, then=within_widest), default=Value(0), output_field=IntegerField())


def least_healthy(clients: QuerySet, *, limit: int, below: int = AT_RISK_BELOW, now=None) -> tuple[list, int]:
    """The clients scoring under ``below``, the least healthy first (then by name), at most ``limit`` of them, and
    how many there are, in one query. Each client's score is computed once, in a derived table: filtering, ordering
    and counting on the annotation itself would compute it up to three times per client. The clients come back
    with ``health_score`` and their owner's name only (``client.owner.full_name``), ready for a list."""
    from accounts.models import User

    columns = {
        "scored_id": F("pk"),
        "scored_name": F("name"),
        "scored_owner": F("owner_id"),
        "scored_owner_name": F("owner__full_name"),
        "score": F("health_score"),
    }
    scored = annotate_health(clients.order_by(), now).annotate(**columns).values_list(*columns)
    sql, params = scored.query.sql_with_params()
    connection = connections[clients.db]
    # PostgreSQL would push the filter into the derived table (and compute the score twice): OFFSET 0 stops it.
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT scored_id, scored_name, scored_owner, scored_owner_name, score, COUNT(*) OVER () "  # noqa: S608 - the ORM's SQL
            f"FROM ({sql}{fence}) scored WHERE score < %s ORDER BY score, scored_name, scored_id LIMIT %s",
            [*params, below, limit],
        )
        rows = cursor.fetchall()
    page = []
    for pk, name, owner_id, owner_name, score, _total in rows:
        client = clients.model(pk=pk, name=name, owner=User(pk=owner_id, full_name=owner_name))
        client.health_score = score
        page.append(client)
    return page, (rows[0][-1] if rows else 0)


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
