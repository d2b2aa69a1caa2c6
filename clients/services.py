"""Writes for clients: every change to an account, its contacts, partners, timeline, requests and hand-overs."""

from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import NotificationLevel, Role, User
from accounts.permissions import is_director
from accounts.services import notify
from clients.models import (
    CLIENT_EDITABLE_FIELDS,
    CONTACT_EDITABLE_FIELDS,
    OPEN_REQUEST_STATUSES,
    Activity,
    Client,
    ClientReassignment,
    ClientStatus,
    Contact,
    Department,
    Handover,
    HandoverStatus,
    Partner,
    PartnerRelationship,
    Priority,
    Request,
    RequestStatus,
    Tag,
)
from clients.sla import sla_deadlines
from core.errors import ConflictError, DomainError, PermissionDeniedError, TransitionError
from core.history import record_history
from integrations.services import EventType, emit

CLIENT_FIELDS = set(CLIENT_EDITABLE_FIELDS)
CONTACT_FIELDS = set(CONTACT_EDITABLE_FIELDS)
REQUEST_MOVES = {
    RequestStatus.NEW: {RequestStatus.TRIAGED, RequestStatus.IN_PROGRESS},
    RequestStatus.TRIAGED: {RequestStatus.IN_PROGRESS},
    RequestStatus.IN_PROGRESS: {RequestStatus.WAITING_CLIENT, RequestStatus.RESOLVED},
    RequestStatus.WAITING_CLIENT: {RequestStatus.IN_PROGRESS, RequestStatus.RESOLVED},
    RequestStatus.RESOLVED: {RequestStatus.CLOSED, RequestStatus.IN_PROGRESS},
    RequestStatus.CLOSED: set(),
}


def _ensure_can_edit(client: Client, actor: User) -> None:
    if not Client.objects.editable_by(actor).filter(pk=client.pk).exists():
        raise PermissionDeniedError(_("Only the client's owner or a director can change this client."))


def _set_tags(client: Client, tags: list[str] | None) -> None:
    if tags is None:
        return
    """Tags by name, case-insensitively: 'Retainer' reuses an existing 'retainer'."""
    wanted = {tag.strip()[:50].lower(): tag.strip()[:50] for tag in tags if tag.strip()}
    existing = {tag.name.lower(): tag for tag in Tag.objects.annotate(key=Lower("name")).filter(key__in=wanted)}
    for key, name in wanted.items():
        if key not in existing:
            existing[key], _created = Tag.objects.get_or_create(name=name)
    client.tags.set([existing[key] for key in wanted])


def _save_new(instance) -> None:
    """Insert a validated row; a concurrent insert that took the same tax code, e-mail or name is a clear 409."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ConflictError(
            _("Someone else saved the same record a moment ago. Check the list and try again.")
        ) from error


def _bump_version(model, instance, expected_version: int | None, changes: dict) -> None:
    """Write ``changes`` only if nobody saved the row since ``expected_version`` was read."""
    rows = model.objects.filter(pk=instance.pk)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    try:
        with transaction.atomic():
            updated = rows.update(**changes, version=F("version") + 1, updated_at=timezone.now())
    except IntegrityError as error:
        raise ConflictError(_("Someone else saved the same value a moment ago. Check and try again.")) from error
    if not updated:
        raise ConflictError(
            _("Someone else changed this record while you were editing it. Reload to see their changes.")
        )
    if hasattr(model, "history"):  # clients and contacts are audited
        record_history(model.objects.filter(pk=instance.pk))


# --- Clients ----------------------------------------------------------------------------------------------


@transaction.atomic
def client_create(*, actor: User, owner: User | None = None, tags: list[str] | None = None, **fields) -> Client:
    """Create a client owned by ``actor`` (a director may name another owner). Team follows the owner."""
    if not (is_director(actor) or actor.role in (Role.ACCOUNT_MANAGER, Role.SALES)):
        raise PermissionDeniedError(_("Only account managers, sales and directors create clients."))
    if owner is not None and owner != actor and not is_director(actor):
        raise PermissionDeniedError(_("Only a director can create a client for someone else."))
    owner = owner or actor
    client = Client(**{key: value for key, value in fields.items() if key in CLIENT_FIELDS}, owner=owner)
    client.team_id = owner.team_id
    client.full_clean(validate_unique=True, validate_constraints=True)
    _save_new(client)
    _set_tags(client, tags)
    emit(EventType.CLIENT_CREATED, client)
    return client


@transaction.atomic
def client_update(
    *,
    client: Client,
    actor: User,
    expected_version: int | None = None,
    tags: list[str] | None = None,
    **fields,
) -> Client:
    """Change a client's details. Raises ConflictError if someone saved it since ``expected_version``."""
    _ensure_can_edit(client, actor)
    unknown = set(fields) - CLIENT_FIELDS
    if unknown:
        raise PermissionDeniedError(_("These fields cannot be changed here: %s") % ", ".join(sorted(unknown)))
    for field, value in fields.items():
        setattr(client, field, value)
    client.full_clean(validate_unique=True, validate_constraints=True)
    client.refresh_search_text()
    _bump_version(
        Client,
        client,
        expected_version,
        {**fields, "search_text": client.search_text, "search_name": client.search_name},
    )
    _set_tags(client, tags)
    client.refresh_from_db()
    emit(EventType.CLIENT_UPDATED, client)
    return client


