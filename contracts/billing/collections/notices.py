"""What a client's day of follow-up writes and tells: the invoice events, the entry on the client's timeline (with
finance's next step on an escalation), the account manager's warning when nobody can be e-mailed, and the
escalation to directors and finance."""

from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property, lru_cache

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import dateformat, formats, translation
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import NotificationLevel, Role, User
from accounts.services import notify
from clients.models import Activity, ActivityKind, Client, Contact
from contracts.models import CollectionLevel, Invoice, InvoiceEvent, InvoiceEventKind
from core.money import format_money

from .rules import notice_level

ESCALATIONS_LISTED = 20  # clients named in an escalation notification; the Collections board has them all


@dataclass(frozen=True)
class Escalation:
    """Who hears of an L4 (active directors and finance) and who owns its next step (finance first)."""

    notified: list[User]
    task_owner: User | None


@dataclass
class ClientDay:
    """A client's follow-up this sweep claimed: its notice, the steps taken, its billing contacts."""

    client: Client
    notice_id: int
    invoices: list[Invoice]  # the steps taken, ``due_level`` each
    contacts: list[Contact] = field(default_factory=list)

    @cached_property
    def level(self) -> int:
        return notice_level(invoice.due_level for invoice in self.invoices)

    @property
    def emails(self) -> bool:
        return self.level != CollectionLevel.ESCALATED

    @cached_property
    def escalated(self) -> list[Invoice]:
        return [invoice for invoice in self.invoices if invoice.due_level == CollectionLevel.ESCALATED]


def escalation_people() -> Escalation:
    """The active directors and finance users, by id; the first finance user (else director) owns the tasks."""
    people = list(
        User.objects.filter(role__in=(Role.DIRECTOR, Role.FINANCE), is_active=True)
        .order_by("pk")
        .only("pk", "role", "email", "full_name", "preferred_language")
    )
    finance = [person for person in people if person.role == Role.FINANCE]
    return Escalation(notified=people, task_owner=(finance or people or [None])[0])


def billing_contacts(client_ids) -> QuerySet[Contact]:
    """The clients' billing contacts that have an e-mail address: who follow-up e-mails go to."""
    return (
        Contact.objects.filter(client_id__in=client_ids, is_billing=True)
        .exclude(email="")
        .order_by("client_id", "full_name", "pk")
    )


def attach_billing_contacts(days: list[ClientDay]) -> None:
    """Each day's billing contacts, in one query for the batch."""
    by_client = {day.client.pk: day for day in days}
    for contact in billing_contacts(list(by_client)):
        by_client[contact.client_id].contacts.append(contact)


def queue_notice_emails(deliveries: list[tuple[int, int]]) -> None:
    """Queue one e-mail task per (notice, contact), all through one broker connection (a first sweep queues
    thousands). Called after the batch commits."""
    from contracts.tasks import send_collection_notice_email_task as task

    with task.app.producer_or_acquire() as producer:
        for notice_id, contact_id in deliveries:
            task.apply_async((notice_id, contact_id), producer=producer)


def tell_the_account_manager(day: ClientDay) -> None:
    """No billing contact of the client has an e-mail address: its account manager hears instead (once that day,
    as the notice is once)."""
    owner = day.client.owner
    if not owner.is_active:
        return
    notify(
        user=owner,
        title=gettext_lazy("Follow-up not sent: %(client)s has no billing contact"),
        body=gettext_lazy(
            "Today's payment reminder (%(level)s) could not be e-mailed: no billing contact of %(client)s has an "
            "e-mail address. Add one, or remind the client yourself.\n%(invoices)s"
        ),
        url=reverse("clients:detail", args=[day.client.pk]),
        level=NotificationLevel.WARNING,
        params={
            "client": day.client.name,
            "level": CollectionLevel(day.level).label,
            "invoices": _invoice_lines(day.invoices),
        },
    )


def tell_the_account_managers(days: list[ClientDay]) -> None:
    """The clients of a batch that nobody could be e-mailed for: one notification per account manager, naming the
    client when there is one, listing them when there are several (a first sweep finds hundreds)."""
    by_owner: dict[int, list[ClientDay]] = {}
    for day in days:
        if day.client.owner.is_active:
            by_owner.setdefault(day.client.owner.pk, []).append(day)
    for group in by_owner.values():
        if len(group) == 1:
            tell_the_account_manager(group[0])
            continue
        notify(
            user=group[0].client.owner,
            title=gettext_lazy("Follow-up not sent: %(count)s clients have no billing contact"),
            body=gettext_lazy(
                "Today's payment reminders could not be e-mailed: none of these clients has a billing contact with "
                "an e-mail address. Add one, or remind them yourself.\n\n%(clients)s"
            ),
            url=reverse("contracts:invoices"),
            level=NotificationLevel.WARNING,
            params={"count": len(group), "clients": _client_lines(group)},
        )


def escalate(days: list[ClientDay], escalation: Escalation, today: date) -> None:
    """One notification per director and finance user for the batch's escalations rather than one per client:
    on an ordinary day that is one notification for a handful of clients; on a first sweep over years of invoices,
    one per batch, naming the first clients and pointing to the Collections board for the rest."""
    if not days:
        return
    for person in escalation.notified:
        notify(
            user=person,
            title=gettext_lazy("Collection escalated, 30 days overdue: %(clients)s"),
            body=gettext_lazy(
                "No more reminders go to the client for these invoices; call them. Next steps for %(task_owner)s, "
                "due %(today)s.\n\n%(escalations)s"
            ),
            url=reverse("contracts:collections"),
            level=NotificationLevel.DANGER,
            params={
                "clients": ", ".join(day.client.name for day in days),  # notify cuts the title at 200 characters
                "task_owner": str(escalation.task_owner),  # someone: the people notified include them
                "today": _local_date(today),
                "escalations": _escalation_lines(days),
            },
        )


