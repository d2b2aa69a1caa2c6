"""Writes for accounts: users, teams, language preference and the notification inbox."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from accounts.models import Notification, NotificationLevel, Role, Team, User
from core.errors import DomainError
from core.outbox import enqueue_many


@transaction.atomic
def user_create(
    *,
    email: str,
    full_name: str,
    role: str,
    password: str | None = None,
    team: Team | None = None,
    preferred_language: str = "en",
    phone: str = "",
) -> User:
    """Create a user; admins are superusers of the admin site. Raises DomainError on a taken e-mail."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        message = _("This e-mail address is already in use.")
        raise DomainError(message, code="email_taken", fields={"email": [message]})
    user = User(
        email=email,
        full_name=full_name,
        role=role,
        team=team,
        preferred_language=preferred_language,
        phone=phone,
        is_superuser=(role == Role.ADMIN),
    )
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def user_update(*, user: User, **changes) -> User:
    """Change a user's profile fields; keeps the admin-site superuser flag in step with the role."""
    for field, value in changes.items():
        setattr(user, field, value)
    user.is_superuser = user.role == Role.ADMIN
    user.save(update_fields=[*changes, "is_superuser"])
    return user


def user_set_language(*, user: User, language: str) -> User:
    """Remember the language a user chose; Accord answers them, and e-mails them, in it."""
    if language not in dict(settings.LANGUAGES):
        message = _("Unknown language.")
        raise DomainError(message, code="invalid_language", fields={"language": [message]})
    if user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
    return user


@transaction.atomic
def team_create(*, name: str, lead: User | None = None, members: list[User] = ()) -> Team:
    team = Team.objects.create(name=name, lead=lead)
    User.objects.filter(pk__in=[member.pk for member in [*members, *([lead] if lead else [])]]).update(team=team)
    return team


@dataclass(frozen=True)
class NotificationDraft:
    """One notification for ``notify_many``: the arguments ``notify`` takes, for one recipient."""

    user: User
    title: str | Promise
    body: str | Promise = ""
    url: str = ""
    level: str = NotificationLevel.INFO
    email: bool = True
    params: dict | None = None


def notify(
    *,
    user: User,
    title,
    body="",
    url: str = "",
    level: str = NotificationLevel.INFO,
    email: bool = True,
    params: dict | None = None,
) -> Notification:
    """Put a notification in ``user``'s inbox and, after commit, e-mail it to them.

    ``title`` and ``body`` may be lazy translations, filled with ``params`` (``%(name)s`` placeholders, values
    lazy too if they need translating): they are rendered in the recipient's language. Plain strings are kept
    as they are. The e-mail is sent by the worker once the surrounding transaction commits, never for a
    rolled-back one, and never to a service account (its inbox is read over the API).
    """
    draft = NotificationDraft(user=user, title=title, body=body, url=url, level=level, email=email, params=params)
    return notify_many([draft])[0]


def notify_many(drafts: Iterable[NotificationDraft]) -> list[Notification]:
    """``notify`` for many recipients at once: each notification rendered in its own recipient's language, all
    inserted in one statement and their e-mail tasks queued in one more (core/outbox.py ``enqueue_many``), so a
    sweep's batch costs two INSERTs whatever its size. The same guarantees as ``notify``: e-mailed after the
    commit, never for a rolled-back transaction, never to a service account. The notifications, in order. All are
    rendered before anything is written: a text that cannot be rendered raises and leaves the caller's transaction
    untouched.
    """
    notifications = []
    for draft in drafts:
        with translation.override(draft.user.preferred_language):
            notifications.append(
                Notification(
                    recipient=draft.user,
                    title=_render(draft.title, draft.params)[:200],
                    body=_render(draft.body, draft.params),
                    url=draft.url,
                    level=draft.level,
                    send_email=draft.email and bool(draft.user.email) and not draft.user.is_service_account,
                )
            )
    from accounts.tasks import send_notification_email_task

    with transaction.atomic(savepoint=False):  # the notifications and their outbox rows commit together
        Notification.objects.bulk_create(notifications)
        enqueue_many(send_notification_email_task, ((each.pk,) for each in notifications if each.send_email))
    return notifications


def _render(text, params: dict | None) -> str:
    return str(text) % params if params and isinstance(text, Promise) else str(text)


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of ``user`` read; returns how many changed."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