def client_mark_active(*, client: Client) -> bool:
    """A prospect whose first contract is signed becomes an active client; True if it changed."""
    changed = Client.objects.filter(pk=client.pk, status=ClientStatus.PROSPECT).update(
        status=ClientStatus.ACTIVE, version=F("version") + 1, updated_at=timezone.now()
    )
    if changed:
        record_history(Client.objects.filter(pk=client.pk))
    return bool(changed)


@transaction.atomic
def client_reassign(*, client: Client, to_owner: User, actor: User, note: str = "") -> ClientReassignment:
    """Give a client to another owner (directors only) with its open next steps and open requests.

    The team follows the new owner; both owners are notified.
    """
    if not is_director(actor):
        raise PermissionDeniedError(_("Only a director can reassign a client."))
    client = Client.objects.select_for_update().get(pk=client.pk)
    from_owner = client.owner
    if to_owner.pk == from_owner.pk:
        raise TransitionError(_("The client already belongs to %(name)s.") % {"name": to_owner.full_name})
    if not to_owner.is_active or to_owner.role not in (Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR):
        raise TransitionError(_("A client can only be given to an active account manager, sales person or director."))
    moved_steps = (
        Activity.objects.open_next_steps()
        .filter(client=client, next_step_owner=from_owner)
        .update(next_step_owner=to_owner)
    )
    moved_requests = Request.objects.filter(client=client, owner=from_owner, status__in=OPEN_REQUEST_STATUSES).update(
        owner=to_owner
    )
    Client.objects.filter(pk=client.pk).update(
        owner=to_owner, team=to_owner.team_id, version=F("version") + 1, updated_at=timezone.now()
    )
    record_history(Client.objects.filter(pk=client.pk), user=actor)
    record = ClientReassignment.objects.create(
        client=client,
        from_owner=from_owner,
        to_owner=to_owner,
        reassigned_by=actor,
        note=note,
        moved_next_steps=moved_steps,
        moved_requests=moved_requests,
    )
    url = reverse("clients:detail", args=[client.pk])
    params = {
        "client": client.name,
        "owner": to_owner.full_name,
        "director": actor.full_name,
        "steps": moved_steps,
        "requests": moved_requests,
    }
    notify(
        user=to_owner,
        title=gettext_lazy("%(client)s is now yours"),
        body=gettext_lazy(
            "%(director)s gave you this client. Moved with it: open next steps %(steps)d, open requests %(requests)d."
        ),
        url=url,
        params=params,
    )
    notify(
        user=from_owner,
        title=gettext_lazy("%(client)s moved to %(owner)s"),
        body=note,
        url=url,
        params=params,
    )
    return record


# --- Contacts ---------------------------------------------------------------------------------------------


@transaction.atomic
def contact_create(*, client: Client, actor: User, **fields) -> Contact:
    _ensure_can_edit(client, actor)
    contact = Contact(client=client, **{key: value for key, value in fields.items() if key in CONTACT_FIELDS})
    contact.full_clean(validate_unique=True, validate_constraints=True)
    _save_new(contact)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, actor: User, expected_version: int | None = None, **fields) -> Contact:
    _ensure_can_edit(contact.client, actor)
    for field, value in fields.items():
        if field not in CONTACT_FIELDS:
            raise PermissionDeniedError(_("These fields cannot be changed here: %s") % field)
        setattr(contact, field, value)
    contact.full_clean(validate_unique=True, validate_constraints=True)
    contact.refresh_search_text()
    _bump_version(Contact, contact, expected_version, {**fields, "search_text": contact.search_text})
    contact.refresh_from_db()
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, actor: User) -> None:
    _ensure_can_edit(contact.client, actor)
    contact.delete()


