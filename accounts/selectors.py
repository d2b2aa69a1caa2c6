"""Reads for accounts: directory, teams, inbox."""

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import Notification, Role, Team, User


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.visible_to(user)


def unread_notification_count(*, user: User) -> int:
    return Notification.objects.visible_to(user).unread().count()


def user_directory(*, user: User) -> QuerySet[User]:
    return User.objects.visible_to(user).select_related("team")


def team_overview(*, user: User) -> QuerySet[Team]:
    """Teams with their lead, active members and a head count per role, in three queries whatever the size."""
    members = user_directory(user=user).order_by("full_name")
    per_role = {
        f"{role}_count": Count("members", filter=Q(members__is_active=True, members__role=role)) for role in Role.values
    }
    return (
        Team.objects.select_related("lead")
        .annotate(member_count=Count("members", filter=Q(members__is_active=True)), **per_role)
        .prefetch_related(Prefetch("members", queryset=members, to_attr="active_members"))
        .order_by("name")
    )


def users_without_team(*, user: User) -> QuerySet[User]:
    return user_directory(user=user).filter(team__isnull=True)


def role_head_counts() -> dict[str, int]:
    """Active users per role, every role present (0 where nobody has it)."""
    counts = dict(User.objects.filter(is_active=True).values_list("role").annotate(n=Count("pk")).order_by())
    return {role: counts.get(role, 0) for role in Role.values}


def locked_out_attempts() -> QuerySet[AccessAttempt]:
    """E-mail and IP pairs currently locked out by the brute-force guard."""
    return AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT).order_by("-attempt_time")
