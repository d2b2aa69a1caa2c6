"""A scope's scorecard: each metric's live actual (``kpis.metrics``) against its targets, for one period.

The targets page and the metrics API read figures here, and decide here who may read which scope: an account
manager (or a salesperson) their own figures and their team's totals; finance, directors and admins everything.
Attainment and "met" come from ``kpis.selectors.make_cell``, the dashboards' own, so a figure reads the same
everywhere.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role, Team, User
from accounts.permissions import has_role, sees_everything
from core.money import format_money

from . import cache as kpi_cache
from .metrics import CACHED_METRICS, METRICS, Figure, Scope, compute
from .models import KpiTarget, Metric, ScopeKind
from .periods import Period
from .selectors.board import VALUE_METRICS, Cell, make_cell

# People who have targets of their own: the scope pickers list them.
TARGET_ROLES = (Role.ACCOUNT_MANAGER, Role.SALES)


def per_currency(metric: str) -> bool:
    """Money, and the ratios kept per currency (DSO, coverage, retention), come per currency; counts and the
    other rates are one value."""
    return metric not in VALUE_METRICS


# --- Who reads which scope ----------------------------------------------------------------------------------


def sees_all_scopes(user: User) -> bool:
    return sees_everything(user) or has_role(user, Role.FINANCE)


def can_read_scope(user: User, scope: Scope) -> bool:
    """Finance, directors and admins read every scope; others their own figures and their own team's totals."""
    if not user.is_authenticated or not user.is_active:
        return False
    if sees_all_scopes(user):
        return True
    if scope.kind == ScopeKind.USER:
        return scope.user.pk == user.pk
    if scope.kind == ScopeKind.TEAM:
        return user.team_id is not None and scope.team.pk == user.team_id
    return False


def scope_key(scope: Scope) -> str:
    """'agency', 'team:3' or 'user:12': how a page's scope picker names a scope."""
    if scope.kind == ScopeKind.USER:
        return f"user:{scope.user.pk}"
    if scope.kind == ScopeKind.TEAM:
        return f"team:{scope.team.pk}"
    return ScopeKind.AGENCY


def readable_scope(user: User, kind: str, pk: int | None = None) -> Scope | None:
    """The scope ``kind`` (and ``pk`` of its user or team) if ``user`` may read it; None otherwise, and for a user
    or team that does not exist, so a hidden scope looks like a missing one."""
    if kind == ScopeKind.AGENCY:
        scope = Scope.agency()
    elif kind == ScopeKind.USER and pk is not None:
        person = User.objects.select_related("team").filter(pk=pk).first()
        scope = Scope.of_user(person) if person else None
    elif kind == ScopeKind.TEAM and pk is not None:
        team = Team.objects.filter(pk=pk).first()
        scope = Scope.of_team(team) if team else None
    else:
        scope = None
    return scope if scope is not None and can_read_scope(user, scope) else None


def parse_scope_key(user: User, key: str) -> Scope | None:
    """``scope_key``'s text back to a scope ``user`` may read, or None."""
    kind, _sep, pk = (key or "").partition(":")
    if kind != ScopeKind.AGENCY and not pk.isdigit():
        return None
    return readable_scope(user, kind, int(pk) if pk else None)


def default_scope(user: User) -> Scope:
    """The agency for those who read everything, otherwise the user's own figures."""
    return Scope.agency() if sees_all_scopes(user) else Scope.of_user(user)


@dataclass(frozen=True)
class ScopeChoices:
    """The scopes a picker offers ``user``: the agency, teams and people (two queries for those who see all)."""

    agency: bool
    teams: list[Team]
    people: list[User]

    @classmethod
    def for_user(cls, user: User) -> "ScopeChoices":
        if sees_all_scopes(user):
            people = User.objects.filter(is_active=True, role__in=TARGET_ROLES).select_related("team")
            return cls(True, list(Team.objects.order_by("name")), list(people.order_by("full_name", "pk")))
        teams = [user.team] if user.team_id else []
        return cls(False, teams, [user])


