"""Reads for accounts: directory, teams, inbox."""

from collections import Counter

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Window

from accounts.models import ApiToken, ApiTokenKind, Notification, Role, Team, User


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.visible_to(user)


def unread_notification_count(*, user: User) -> int:
    return Notification.objects.visible_to(user).unread().count()


def user_directory(*, user: User) -> QuerySet[User]:
    return User.objects.visible_to(user).select_related("team")


def people_by_team(*, user: User) -> tuple[list[Team], list[User]]:
    """The teams (with their lead, head count and a count per role; each with its ``active_members``) and the
    people in no team, in two queries whatever the size: the teams, then every active person once (service accounts
    are tools, not people: they are listed with their tokens)."""
    people = Q(members__is_active=True, members__is_service_account=False)
    per_role = {f"{role}_count": Count("members", filter=people & Q(members__role=role)) for role in Role.values}
    teams = list(
        Team.objects.select_related("lead")
        .annotate(member_count=Count("members", filter=people), **per_role)
        .order_by("name")
    )
    by_id = {team.pk: team for team in teams}
    for team in teams:
        team.active_members = []
    unassigned = []
    for person in User.objects.visible_to(user).filter(is_service_account=False).order_by("full_name"):
        team = by_id.get(person.team_id)
        if team is None:
            unassigned.append(person)
        else:
            person.team = team
            team.active_members.append(person)
    return teams, unassigned


def team_and_teammates(*, user: User) -> tuple[Team | None, list[User]]:
    """The user's team (with its lead) and the other active people in it (not service accounts, as
    ``people_by_team``), in one query (two when nobody else is in the team)."""
    if user.team_id is None:
        return None, []
    teammates = list(
        User.objects.visible_to(user)
        .filter(team=user.team_id, is_service_account=False)
        .exclude(pk=user.pk)
        .select_related("team__lead")
        .order_by("full_name")
    )
    team = teammates[0].team if teammates else Team.objects.select_related("lead").get(pk=user.team_id)
    return team, teammates


def role_head_counts(people: list[User]) -> dict[str, int]:
    """Active people per role (``people``: as ``people_by_team`` lists them), every role present (0 where nobody
    has it)."""
    counts = Counter(person.role for person in people)
    return {role: counts[role] for role in Role.values}


def recent_unread(*, user: User, limit: int = 5) -> tuple[list[Notification], int]:
    """The newest ``limit`` unread notifications and how many are unread in all, in one query."""
    recent = list(notification_list(user=user).unread().annotate(unread_total=Window(Count("pk")))[:limit])
    return recent, recent[0].unread_total if recent else 0


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
