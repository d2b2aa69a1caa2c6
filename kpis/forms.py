"""Forms of the targets pages: one target, a team's grid, and the period and scope pickers."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from core.money import Currency

from .metrics import METRICS
from .models import Metric, ScopeKind
from .periods import Period
from .scorecard import ScopeChoices
from .services import GridCell, cell_key

# The grid: money metrics in the page's currency, then counts and rates (DSO, retention and coverage are set one
# by one on the target form).
GRID_MONEY_METRICS = (
    Metric.SIGNED_REVENUE,
    Metric.UPSELL_REVENUE,
    Metric.INVOICED_REVENUE,
    Metric.CASH_COLLECTED,
    Metric.GROSS_MARGIN,
)
GRID_OTHER_METRICS = (Metric.NEW_CLIENTS, Metric.WIN_RATE, Metric.RENEWAL_RATE)
GRID_METRICS = GRID_MONEY_METRICS + GRID_OTHER_METRICS


def plain(value: Decimal | None) -> str | None:
    """A stored value as people type it: 800000000 rather than 800000000.00, 12500.50 as it is."""
    if value is None:
        return None
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value)


def parse_period(text: str) -> Period:
    """A period key ('2026-11', '2026-Q4', '2026'); ValidationError otherwise."""
    try:
        return Period.parse(text or "")
    except ValueError:
        raise ValidationError(
            _("Enter a month (2026-11), a quarter (2026-Q4) or a year (2026)."), code="invalid_period"
        ) from None


class PeriodField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("help_text", _("A month (2026-11), a quarter (2026-Q4) or a year (2026)."))
        super().__init__(**kwargs)

    def clean(self, value) -> Period:
        return parse_period(super().clean(value))


def scope_choices(choices: ScopeChoices) -> list:
    """The picker's options, grouped: the agency, the teams, the people."""
    options: list = []
    if choices.agency:
        options.append((ScopeKind.AGENCY.value, str(ScopeKind.AGENCY.label)))
    if choices.teams:
        options.append((_("Teams"), [(f"team:{team.pk}", team.name) for team in choices.teams]))
    if choices.people:
        options.append((_("Account managers"), [(f"user:{person.pk}", str(person)) for person in choices.people]))
    return options


class TargetForm(forms.Form):
    """One target. The scope is 'agency', 'team:<id>' or 'user:<id>', among the scopes a director may pick."""

    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices)
    scope = forms.ChoiceField(label=_("For"))
    period = PeriodField(label=_("Period"))
    value = forms.DecimalField(label=_("Target"), min_value=Decimal("0"), max_digits=18, decimal_places=2)
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=[("", _("None (not money)")), *Currency.choices],
        required=False,
        help_text=_("Money targets only: one target per currency."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, choices: ScopeChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = choices
        self.fields["scope"].choices = scope_choices(choices)

    def clean(self):
        data = super().clean()
        metric, currency = data.get("metric"), data.get("currency", "")
        if metric and METRICS[metric].unit == "money" and not currency:
            self.add_error("currency", _("A money target needs its currency."))
        if metric and METRICS[metric].unit != "money" and currency:
            self.add_error("currency", _("Only money targets have a currency."))
        return data

    def target_fields(self) -> dict:
        """The cleaned form as ``services.target_set``'s keywords."""
        data = self.cleaned_data
        kind, _sep, pk = data["scope"].partition(":")
        user = next((person for person in self.choices.people if str(person.pk) == pk), None)
        team = next((team for team in self.choices.teams if str(team.pk) == pk), None)
        return {
            "metric": data["metric"],
            "scope": kind,
            "user": user if kind == ScopeKind.USER else None,
            "team": team if kind == ScopeKind.TEAM else None,
            "period": data["period"],
            "value": data["value"],
            "currency": data["currency"] if METRICS[data["metric"]].unit == "money" else "",
            "expected_version": data.get("version"),
        }


class GridForm(forms.Form):
    """A team's targets for one period: a row per member and one for the team, a column per grid metric.

    Each cell is a target value (blank leaves it as it is) with the version it was read at, hidden beside it.
    """

    def __init__(self, *args, team: Team, members: list[User], existing: dict, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.members, self.currency = members, currency
        for person in [None, *members]:
            for metric in GRID_METRICS:
                key = cell_key(person, metric)
                target = existing.get((person.pk if person else None, metric))
                label = _("%(metric)s of %(who)s") % {"metric": Metric(metric).label, "who": person or team}
                self.fields[key] = forms.DecimalField(
                    label=label,
                    widget=forms.TextInput(
                        attrs={
                            "inputmode": "decimal",
                            "aria-label": label,
                            "size": 13 if metric in GRID_MONEY_METRICS else 5,
                        }
                    ),
                    required=False,
                    min_value=Decimal("0"),
                    max_digits=18,
                    decimal_places=2,
                    initial=plain(target.value) if target else None,
                )
                self.fields[f"{key}_version"] = forms.IntegerField(
                    widget=forms.HiddenInput, required=False, initial=target.version if target else None
                )

    def rows(self) -> list[dict]:
        """The grid for the template: the team row first, then each member, each with its cells' bound fields."""
        rows = []
        for person in [None, *self.members]:
            cells = []
            for metric in GRID_METRICS:
                key = cell_key(person, metric)
                cells.append({"metric": metric, "field": self[key], "version": self[f"{key}_version"]})
            rows.append({"person": person, "cells": cells})
        return rows

    def cells(self) -> list[GridCell]:
        data = self.cleaned_data
        cells = []
        for person in [None, *self.members]:
            for metric in GRID_METRICS:
                key = cell_key(person, metric)
                cells.append(
                    GridCell(
                        user=person,
                        metric=metric,
                        value=data.get(key),
                        currency=self.currency if metric in GRID_MONEY_METRICS else "",
                        expected_version=data.get(f"{key}_version"),
                    )
                )
        return cells


def period_options(period: Period, back: int = 12, ahead: int = 3) -> list[Period]:
    """The periods a picker offers around ``period``: ``ahead`` after it, then it and ``back - 1`` before it."""
    later, step = [], period
    for _index in range(ahead):
        step = step.next()
        later.append(step)
    return [*reversed(later), *reversed(period.last(back))]
