"""The targets pages: a scope's scorecard for a period (every metric's target, live actual and attainment), the
form for one target, a team's grid, and copying the previous period's targets.

Everyone reads the scopes ``kpis.scorecard`` lets them (an account manager: their own and their team's);
only directors and admins change targets.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.models import Team, User
from accounts.permissions import DIRECTOR_ROLES, is_director, role_required
from core.errors import DomainError
from core.forms import add_domain_error
from core.history import HistorySource, history_response
from core.money import Currency

from . import services
from .forms import GRID_METRICS, GRID_MONEY_METRICS, GridForm, TargetForm, parse_period, period_options, plain
from .metrics import Scope
from .models import KpiTarget, Metric, ScopeKind
from .periods import Period, PeriodKind, current_period
from .scorecard import (
    TARGET_ROLES,
    Line,
    ScopeChoices,
    default_scope,
    format_attainment,
    format_figure,
    parse_scope_key,
    scope_key,
    scorecard,
)


def _period_from(request: HttpRequest) -> Period:
    """The period of the query string, or this month; a malformed one is a 404 rather than a guess."""
    key = request.GET.get("period")
    if not key:
        return current_period()
    try:
        return parse_period(key)
    except ValidationError:
        raise Http404 from None


def _scope_from(request: HttpRequest) -> Scope:
    key = request.GET.get("scope")
    if not key:
        return default_scope(request.user)
    scope = parse_scope_key(request.user, key)
    if scope is None:
        raise Http404
    return scope


def targets_url(period: Period, scope: Scope | None = None) -> str:
    query = {"period": period.key, **({"scope": scope_key(scope)} if scope else {})}
    return f"{reverse('kpis:targets')}?{urlencode(query)}"


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


# --- The scorecard ------------------------------------------------------------------------------------------


def _line_rows(lines: list[Line], scope: Scope, period: Period) -> list[dict]:
    """Each metric with its cells as text, and the links a director needs beside it."""
    rows = []
    for line in lines:
        cells = [
            {
                "currency": cell.currency,
                "target": format_figure(cell.target, line.metric, cell.currency),
                "actual": format_figure(cell.actual, line.metric, cell.currency),
                "attainment": format_attainment(cell),
                "met": cell.met,
            }
            for cell in line.cells
        ]
        set_query = {"metric": line.metric, "scope": scope_key(scope), "period": period.key}
        rows.append(
            {
                "metric": line.metric,
                "label": line.label,
                "higher_is_better": line.higher_is_better,
                "is_money": line.unit == "money",
                "cells": cells,
                "targets": [
                    {
                        "target": target,
                        "text": format_figure(target.value, line.metric, target.currency),
                        "edit_url": _set_url({**set_query, "currency": target.currency}),
                    }
                    for target in line.targets
                ],
                "set_url": _set_url(set_query),
            }
        )
    return rows


def _set_url(query: dict) -> str:
    return f"{reverse('kpis:target_set')}?{urlencode(query)}"


@login_required
def target_list(request: HttpRequest) -> HttpResponse:
    period, scope = _period_from(request), _scope_from(request)
    choices = ScopeChoices.for_user(request.user)
    lines = scorecard(scope, period)
    context = {
        "period": period,
        "period_options": period_options(period),
        "kinds": [(kind, label, current_period(kind).key) for kind, label in PeriodKind.choices],
        "scope": scope,
        "scope_key": scope_key(scope),
        "choices": choices,
        "rows": _line_rows(lines, scope, period),
        "targets_count": sum(len(line.targets) for line in lines),
        "can_edit": is_director(request.user),
        "previous": period.previous(),
        "grid_team": scope.team if scope.kind == ScopeKind.TEAM else getattr(scope.user, "team", None),
        "list_url": targets_url(period, scope),
        "history_url": _history_url(period, scope),
    }
    return render(request, "kpis/targets/list.html", context)


@login_required
def target_history(request: HttpRequest) -> HttpResponse:
    """Who set, changed or removed the targets of a scope and period (a removed target's history stays)."""
    period, scope = _period_from(request), _scope_from(request)
    rows = Q(scope=scope.kind, period_kind=period.kind, period_start=period.start)
    if scope.kind == ScopeKind.USER:
        rows &= Q(user_id=scope.user.pk)
    elif scope.kind == ScopeKind.TEAM:
        rows &= Q(team_id=scope.team.pk)
    return history_response(
        request,
        sources=[HistorySource(KpiTarget, rows, label=_("Target"), currency="currency", describe=_target_name)],
        title=f"{scope.label} · {period.label}",
        back_url=targets_url(period, scope),
        url=_history_url(period, scope),
    )


def _history_url(period: Period, scope: Scope) -> str:
    return f"{reverse('kpis:target_history')}?{urlencode({'period': period.key, 'scope': scope_key(scope)})}"


def _target_name(target: KpiTarget) -> str:
    return f"{target.get_metric_display()} · {target.currency}" if target.currency else target.get_metric_display()


# --- One target ---------------------------------------------------------------------------------------------


def _initial(request: HttpRequest, choices: ScopeChoices) -> dict:
    """The form's starting values from the query string, and the target already set for them (its value and
    version), so "edit" and "set" are the same form."""
    initial = {key: request.GET.get(key, "") for key in ("metric", "scope", "currency")}
    initial["period"] = request.GET.get("period") or current_period().key
    probe = TargetForm({**initial, "value": "0"}, choices=choices)
    if probe.is_valid():
        fields = probe.target_fields()
        existing = KpiTarget.objects.filter(
            metric=fields["metric"],
            scope=fields["scope"],
            user=fields["user"],
            team=fields["team"],
            period_kind=fields["period"].kind,
            period_start=fields["period"].start,
            currency=fields["currency"],
        ).first()
        if existing is not None:
            initial.update(value=plain(existing.value), version=existing.version)
    return initial


@login_required
@role_required(*DIRECTOR_ROLES)
def target_form(request: HttpRequest) -> HttpResponse:
    choices = ScopeChoices.for_user(request.user)
    if request.method == "POST":
        form = TargetForm(request.POST, choices=choices)
        if form.is_valid():
            fields = form.target_fields()
            try:
                target = services.target_set(actor=request.user, **fields)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                label = Metric(target.metric).label
                messages.success(request, _("Target for %(metric)s saved.") % {"metric": label})
                scope = parse_scope_key(request.user, form.cleaned_data["scope"])
                return redirect(targets_url(fields["period"], scope))
        status = 400
    else:
        form = TargetForm(initial=_initial(request, choices), choices=choices)
        status = 200
    return render(request, "kpis/targets/form.html", {"form": form}, status=status)


@login_required
@role_required(*DIRECTOR_ROLES)
@require_POST
def target_delete(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(KpiTarget.objects.visible_to(request.user).select_related("user", "team"), pk=pk)
    version = request.POST.get("version")
    fallback = targets_url(target.period)
    try:
        services.target_delete(
            actor=request.user, target=target, expected_version=int(version) if version and version.isdigit() else None
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Target removed."))
    return redirect(_safe_next(request, fallback))


# --- A team's grid ------------------------------------------------------------------------------------------


def _grid_members(team: Team) -> list[User]:
    return list(User.objects.filter(team=team, is_active=True, role__in=TARGET_ROLES).order_by("full_name", "pk"))


def _grid_targets(team: Team, members: list[User], period: Period, currency: str) -> dict:
    """{(user id or None for the team, metric): target} of the grid's cells, in one query."""
    rows = (
        KpiTarget.objects.for_period(period)
        .filter(Q(scope=ScopeKind.TEAM, team=team) | Q(scope=ScopeKind.USER, user__in=members))
        .filter(
            Q(metric__in=GRID_MONEY_METRICS, currency=currency)
            | (Q(metric__in=GRID_METRICS) & ~Q(metric__in=GRID_MONEY_METRICS) & Q(currency=""))
        )
    )
    return {(target.user_id, target.metric): target for target in rows}


def _grid_params(request: HttpRequest) -> tuple[Team, Period, str]:
    source = request.POST if request.method == "POST" else request.GET
    team_id = source.get("team")
    teams = Team.objects.order_by("name")
    team = (teams.filter(pk=team_id).first() if team_id and team_id.isdigit() else teams.first()) or None
    if team is None:
        raise Http404
    try:
        period = parse_period(source.get("period")) if source.get("period") else current_period()
    except ValidationError:
        raise Http404 from None
    currency = source.get("currency") or settings.ACCORD_DEFAULT_CURRENCY
    if currency not in Currency.values:
        raise Http404
    return team, period, currency


@login_required
@role_required(*DIRECTOR_ROLES)
def target_grid(request: HttpRequest) -> HttpResponse:
    team, period, currency = _grid_params(request)
    members = _grid_members(team)
    existing = _grid_targets(team, members, period, currency)
    status = 200
    if request.method == "POST":
        form = GridForm(request.POST, team=team, members=members, existing=existing, currency=currency)
        if form.is_valid():
            try:
                saved = services.targets_set_grid(actor=request.user, team=team, period=period, rows=form.cells())
            except DomainError as error:
                add_domain_error(form, error)
                if any(key in form.fields for key in error.fields):
                    form.add_error(None, error.message)  # the cells say what; the top says nothing was saved
            else:
                messages.success(
                    request,
                    ngettext("%(count)d target saved.", "%(count)d targets saved.", len(saved)) % {"count": len(saved)},
                )
                return redirect(f"{reverse('kpis:target_grid')}?{_grid_query(team, period, currency)}")
        status = 400
    else:
        form = GridForm(team=team, members=members, existing=existing, currency=currency)
    context = {
        "form": form,
        "team": team,
        "teams": Team.objects.order_by("name"),
        "period": period,
        "period_options": period_options(period),
        "currency": currency,
        "currencies": Currency.choices,
        "metrics": [
            {"key": metric, "label": Metric(metric).label, "money": metric in GRID_MONEY_METRICS}
            for metric in GRID_METRICS
        ],
        "rows": form.rows(),
        "grid_url": f"{reverse('kpis:target_grid')}?{_grid_query(team, period, currency)}",
        "list_url": targets_url(period, Scope.of_team(team)),
    }
    return render(request, "kpis/targets/grid.html", context, status=status)


def _grid_query(team: Team, period: Period, currency: str) -> str:
    return urlencode({"team": team.pk, "period": period.key, "currency": currency})


# --- Copying the previous period ----------------------------------------------------------------------------


@login_required
@role_required(*DIRECTOR_ROLES)
@require_POST
def targets_copy(request: HttpRequest) -> HttpResponse:
    try:
        period = parse_period(request.POST.get("period", ""))
    except ValidationError:
        raise Http404 from None
    team_id = request.POST.get("team", "")
    team = get_object_or_404(Team, pk=team_id) if team_id.isdigit() else None
    scope = request.POST.get("scope") or None
    if scope is not None and scope not in ScopeKind.values:
        raise Http404
    fallback = targets_url(period)
    try:
        copied = services.targets_copy_from_previous(actor=request.user, period=period, scope=scope, team=team)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_safe_next(request, fallback))
    if copied:
        message = ngettext(
            "%(count)d target copied from %(previous)s.", "%(count)d targets copied from %(previous)s.", copied
        )
        messages.success(request, message % {"count": copied, "previous": period.previous().label})
    else:
        messages.info(
            request,
            _("Nothing copied: %(previous)s has no target that is not already set for %(period)s.")
            % {"previous": period.previous().label, "period": period.label},
        )
    return redirect(_safe_next(request, fallback))