# --- Partners ---------------------------------------------------------------------------------------------


def _ensure_can_edit_partners(actor: User) -> None:
    if actor.role not in (Role.ACCOUNT_MANAGER, Role.DIRECTOR, Role.ADMIN):
        raise PermissionDeniedError(_("Only account managers and directors keep the partner list."))


@transaction.atomic
def partner_create(*, actor: User, **fields) -> Partner:
    _ensure_can_edit_partners(actor)
    _only(fields, PARTNER_FIELDS)
    partner = Partner(**fields)
    partner.full_clean(validate_unique=True, validate_constraints=True)
    _save_new(partner)
    return partner


PARTNER_FIELDS = {"name", "kind", "tax_code", "website", "email", "phone", "notes"}
RELATIONSHIP_FIELDS = {"link", "role", "since", "status", "value", "currency", "notes"}
HANDOVER_MOVES = {
    HandoverStatus.OPEN: {HandoverStatus.IN_PROGRESS, HandoverStatus.DONE, HandoverStatus.CANCELLED},
    HandoverStatus.IN_PROGRESS: {HandoverStatus.DONE, HandoverStatus.CANCELLED},
    HandoverStatus.DONE: set(),
    HandoverStatus.CANCELLED: set(),
}


def _only(fields: dict, allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise PermissionDeniedError(_("These fields cannot be changed here: %s") % ", ".join(sorted(unknown)))


@transaction.atomic
def partner_update(*, partner: Partner, actor: User, **fields) -> Partner:
    _ensure_can_edit_partners(actor)
    _only(fields, PARTNER_FIELDS)
    for field, value in fields.items():
        setattr(partner, field, value)
    partner.full_clean(validate_unique=True, validate_constraints=True)
    partner.save()
    return partner


@transaction.atomic
def partner_relationship_create(*, client: Client, partner: Partner, actor: User, **fields) -> PartnerRelationship:
    _ensure_can_edit(client, actor)
    _only(fields, RELATIONSHIP_FIELDS)
    relationship = PartnerRelationship(client=client, partner=partner, **fields)
    relationship.full_clean(validate_unique=True, validate_constraints=True)
    relationship.save()
    return relationship


@transaction.atomic
def partner_relationship_update(*, relationship: PartnerRelationship, actor: User, **fields) -> PartnerRelationship:
    _ensure_can_edit(relationship.client, actor)
    _only(fields, RELATIONSHIP_FIELDS)
    for field, value in fields.items():
        setattr(relationship, field, value)
    relationship.full_clean(validate_unique=True, validate_constraints=True)
    relationship.save()
    return relationship


@transaction.atomic
def partner_relationship_delete(*, relationship: PartnerRelationship, actor: User) -> None:
    _ensure_can_edit(relationship.client, actor)
    relationship.delete()


# --- Timeline ---------------------------------------------------------------------------------------------


@transaction.atomic
def activity_log(
    *,
    client: Client,
    actor: User,
    subject: str,
    kind: str = "note",
    body: str = "",
    occurred_at: datetime | None = None,
    contact: Contact | None = None,
    next_step: str = "",
    next_step_due: date | None = None,
    next_step_owner: User | None = None,
) -> Activity:
    """Put an entry on the client's timeline; a next step belongs to ``next_step_owner`` (the author by default)."""
    _ensure_can_edit(client, actor)
    if contact is not None and contact.client_id != client.pk:
        raise DomainError(_("That contact belongs to another client."), fields={"contact": [_("Not this client's.")]})
    if next_step_due and not next_step:
        raise DomainError(_("Say what the next step is."), fields={"next_step": [_("Say what the next step is.")]})
    if next_step and next_step_owner and not Client.objects.detailed_for(next_step_owner).filter(pk=client.pk).exists():
        message = _("%(name)s cannot open this client, so cannot own its next step.") % {"name": next_step_owner}
        raise DomainError(message, fields={"next_step_owner": [message]})
    activity = Activity(
        client=client,
        author=actor,
        kind=kind,
        subject=subject,
        body=body,
        occurred_at=occurred_at or timezone.now(),
        contact=contact,
        next_step=next_step,
        next_step_due=next_step_due,
        next_step_owner=(next_step_owner or actor) if next_step else None,
    )
    activity.full_clean()
    activity.save()
    return activity


@transaction.atomic
def next_step_complete(*, activity: Activity, actor: User) -> Activity:
    """Mark the activity's next step done (its owner or whoever may edit the client); done twice is harmless."""
    if actor.pk != activity.next_step_owner_id:
        _ensure_can_edit(activity.client, actor)
    if not activity.next_step:
        raise TransitionError(_("This activity has no next step."))
    Activity.objects.filter(pk=activity.pk, next_step_done_at__isnull=True).update(next_step_done_at=timezone.now())
    activity.refresh_from_db()
    return activity


# --- Requests and hand-overs ------------------------------------------------------------------------------


@transaction.atomic
def request_create(
    *,
    client: Client,
    actor: User,
    title: str,
    kind: str = "brief",
    priority: str = Priority.NORMAL,
    description: str = "",
    contact: Contact | None = None,
    received_at: datetime | None = None,
) -> Request:
    """Record a client request; its SLA warning and due times follow from the priority in business hours."""
    _ensure_can_edit(client, actor)
    if contact is not None and contact.client_id != client.pk:
        raise DomainError(_("That contact belongs to another client."), fields={"contact": [_("Not this client's.")]})
    now = timezone.now()
    received_at = received_at or now
    if not now - timedelta(days=366) <= received_at <= now + timedelta(minutes=10):
        message = _("A request is received now or in the past year, not in the future.")
        raise DomainError(message, fields={"received_at": [message]})
    warning_at, due_at = sla_deadlines(received_at, priority)
    request = Request(
        client=client,
        kind=kind,
        title=title,
        description=description,
        priority=priority,
        contact=contact,
        owner=client.owner,
        received_at=received_at,
        sla_warning_at=warning_at,
        sla_due_at=due_at,
    )
    request.full_clean()
    request.save()
    emit(EventType.REQUEST_CREATED, request)
    if client.owner_id != actor.pk:
        notify(
            user=client.owner,
            title=gettext_lazy("New request from %(client)s (%(priority)s)"),
            body=title,
            url=reverse("clients:request", args=[request.pk]),
            level=NotificationLevel.DANGER if priority == Priority.URGENT else NotificationLevel.INFO,
            params={"client": client.name, "priority": Priority(priority).label},
        )
    return request


REQUEST_FIELDS = {"kind", "title", "description", "priority", "contact"}


@transaction.atomic
def request_update(*, request: Request, actor: User, expected_version: int | None = None, **fields) -> Request:
    """Change a request's details; a new priority recomputes the SLA from when the request was received."""
    _ensure_can_edit(request.client, actor)
    _only(fields, REQUEST_FIELDS)
    contact = fields.get("contact")
    if contact is not None and contact.client_id != request.client_id:
        raise DomainError(_("That contact belongs to another client."), fields={"contact": [_("Not this client's.")]})
    changes = dict(fields)
    if fields.get("priority", request.priority) != request.priority:
        changes["sla_warning_at"], changes["sla_due_at"] = sla_deadlines(request.received_at, fields["priority"])
        changes["breach_notified_at"] = None
    _bump_version(Request, request, expected_version, changes)
    request.refresh_from_db()
    return request


@transaction.atomic
def request_transition(*, request: Request, to: str, actor: User, note: str = "") -> Request:
    """Move a request along new → triaged → in progress ⇄ waiting for the client → resolved → closed."""
    _ensure_can_edit(request.client, actor)
    request = Request.objects.select_for_update().get(pk=request.pk)
    if to not in REQUEST_MOVES[request.status]:
        raise TransitionError(
            _("A request cannot go from %(source)s to %(target)s.")
            % {"source": request.get_status_display(), "target": RequestStatus(to).label},
            fields={"status": [_("Not allowed from here.")]},
        )
    now = timezone.now()
    source = request.get_status_display()
    request.status = to
    if to == RequestStatus.RESOLVED:
        request.resolved_at = now
    elif to == RequestStatus.CLOSED:
        request.closed_at = now
    elif to == RequestStatus.IN_PROGRESS:
        request.resolved_at = None
    request.version += 1
    request.save(update_fields=["status", "resolved_at", "closed_at", "version", "updated_at"])
    Activity.objects.create(
        client=request.client,
        author=actor,
        kind="note",
        is_system=True,
        subject=_("Request “%(title)s”: %(source)s → %(target)s")
        % {"title": request.title, "source": source, "target": request.get_status_display()},
        body=note,
    )
    return request


@transaction.atomic
def handover_create(
    *,
    request: Request,
    department: Department,
    assignee: User,
    brief: str,
    due_date: date,
    actor: User,
) -> Handover:
    """Hand a request to a department's assignee, who is notified; a new request starts being worked on."""
    _ensure_can_edit(request.client, actor)
    request = Request.objects.select_for_update().select_related("client").get(pk=request.pk)
    if not request.is_open:
        raise TransitionError(_("Only an open request can be handed over."))
    if not assignee.is_active:
        raise TransitionError(_("The assignee is not active."), fields={"assignee": [_("Not active.")]})
    handover = Handover(
        request=request,
        department=department,
        assignee=assignee,
        brief=brief,
        due_date=due_date,
        created_by=actor,
    )
    handover.full_clean()
    handover.save()
    if request.status in (RequestStatus.NEW, RequestStatus.TRIAGED):
        source = request.get_status_display()
        Request.objects.filter(pk=request.pk).update(
            status=RequestStatus.IN_PROGRESS, version=F("version") + 1, updated_at=timezone.now()
        )
        Activity.objects.create(
            client=request.client,
            author=actor,
            kind="note",
            is_system=True,
            subject=_("Request “%(title)s”: %(source)s → %(target)s")
            % {"title": request.title, "source": source, "target": RequestStatus.IN_PROGRESS.label},
            body=_("Handed over to %(department)s.") % {"department": department.name},
        )
    notify(
        user=assignee,
        title=gettext_lazy("Hand-over for %(department)s: %(title)s"),
        body=gettext_lazy("%(client)s, due %(due)s. Brief: %(brief)s"),
        url=reverse("clients:request", args=[request.pk]),
        level=NotificationLevel.DANGER if request.priority == Priority.URGENT else NotificationLevel.INFO,
        params={
            "department": department.name,
            "title": request.title,
            "client": request.client.name,
            "due": due_date.isoformat(),
            "brief": brief,
        },
    )
    return handover


@transaction.atomic
def handover_set_status(*, handover: Handover, to: str, actor: User) -> Handover:
    """The assignee (or whoever may edit the client) moves a hand-over on; the request owner hears when it is done."""
    if actor.pk != handover.assignee_id:
        _ensure_can_edit(handover.request.client, actor)
    handover = Handover.objects.select_for_update().select_related("request", "department").get(pk=handover.pk)
    if to not in HANDOVER_MOVES[handover.status]:
        raise TransitionError(
            _("A hand-over cannot go from %(source)s to %(target)s.")
            % {"source": handover.get_status_display(), "target": HandoverStatus(to).label}
        )
    handover.status = to
    handover.completed_at = timezone.now() if to == HandoverStatus.DONE else None
    handover.save(update_fields=["status", "completed_at", "updated_at"])
    if to == HandoverStatus.DONE and handover.request.owner_id != actor.pk:
        notify(
            user=handover.request.owner,
            title=gettext_lazy("%(department)s finished “%(title)s”"),
            url=reverse("clients:request", args=[handover.request_id]),
            level=NotificationLevel.SUCCESS,
            params={"department": handover.department.name, "title": handover.request.title},
        )
    return handover


def requests_notify_breaches(*, now: datetime | None = None) -> int:
    """Tell each owner once about their requests that just passed the SLA; safe to run concurrently."""
    now = now or timezone.now()
    count = 0
    candidates = Request.objects.filter(
        status__in=OPEN_REQUEST_STATUSES, sla_due_at__lt=now, breach_notified_at__isnull=True
    ).select_related("client", "owner")
    for request in candidates.iterator(chunk_size=500):
        with transaction.atomic():
            claimed = Request.objects.filter(pk=request.pk, breach_notified_at__isnull=True).update(
                breach_notified_at=now
            )
            if not claimed:
                continue
            emit(EventType.REQUEST_SLA_BREACHED, request)
            notify(
                user=request.owner,
                title=gettext_lazy("SLA breached: %(title)s"),
                body=gettext_lazy("%(client)s · %(priority)s · due %(due)s"),
                url=reverse("clients:request", args=[request.pk]),
                level=NotificationLevel.DANGER,
                params={
                    "title": request.title,
                    "client": request.client.name,
                    "priority": Priority(request.priority).label,
                    "due": timezone.localtime(request.sla_due_at).strftime("%Y-%m-%d %H:%M"),
                },
            )
            count += 1
    return count
