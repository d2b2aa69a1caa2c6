"""Reads for accounts: directory, teams, inbox."""

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Count, F, Prefetch, Q, QuerySet

from accounts.models import ApiToken, ApiTokenKind, Notification, Role, Team, User


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.visible_to(user)


def unread_notification_count(*, user: User) -> int:
    return Notification.objects.visible_to(user).unread().count()


def user_directory(*, user: User) -> QuerySet[User]:
    return User.objects.visible_to(user).select_related("team")


def team_overview(*, user: User) -> QuerySet[Team]:
    """Teams with their lead, active members and a head count per role, in three queries whatever the size."""
    members = user_directory(user=user).filter(is_service_account=False).order_by("full_name")
    people = Q(members__is_active=True, members__is_service_account=False)
    per_role = {f"{role}_count": Count("members", filter=people & Q(members__role=role)) for role in Role.values}
    return (
        Team.objects.select_related("lead")
        .annotate(member_count=Count("members", filter=people), **per_role)
        .prefetch_related(Prefetch("members", queryset=members, to_attr="active_members"))
        .order_by("name")
    )


def users_without_team(*, user: User) -> QuerySet[User]:
    """People outside any team (service accounts are tools, not people: they are listed with their tokens)."""
    return user_directory(user=user).filter(team__isnull=True, is_service_account=False)


def role_head_counts() -> dict[str, int]:
    """Active people per role (not service accounts), every role present (0 where nobody has it)."""
    people = User.objects.filter(is_active=True, is_service_account=False)
    counts = dict(people.values_list("role").annotate(n=Count("pk")).order_by())
    return {role: counts.get(role, 0) for role in Role.values}


def locked_out_attempts() -> QuerySet[AccessAttempt]:
    """E-mail and IP pairs currently locked out by the brute-force guard."""
    return AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT).order_by("-attempt_time")


def _tokens_in_order(tokens: QuerySet[ApiToken]) -> QuerySet[ApiToken]:
    """Tokens in use first, newest first; revoked ones after them."""
    return tokens.order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-id")


def personal_token_list(*, user: User) -> QuerySet[ApiToken]:
    return _tokens_in_order(ApiToken.objects.filter(user=user, kind=ApiTokenKind.PERSONAL))


def service_token_list() -> QuerySet[ApiToken]:
    """Every service token with its service account (role, team) and creator, in one query."""
    tokens = ApiToken.objects.filter(kind=ApiTokenKind.SERVICE).select_related("user__team", "created_by")
    return _tokens_in_order(tokens)


def revocable_tokens(*, user: User) -> QuerySet[ApiToken]:
    """The tokens ``user`` may revoke: their own personal tokens, and every service token for an administrator."""
    mine = Q(kind=ApiTokenKind.PERSONAL, user=user)
    if user.role == Role.ADMIN:
        mine |= Q(kind=ApiTokenKind.SERVICE)
    return ApiToken.objects.filter(mine).select_related("user__team", "created_by")