# --- Figures against targets --------------------------------------------------------------------------------


def targets_of(scope: Scope, period: Period) -> QuerySet[KpiTarget]:
    """The period's targets of one scope (every metric and currency), with who set them."""
    return (
        KpiTarget.objects.for_period(period)
        .filter(scope.targets())
        .select_related("set_by", "user", "team")
        .order_by("metric", "currency")
    )


def figure_cells(metric: str, figure: Figure, targets: dict[str, Decimal]) -> list[Cell]:
    """A figure against its targets ({currency: value}, '' for a metric without money), as the dashboards show it:
    one cell for counts and rates; one per currency for money (every currency with an actual or a target) and for
    the ratios kept per currency (each against the one target)."""
    better = METRICS[metric].higher_is_better
    if not per_currency(metric):
        return [make_cell("", figure.value, targets.get(""), better)]
    if METRICS[metric].unit != "money":
        cells = [make_cell(currency, value, targets.get(""), better) for currency, value in figure.amounts.items()]
        return cells or ([make_cell("", None, targets[""], better)] if "" in targets else [])
    zero = Decimal("0")
    currencies = sorted(set(figure.amounts) | set(targets))
    return [
        make_cell(currency, figure.amounts.get(currency, zero), targets.get(currency), better)
        for currency in currencies
    ]


@dataclass
class Line:
    """One metric of a scorecard: its figure, one cell per currency (or one), and the target rows behind it."""

    metric: str
    figure: Figure
    cells: list[Cell]
    targets: list[KpiTarget] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(Metric(self.metric).label)

    @property
    def unit(self) -> str:
        return METRICS[self.metric].unit

    @property
    def higher_is_better(self) -> bool:
        return METRICS[self.metric].higher_is_better


def scorecard(scope: Scope, period: Period, metrics: tuple[str, ...] = tuple(Metric)) -> list[Line]:
    """Every metric of ``metrics`` for ``scope`` and ``period`` against the scope's targets. The number of queries
    depends on the metrics asked for (and the currencies retention finds), never on the number of targets."""
    by_metric: dict[str, list[KpiTarget]] = {}
    for target in targets_of(scope, period):
        by_metric.setdefault(target.metric, []).append(target)
    # The metrics read from the cache share one look-up of the data's revision.
    revision_now = kpi_cache.revision() if CACHED_METRICS.intersection(metrics) else None
    lines = []
    for metric in metrics:
        figure = compute(metric, scope, period, revision_now=revision_now)
        targets = by_metric.get(metric, [])
        values = {target.currency: target.value for target in targets}
        lines.append(Line(metric, figure, figure_cells(metric, figure, values), targets))
    return lines


# --- Text ---------------------------------------------------------------------------------------------------


def format_figure(value: Decimal | None, metric: str, currency: str = "") -> str:
    """A figure as people read it: '12,500,000 ₫', '75.0 %', '32.3 days', '1.54×', '3'; '—' when undefined."""
    if value is None:
        return "—"
    unit = METRICS[metric].unit
    if unit == "money":
        return format_money(value, currency)
    if unit == "count":
        return number_format(value, decimal_pos=0, use_l10n=True, force_grouping=True)
    if unit == "percent":
        return _("%(value)s %%") % {"value": number_format(value, decimal_pos=1, use_l10n=True)}
    if unit == "days":
        text = number_format(value, decimal_pos=1, use_l10n=True)
        return ngettext("%(days)s day", "%(days)s days", int(value) if value == int(value) else 2) % {"days": text}
    return _("%(value)s×") % {"value": number_format(value, decimal_pos=2, use_l10n=True)}


def format_attainment(cell: Cell) -> str:
    if cell.attainment is None:
        return "—"
    return _("%(value)s %%") % {"value": number_format(cell.attainment, decimal_pos=1, use_l10n=True)}