def _render_escalation_lines(days: list[ClientDay]) -> str:
    """The first clients with their escalated invoices, in the active language; how many more there are."""
    listed = [
        _("%(client)s (account manager: %(owner)s)") % {"client": day.client.name, "owner": day.client.owner}
        + "\n"
        + _render_invoice_lines(day.escalated)
        for day in days[:ESCALATIONS_LISTED]
    ]
    if len(days) > ESCALATIONS_LISTED:
        listed.append(
            _("… and %(count)s more clients: see the Collections board.") % {"count": len(days) - ESCALATIONS_LISTED}
        )
    return "\n\n".join(listed)


def _render_invoice_lines(invoices: list[Invoice]) -> str:
    """One line per invoice, in the active language: number, due date, outstanding, level."""
    line = _("%(number)s, due %(due)s: %(outstanding)s outstanding (%(level)s)")
    date_pattern, labels = formats.get_format("SHORT_DATE_FORMAT"), _level_labels(translation.get_language())
    return "\n".join(
        "· "
        + line
        % {
            "number": invoice.number,
            "due": _format_day(invoice.due_date, date_pattern, translation.get_language()),
            "outstanding": format_money(invoice.gross_amount - invoice.paid_amount, invoice.currency),
            "level": labels[invoice.due_level],
        }
        for invoice in invoices
    )


@lru_cache(maxsize=4096)
def _format_day(day: date, pattern: str, language: str) -> str:
    """A due date as the language writes it: a first sweep writes the same few hundred days tens of thousands of
    times."""
    return dateformat.format(day, pattern)


@cache
def _level_labels(language: str) -> dict[int, str]:
    """The levels' labels in a language, translated once per process (the sweep writes tens of thousands)."""
    with translation.override(language):
        return {level: str(label) for level, label in CollectionLevel.choices}


def _render_client_lines(days: list[ClientDay]) -> str:
    """Each client's name and its invoices, in the active language."""
    return "\n\n".join(f"{day.client.name}\n{_render_invoice_lines(day.invoices)}" for day in days)


_invoice_lines = lazy(_render_invoice_lines, str)
_client_lines = lazy(_render_client_lines, str)
_escalation_lines = lazy(_render_escalation_lines, str)
_local_date = lazy(lambda day: formats.date_format(day, "SHORT_DATE_FORMAT"), str)


def _recipients_text(contacts: list[Contact]) -> str:
    return ", ".join(f"{contact.full_name} <{contact.email}>" for contact in contacts)


def invoice_events(day: ClientDay, escalation: Escalation) -> list[InvoiceEvent]:
    """Each step on its invoice's log, in the active language (the sweep makes it the agency's)."""
    task_owner = escalation.task_owner or day.client.owner
    if day.contacts:
        e_mailed = _("e-mailed to %(recipients)s") % {"recipients": _recipients_text(day.contacts)}
    else:
        e_mailed = _("no billing contact with an e-mail address; %(owner)s was told") % {"owner": day.client.owner}
    escalated = _("directors and finance notified; next step for %(person)s") % {"person": task_owner}
    labels = _level_labels(translation.get_language())
    events = []
    for invoice in day.invoices:
        if invoice.due_level == CollectionLevel.ESCALATED:
            kind, note = InvoiceEventKind.ESCALATED, escalated
        else:
            kind, note = InvoiceEventKind.FOLLOW_UP, e_mailed
        events.append(InvoiceEvent(invoice=invoice, kind=kind, note=f"{labels[invoice.due_level]}: {note}"))
    return events


def timeline_entry(day: ClientDay, escalation: Escalation, today: date) -> Activity:
    """The day's follow-up on the client's timeline, written as its owner, in the owner's language; an escalation
    adds a next step due today for finance (a director when there is none)."""
    owner = day.client.owner
    with translation.override(owner.preferred_language):
        params = {"level": CollectionLevel(day.level).label, "invoices": ", ".join(i.number for i in day.invoices)}
        if not day.emails:
            subject = _("Collection escalated to directors and finance: %(invoices)s") % params
        elif day.contacts:
            subject = _("Payment reminder e-mailed (%(level)s): %(invoices)s") % params
        else:
            subject = _("Payment reminder not sent, no billing contact (%(level)s): %(invoices)s") % params
        body = [_render_invoice_lines(day.invoices)]
        if day.emails and day.contacts:
            body.append(_("Sent to: %(recipients)s") % {"recipients": _recipients_text(day.contacts)})
        elif day.emails:
            body.append(_("No billing contact has an e-mail address: the account manager was told instead."))
        if day.escalated:
            body.append(_("30 days overdue: no more reminders go to the client; directors and finance were told."))
    task_owner = (escalation.task_owner or owner) if day.escalated else None
    return Activity(
        client=day.client,
        author=owner,
        kind=ActivityKind.EMAIL if day.emails and day.contacts else ActivityKind.NOTE,
        is_system=True,
        subject=subject[:200],
        body="\n\n".join(body),
        next_step=_next_step(day, task_owner) if task_owner else "",
        next_step_due=today if task_owner else None,
        next_step_owner=task_owner,
    )


def _next_step(day: ClientDay, task_owner: User) -> str:
    with translation.override(task_owner.preferred_language):
        text = _("Call %(client)s about the invoices 30 days overdue: %(invoices)s") % {
            "client": day.client.name,
            "invoices": ", ".join(invoice.number for invoice in day.escalated),
        }
    return text[:200]
