"""Reads for clients. Pages, the API, exports and search all start here, so their numbers agree."""

from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from clients import search
from clients.health import annotate_health, least_healthy
from clients.models import (
    OPEN_REQUEST_STATUSES,
    Activity,
    Client,
    ClientStatus,
    Contact,
    Handover,
    Partner,
    PartnerRelationship,
    Request,
)
from clients.text import fold
from core.history import HistorySource

CLIENT_ORDERINGS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "health": ("health_score", "name"),
    "-health": ("-health_score", "name"),
    "last_activity": ("last_touch_at", "name"),
    "-last_activity": ("-last_touch_at", "name"),
    "created": ("created_at", "pk"),
    "-created": ("-created_at", "-pk"),
    "tier": ("tier", "name"),
    "owner": ("owner__full_name", "name"),
}


def _open_request_count() -> Subquery:
    counts = (
        Request.objects.filter(client=OuterRef("pk"), status__in=OPEN_REQUEST_STATUSES)
        .order_by()
        .values("client")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), Value(0))


def words_filter(query: str, field: str = "search_text") -> Q:
    """Every word of the query, diacritics ignored, somewhere in ``field``: 'nguyen thu' finds 'Nguyễn Thị Thu'."""
    condition = Q()
    for word in fold(query)[:100].split()[:8]:  # bounded: a pasted essay is not a query
        condition &= Q(**{f"{field}__contains": word})
    return condition


def client_name_or_detail_filter(*, user: User, query: str, with_contacts: bool = True) -> Q:
    """What a user may find a client by: everything for clients they may open, the name alone for the others."""
    if not fold(query):
        return Q()
    detailed = Client.objects.detailed_for(user).values("pk")
    details = client_search_filter(query) if with_contacts else words_filter(query)
    return words_filter(query, "search_name") | (Q(pk__in=detailed) & details)


def client_search_filter(query: str) -> Q:
    """Name, legal name, tax code or city, or a contact's name, e-mail or phone; diacritics ignored."""
    if not fold(query):
        return Q()
    contact_match = Contact.objects.filter(words_filter(query), client=OuterRef("pk"))
    return words_filter(query) | Q(Exists(contact_match))


def client_list(*, user: User, query: str = "", ordering: str = "name") -> QuerySet[Client]:
    """Clients the user may know about, with owner, team, health score, last activity and open requests."""
    clients = (
        Client.objects.visible_to(user)
        .filter(client_name_or_detail_filter(user=user, query=query))
        .select_related("owner", "team")
        .prefetch_related("tags")
        .annotate(open_requests=_open_request_count())
    )
    return annotate_health(clients).order_by(*CLIENT_ORDERINGS.get(ordering, CLIENT_ORDERINGS["name"]))


def client_order_kept(clients: QuerySet[Client], parts: tuple) -> list[int]:
    """The ids of ``clients`` in their order, kept as the home pages keep their clients at risk: until a contract,
    an invoice or a client's own health input changes, and for the day (a score also moves with time alone). The
    list page then counts and pages them without a query: sorting 10k clients by health scores every one of them
    costs 20–25 ms, counting them 5 ms, a search that matches 8k of them through their contacts 30 ms (the clients'
    revision includes the contacts'). ``parts`` name the list (who asks, its search, filters and sort). One query
    (the revisions) while kept. What the revisions cannot see shows within ``kpis.cache.TIMEOUT`` (2 minutes): an
    owner renamed (the sort by owner), a tag renamed or an activity edited in the admin, a transaction committing
    rows stamped before ones committed earlier; meanwhile a page may hold fewer rows than the count says, never a
    client the user may not see (the rows are read through the user's own list)."""
    from kpis import cache as kpi_cache

    return kpi_cache.cached_until_clients_change(
        "client-order", parts, lambda: list(clients.values_list("pk", flat=True))
    )


