"""Writes for KPI targets (directors only) and the monthly exchange rates (administrators).

Money targets have a currency (one target per currency); counts, rates and days have none. A target is set by
its metric, scope, period and currency: setting it again changes its value. ``expected_version`` (the version the
director saw) refuses a change over someone else's with a ConflictError.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team, User
from accounts.permissions import has_role, is_director
from core.errors import ConflictError, DomainError, PermissionDeniedError
from core.history import record_history
from core.money import Currency, round_money

from .metrics import METRICS
from .models import ExchangeRate, KpiTarget, Metric, ScopeKind
from .periods import Period

# Rates that cannot pass 100 % (net revenue retention can: clients that grow).
CAPPED_AT_100 = (Metric.WIN_RATE, Metric.RENEWAL_RATE, Metric.GROSS_REVENUE_RETENTION)
MAX_TARGET = Decimal("9999999999999999.99")


def is_money(metric: str) -> bool:
    return METRICS[Metric(metric)].unit == "money"


def _ensure_director(actor: User) -> None:
    if not is_director(actor):
        raise PermissionDeniedError(_("Only directors set KPI targets."))


def _invalid(field: str, message: str, code: str = "invalid") -> DomainError:
    return DomainError(message, code=code, fields={field: [message]})


def _clean_metric(metric: str) -> Metric:
    try:
        return Metric(metric)
    except ValueError:
        raise _invalid("metric", _("Unknown metric.")) from None


def _clean_scope(scope: str, user: User | None, team: Team | None) -> tuple[User | None, Team | None]:
    """The user or team the scope needs, and nothing else."""
    if scope == ScopeKind.USER:
        if user is None or not user.is_active:
            raise _invalid("user", _("Choose an active account manager."))
        return user, None
    if scope == ScopeKind.TEAM:
        if team is None:
            raise _invalid("team", _("Choose a team."))
        return None, team
    if scope == ScopeKind.AGENCY:
        return None, None
    raise _invalid("scope", _("The scope is an account manager, a team or the agency."))


def _clean_value(metric: Metric, value, currency: str) -> tuple[Decimal, str]:
    """The target's value and currency: money in a currency and its unit, counts whole, rates within 100 %."""
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise _invalid("value", _("Enter a number.")) from None
    if not value.is_finite() or value < 0 or value > MAX_TARGET:
        raise _invalid("value", _("Enter a target of 0 or more."))
    if is_money(metric):
        if currency not in Currency.values:
            raise _invalid("currency", _("A money target needs its currency."), "currency_required")
        if round_money(value, currency) != value:
            unit = _("đồng") if currency == Currency.VND else _("cents")
            raise _invalid("value", _("Enter the target in whole %(unit)s.") % {"unit": unit})
        return value, currency
    if currency:
        raise _invalid("currency", _("Only money targets have a currency."), "currency_not_allowed")
    if METRICS[metric].unit == "count" and value != value.to_integral_value():
        raise _invalid("value", _("Enter a whole number."))
    if metric in CAPPED_AT_100 and value > 100:
        raise _invalid("value", _("A rate cannot pass 100 %."))
    return value.quantize(Decimal("0.01")), ""


def _identity(metric, scope, user, team, period: Period, currency) -> dict:
    return {
        "metric": metric,
        "scope": scope,
        "user": user,
        "team": team,
        "period_kind": period.kind,
        "period_start": period.start,
        "currency": currency,
    }


def _stale() -> ConflictError:
    return ConflictError(_("Someone else changed this target while you were editing it. Reload to see their value."))


@transaction.atomic
def target_set(
    *,
    actor: User,
    metric: str,
    scope: str,
    user: User | None = None,
    team: Team | None = None,
    period: Period,
    value,
    currency: str = "",
    expected_version: int | None = None,
) -> KpiTarget:
    """Set the target of ``metric`` for a scope, period and currency: create it, or change the one already set.

    Directors and admins only (PermissionDeniedError). Raises DomainError for a value, currency or scope the
    metric does not take, and ConflictError when the target changed (or was removed) since ``expected_version``.
    """
    _ensure_director(actor)
    metric = _clean_metric(metric)
    user, team = _clean_scope(scope, user, team)
    value, currency = _clean_value(metric, value, currency)
    identity = _identity(metric, scope, user, team, period, currency)
    target = KpiTarget.objects.select_for_update().filter(**identity).first()
    if target is None:
        if expected_version is not None:
            raise _stale()
        return _create(KpiTarget(**identity, value=value, set_by=actor))
    if expected_version is not None and target.version != expected_version:
        raise _stale()
    if target.value != value or target.set_by_id != actor.pk:
        KpiTarget.objects.filter(pk=target.pk).update(
            value=value, set_by=actor, version=F("version") + 1, updated_at=timezone.now()
        )
        record_history(KpiTarget.objects.filter(pk=target.pk), user=actor)
        target.refresh_from_db()
    return target


def _create(target: KpiTarget) -> KpiTarget:
    """Insert a target; one inserted a moment before by someone else is a clear 409, not a 500."""
    target._history_user = target.set_by  # the director who set it, also outside a request (a command)
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as error:
        raise ConflictError(_("Someone else set this target a moment ago. Reload to see their value.")) from error
    return target


@transaction.atomic
def target_delete(*, actor: User, target: KpiTarget, expected_version: int | None = None) -> None:
    """Remove a target (directors and admins). ConflictError when it changed since ``expected_version``."""
    _ensure_director(actor)
    rows = KpiTarget.objects.filter(pk=target.pk)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    if not rows.delete()[0]:
        raise _stale()


