"""Filters shared by the pipeline board, the contract list, the CSV export and the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, Team, User
from clients.models import Client
from clients.selectors import words_filter
from contracts.models import Contract, ContractKind, Stage
from core.money import Currency

ALL = _("All")


class ContractFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"),
        queryset=User.objects.filter(
            is_active=True, role__in=[Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR]
        ).order_by("full_name"),
        empty_label=ALL,
    )
    team = django_filters.ModelChoiceFilter(
        label=_("Team"), field_name="owner__team", queryset=Team.objects.all(), empty_label=ALL
    )
    client = django_filters.NumberFilter(
        label=_("Client"), field_name="client_id", widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1
    )
    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=Stage.choices, empty_label=ALL)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=ContractKind.choices, empty_label=ALL)
    currency = django_filters.ChoiceFilter(label=_("Currency"), choices=Currency.choices, empty_label=ALL)
    close_month = django_filters.CharFilter(
        label=_("Expected close"),
        method="by_close_month",
        widget=forms.TextInput(attrs={"type": "month"}),
        help_text=_("A month, e.g. 2026-12."),
    )

    class Meta:
        model = Contract
        fields = ["q", "owner", "team", "client", "stage", "kind", "currency", "close_month"]

    def search(self, queryset, name, value):
        """Number, title or client name; diacritics ignored for the client name."""
        client_ids = Client.objects.filter(words_filter(value, "search_name")).values("pk")
        return queryset.filter(
            Q(number__icontains=value.strip()) | Q(title__icontains=value.strip()) | Q(client__in=client_ids)
        )

    def by_close_month(self, queryset, name, value):
        try:
            year, month = (int(part) for part in value.split("-")[:2])
        except ValueError:
            return queryset.none()
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            return queryset.none()
        return queryset.filter(expected_close__year=year, expected_close__month=month)
