"""Filters of the proposal list (and the API's, which may reuse them)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from clients.models import Client
from clients.selectors import words_filter
from core.money import Currency
from proposals.models import Proposal, ProposalStatus

ALL = _("All")


class ProposalFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ProposalStatus.choices, empty_label=ALL)
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"),
        queryset=User.objects.filter(
            is_active=True, role__in=[Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR]
        ).order_by("full_name"),
        empty_label=ALL,
    )
    client = django_filters.NumberFilter(
        label=_("Client"), field_name="client_id", widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1
    )
    currency = django_filters.ChoiceFilter(label=_("Currency"), choices=Currency.choices, empty_label=ALL)

    class Meta:
        model = Proposal
        fields = ["q", "status", "owner", "client", "currency"]

    def search(self, queryset, name, value):
        """Number, title or client name; diacritics ignored for the client name."""
        value = value.strip()[:100]
        if not value:
            return queryset
        client_ids = Client.objects.filter(words_filter(value, "search_name")).values("pk")
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value) | Q(client__in=client_ids))