# --- A team's targets at once -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridCell:
    """One cell of a team's grid: ``user`` None is the team's own target; ``value`` None leaves the cell as is."""

    user: User | None
    metric: str
    value: Decimal | None
    currency: str = ""
    expected_version: int | None = None


def cell_key(user: User | None, metric: str) -> str:
    """The name of a grid cell, in the errors ``targets_set_grid`` raises and in the grid form's fields."""
    return f"cell_{user.pk if user else 'team'}_{metric}"


@transaction.atomic
def targets_set_grid(*, actor: User, team: Team, period: Period, rows: Iterable[GridCell]) -> list[KpiTarget]:
    """Set a team's targets (its members' and its own) for a period in one go: all of them or none.

    Raises DomainError (code ``invalid_grid``) naming each refused cell in ``fields`` by ``cell_key``, and
    ConflictError naming the cells someone else changed since their ``expected_version``; nothing is saved then.
    """
    _ensure_director(actor)
    cells = [cell for cell in rows if cell.value is not None]
    errors: dict[str, list[str]] = {}
    for cell in cells:
        try:
            _check_cell(team, cell)
        except DomainError as error:
            errors[cell_key(cell.user, cell.metric)] = [error.message]
    if errors:
        raise DomainError(_("Some targets are not valid: nothing was saved."), code="invalid_grid", fields=errors)
    saved = []
    for cell in cells:
        try:
            saved.append(_set_cell(actor, team, period, cell))
        except ConflictError as error:
            errors[cell_key(cell.user, cell.metric)] = [error.message]
    if errors:
        raise ConflictError(_("Someone else changed some of these targets: nothing was saved."), fields=errors)
    return saved


def _check_cell(team: Team, cell: GridCell) -> None:
    if cell.user is not None and cell.user.team_id != team.pk:
        raise DomainError(_("%(name)s is not in this team.") % {"name": cell.user})
    _clean_scope(ScopeKind.USER if cell.user else ScopeKind.TEAM, cell.user, team)
    _clean_value(_clean_metric(cell.metric), cell.value, cell.currency)


def _set_cell(actor: User, team: Team, period: Period, cell: GridCell) -> KpiTarget:
    scope = ScopeKind.USER if cell.user else ScopeKind.TEAM
    return target_set(
        actor=actor,
        metric=cell.metric,
        scope=scope,
        user=cell.user,
        team=None if cell.user else team,
        period=period,
        value=cell.value,
        currency=cell.currency,
        expected_version=cell.expected_version,
    )


# --- Copying the previous period ----------------------------------------------------------------------------


@transaction.atomic
def targets_copy_from_previous(
    *, actor: User, period: Period, scope: str | None = None, team: Team | None = None
) -> int:
    """Copy the previous period's targets (same kind: the month before, the quarter before, the year before) that
    are not set yet for ``period``; returns how many were copied. Targets already set are left as they are, and
    the targets of departed account managers are not copied.

    ``scope`` narrows to one kind of scope; ``team`` to the team's own targets and its members'. Directors only.
    """
    _ensure_director(actor)
    source = KpiTarget.objects.for_period(period.previous()).exclude(scope=ScopeKind.USER, user__is_active=False)
    if scope:
        source = source.filter(scope=scope)
    if team is not None:
        source = source.filter(Q(scope=ScopeKind.TEAM, team=team) | Q(scope=ScopeKind.USER, user__team=team))
    taken = set(KpiTarget.objects.for_period(period).values_list("metric", "scope", "user_id", "team_id", "currency"))
    copies = [
        KpiTarget(
            metric=target.metric,
            scope=target.scope,
            user_id=target.user_id,
            team_id=target.team_id,
            period_kind=period.kind,
            period_start=period.start,
            value=target.value,
            currency=target.currency,
            set_by=actor,
        )
        for target in source
        if (target.metric, target.scope, target.user_id, target.team_id, target.currency) not in taken
    ]
    try:
        with transaction.atomic():
            KpiTarget.objects.bulk_create(copies)
            KpiTarget.history.bulk_history_create(copies, default_user=actor)
    except IntegrityError as error:
        raise ConflictError(_("Someone else set targets for this period a moment ago. Try again.")) from error
    return len(copies)


# --- Exchange rates -----------------------------------------------------------------------------------------


def clean_exchange_rate(vnd_per_usd) -> Decimal:
    """How many đồng a dollar is worth: at least 1, to the hundredth at most. DomainError otherwise."""
    try:
        rate = Decimal(vnd_per_usd)
    except (InvalidOperation, TypeError, ValueError):
        raise _invalid("vnd_per_usd", _("Enter a number.")) from None
    if not rate.is_finite() or rate < 1 or rate != rate.quantize(Decimal("0.01")) or rate >= Decimal("1e10"):
        raise _invalid("vnd_per_usd", _("Enter how many đồng one dollar is worth, to the hundredth at most."))
    return rate


@transaction.atomic
def exchange_rate_set(*, actor: User, month: date, vnd_per_usd) -> ExchangeRate:
    """Set the month's rate (how many đồng one dollar was worth). Administrators only."""
    if not has_role(actor, "admin"):
        raise PermissionDeniedError(_("Only administrators keep the exchange rates."))
    exchange_rate, _created = ExchangeRate.objects.update_or_create(
        month=month.replace(day=1), defaults={"vnd_per_usd": clean_exchange_rate(vnd_per_usd)}
    )
    return exchange_rate