def client_detail(*, user: User) -> QuerySet[Client]:
    """The clients whose page the user may open, ready for the overview."""
    clients = (
        Client.objects.detailed_for(user)
        .select_related("owner", "team")
        .prefetch_related("tags")
        .annotate(open_requests=_open_request_count())
    )
    return annotate_health(clients)


def users_who_can_open(*, client: Client) -> QuerySet[User]:
    """Active colleagues who may open this client: who may own its next steps (mirrors detailed_for)."""
    team_mates = Q(team=client.team_id, role="account_manager") if client.team_id else Q(pk__in=[])
    return User.objects.filter(
        Q(pk=client.owner_id) | team_mates | Q(role__in=["director", "admin", "finance"]), is_active=True
    ).order_by("full_name")


def can_edit_client(*, user: User, client: Client) -> bool:
    return Client.objects.editable_by(user).filter(pk=client.pk).exists()


def contact_list(*, user: User) -> QuerySet[Contact]:
    return Contact.objects.visible_to(user).select_related("client")


def timeline(*, client: Client) -> QuerySet[Activity]:
    return Activity.objects.filter(client=client).select_related("author", "contact", "next_step_owner")


def activity_list(*, user: User) -> QuerySet[Activity]:
    return Activity.objects.visible_to(user).select_related("client", "author", "contact", "next_step_owner")


def request_list(*, user: User) -> QuerySet[Request]:
    handovers = Handover.objects.select_related("department", "assignee")
    return (
        Request.objects.visible_to(user)
        .select_related("client", "owner", "contact")
        .prefetch_related(Prefetch("handovers", queryset=handovers))
    )


def request_detail(*, user: User) -> QuerySet[Request]:
    """Requests whose client the user may open, and those handed over to them."""
    handovers = Handover.objects.select_related("department", "assignee", "created_by")
    assigned = Handover.objects.open().filter(assignee=user.pk).values("request")
    visible = Request.objects.filter(Q(pk__in=Request.objects.visible_to(user).values("pk")) | Q(pk__in=assigned))
    return visible.select_related("client", "owner", "contact").prefetch_related(
        Prefetch("handovers", queryset=handovers)
    )


def handover_list(*, user: User) -> QuerySet[Handover]:
    return Handover.objects.visible_to(user).select_related("request__client", "department", "assignee", "created_by")


