"""The home page's KPI panel: four of the month's figures (the agency's for directors, one's own for account
managers), each against its target where it has one, linking to the dashboard. Registered in KpisConfig.ready()."""

from django.urls import reverse

from accounts.models import Role
from kpis import cache as kpi_cache
from kpis import metrics
from kpis.metrics import Scope
from kpis.models import KpiTarget, Metric
from kpis.periods import current_period
from kpis.scorecard import figure_cells
from kpis.selectors.board import currency_order

from .shared import cell_view, drilldown_url

HOME_METRICS = (Metric.SIGNED_REVENUE, Metric.CASH_COLLECTED, Metric.PIPELINE_WEIGHTED, Metric.OVERDUE_RECEIVABLES)
HOME_ROLES = (Role.DIRECTOR, Role.ADMIN, Role.ACCOUNT_MANAGER)


def home_figures(scope: Scope, period) -> dict[str, metrics.Figure]:
    """The four figures, from the cache while no contract or invoice changes (``kpis.cache``); else two queries
    (``metrics.month_at_a_glance``)."""
    figures = kpi_cache.cached("home", (scope.key, period), lambda: metrics.month_at_a_glance(scope, period))
    return {metric: figures[metric] for metric in HOME_METRICS}


def home_panel(user) -> dict:
    """Two queries (the month's targets of the four metrics, the data's revision), and two more when the figures
    are not in the cache."""
    period = current_period()
    scope = Scope.of_user(user) if user.role == Role.ACCOUNT_MANAGER else Scope.agency()
    targets: dict[str, dict] = {}
    for metric, currency, value in (
        KpiTarget.objects.for_period(period)
        .filter(scope.targets(), metric__in=HOME_METRICS)
        .values_list("metric", "currency", "value")
    ):
        targets.setdefault(metric, {})[currency] = value
    figures = []
    for metric, figure in home_figures(scope, period).items():
        figures.append(
            {
                "label": Metric(metric).label,
                "cells": [
                    cell_view(cell, metric)
                    for cell in sorted(
                        figure_cells(metric, figure, targets.get(metric, {})),
                        key=lambda cell: currency_order(cell.currency),
                    )
                ],
                "url": drilldown_url(metric, scope, period),
            }
        )
    dashboard = reverse("kpis:am") if scope.kind == "user" else reverse("kpis:director")
    return {
        "kpi_home": {"period": period, "figures": figures, "dashboard_url": dashboard, "mine": scope.kind == "user"}
    }


def register_kpi_home_panel() -> None:
    from accounts.home import register_home_panel

    register_home_panel(template="kpis/home/panel.html", roles=set(HOME_ROLES), context=home_panel, order=3)