def partner_list(*, user: User) -> QuerySet[Partner]:
    """Partners with how many of the user's visible clients each serves."""
    visible_clients = Client.objects.detailed_for(user).values("pk")
    served = (
        PartnerRelationship.objects.filter(partner=OuterRef("pk"), client__in=visible_clients)
        .order_by()
        .values("partner")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Partner.objects.visible_to(user).annotate(client_count=Coalesce(Subquery(served), Value(0)))


def partner_relationships(*, user: User) -> QuerySet[PartnerRelationship]:
    return PartnerRelationship.objects.visible_to(user).select_related("partner", "client", "client__owner")


def my_day(*, user: User, now=None) -> dict:
    """The account manager's start of the day: overdue next steps, requests near or past the SLA, clients at risk."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    next_steps = (
        Activity.objects.open_next_steps()
        .filter(next_step_owner=user, next_step_due__lte=today + timedelta(days=1))
        .select_related("client", "next_step_owner")
        .order_by("next_step_due", "pk")
    )
    mine = Request.objects.visible_to(user).filter(owner=user).select_related("client")
    at_risk, _count = _least_healthy_kept(("my-day", user.pk), client_list(user=user).filter(owner=user), limit=10)
    handovers = Handover.objects.open().filter(assignee=user).select_related("request__client", "department")
    return {
        "next_steps": next_steps[:20],
        "breached_requests": mine.breached(now).filter(status__in=OPEN_REQUEST_STATUSES).order_by("sla_due_at")[:20],
        "near_sla_requests": mine.near_sla(now).order_by("sla_due_at")[:20],
        "at_risk_clients": at_risk,
        "my_handovers": handovers.order_by("due_date")[:20],
        "today": today,
    }


SEARCH_LIMIT = 8


def global_search(*, user: User, query: str, limit: int = SEARCH_LIMIT) -> dict:
    """Clients, contacts and partners matching ``query`` (diacritics ignored), each within what the user may see."""
    folded = fold(query)
    if len(folded) < 2:
        return {"query": query, "clients": [], "contacts": [], "partners": [], "groups": [], "too_short": True}
    clients = (
        Client.objects.visible_to(user)
        .filter(client_name_or_detail_filter(user=user, query=query, with_contacts=False))  # contacts come below
        .select_related("owner")
        .order_by("name")[:limit]
    )
    contacts = (
        Contact.objects.visible_to(user)
        .filter(words_filter(query))
        .select_related("client")
        .order_by("full_name")[:limit]
    )
    partners = Partner.objects.visible_to(user).filter(words_filter(query)).order_by("name")[:limit]
    groups = [{"group": group, "hits": group.search(user, query, limit)} for group in search.GROUPS]
    return {
        "query": query,
        "clients": list(clients),
        "contacts": list(contacts),
        "partners": list(partners),
        "groups": [group for group in groups if group["hits"]],
        "too_short": False,
    }


def agency_request_summary(*, user: User, now=None) -> dict:
    """For directors: their handovers, open requests, SLA breaches and at-risk clients across the agency, in three
    queries (and the clients at risk's when they are not in the cache)."""
    now = now or timezone.now()
    requests = Request.objects.visible_to(user)
    open_requests = requests.open()
    return {
        "my_handovers": list(
            Handover.objects.open()
            .filter(assignee=user)
            .select_related("request__client", "department")
            .order_by("due_date")[:10]
        ),
        **_breached_and_counts(open_requests, now, limit=8),
        # Active accounts, as the at-risk sweep (clients.tasks) and the KPI dashboards count them.
        "at_risk_clients": _least_healthy_kept(
            ("agency", user.pk, user.role, user.team_id),
            client_list(user=user).filter(status__in=[ClientStatus.ACTIVE, ClientStatus.AT_RISK]),
            limit=8,
        )[0],
    }


def _breached_and_counts(open_requests: QuerySet[Request], now, *, limit: int) -> dict:
    """The ``limit`` open requests longest past their SLA, how many are past it and how many are open: one query,
    each row carrying both counts (a second, the open count, only when none is past its SLA)."""

    def count(requests: QuerySet[Request]) -> Subquery:  # uncorrelated: computed once for the query
        return Subquery(requests.order_by().annotate(all=Value(1)).values("all").annotate(n=Count("pk")).values("n"))

    past_sla = open_requests.breached(now)
    breached = list(
        past_sla.select_related("client", "owner")
        .annotate(breached_total=count(past_sla), open_total=count(open_requests))
        .order_by("sla_due_at", "pk")[:limit]
    )
    return {
        "breached": breached,
        "breached_count": breached[0].breached_total if breached else 0,
        "open": breached[0].open_total if breached else open_requests.count(),
    }


def _least_healthy_kept(parts: tuple, clients: QuerySet[Client], *, limit: int) -> tuple[list, int]:
    """``least_healthy(clients)`` for a home page, kept in the cache as the KPI dashboards keep their clients at
    risk (``kpis.selectors.lists.at_risk_clients``): until a contract, an invoice or a client's own health input
    changes, and for the day (a score also moves with time alone). Scoring every client costs 30–40 ms at 10k."""
    from kpis import cache as kpi_cache

    return kpi_cache.cached_until_clients_change(
        "home-at-risk", (*parts, limit), lambda: least_healthy(clients, limit=limit)
    )


def client_history_sources(*, client: Client) -> list[HistorySource]:
    """What a client's history shows: the client's own changes and its contacts'."""
    return [
        HistorySource(Client, Q(id=client.pk)),
        HistorySource(Contact, Q(client_id=client.pk), label=_("Contact")),
    ]
