"""Filters of the invoice list and its CSV export; the receivables and collections pages link into them, so a
figure on those pages and the list it opens always agree (the list's total is the figure)."""

import re

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from clients.models import Client
from clients.selectors import words_filter
from contracts.billing.selectors import BUCKETS, bucket_filter
from contracts.models import OPEN_STATUSES, InvoiceStatus, WriteOffStatus
from core.money import Currency

ALL = _("All")
OPEN = "open"
NO_TEAM = "none"
ID_LIMITS = {"min_value": 1, "max_value": 2**31 - 1}
# The beginning of an invoice number (INV-2026-00042) with a digit at least: "INV-2", "INV-2026-", "inv-2026-0012".
NUMBER_PREFIX = re.compile(r"INV-\d{1,4}(-\d{0,5})?", re.IGNORECASE)


def _owners():
    """Whoever owns a client (account managers, also sales and directors), inactive ones included: their
    clients' invoices still need a name to filter by."""
    return User.objects.filter(pk__in=Client.objects.values("owner_id")).order_by("full_name")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class InvoiceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[(OPEN, _("Open (issued or partly paid)")), *InvoiceStatus.choices],
        empty_label=ALL,
        method="by_status",
    )
    overdue = django_filters.BooleanFilter(label=_("Overdue only"), method="only_overdue", widget=forms.CheckboxInput)
    bucket = django_filters.ChoiceFilter(
        label=_("Days past due"),
        choices=[(bucket.key, bucket.label) for bucket in BUCKETS],
        empty_label=ALL,
        method="in_bucket",
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("Account manager"), field_name="client__owner", queryset=_owners(), empty_label=ALL
    )
    team = django_filters.ModelChoiceFilter(
        label=_("Team"),
        field_name="client__team",
        queryset=Team.objects.order_by("name"),
        empty_label=ALL,
        null_label=_("No team"),
        null_value=NO_TEAM,
    )
    currency = django_filters.ChoiceFilter(label=_("Currency"), choices=Currency.choices, empty_label=ALL)
    due_from = django_filters.DateFilter(
        label=_("Due from"), field_name="due_date", lookup_expr="gte", widget=DateInput
    )
    due_to = django_filters.DateFilter(label=_("Due until"), field_name="due_date", lookup_expr="lte", widget=DateInput)
    client = django_filters.NumberFilter(
        label=_("Client"), field_name="client_id", widget=forms.HiddenInput, **ID_LIMITS
    )
    contract = django_filters.NumberFilter(
        label=_("Contract"), field_name="contract_id", widget=forms.HiddenInput, **ID_LIMITS
    )
    disputed = django_filters.BooleanFilter(label=_("Disputed"), method="only_disputed", widget=forms.HiddenInput)
    promise_due = django_filters.DateFilter(label=_("Promised for"), method="promised_for", widget=forms.HiddenInput)
    write_off = django_filters.ChoiceFilter(
        label=_("Write-off"),
        choices=[(WriteOffStatus.PENDING, WriteOffStatus.PENDING.label)],
        method="write_off_pending",
        widget=forms.HiddenInput,
    )

    class Meta:
        fields = [
            "q",
            "status",
            "overdue",
            "bucket",
            "owner",
            "team",
            "currency",
            "due_from",
            "due_to",
            "client",
            "contract",
            "disputed",
            "promise_due",
            "write_off",
        ]

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        # The owners' list is read when the form is drawn, not when this module is imported.
        self.filters["owner"].queryset = _owners()

    def search(self, queryset, name, value):
        """Invoice number, description or client name (diacritics ignored for the name). A query shaped like an
        invoice number's beginning (INV-2026-0012, any case) looks up the numbers starting with it on their index;
        anything else is searched in all three."""
        value = value.replace("\x00", "").strip()[:100]
        if not value:
            return queryset
        if NUMBER_PREFIX.fullmatch(value):
            return queryset.filter(number__startswith=value.upper())
        client_ids = Client.objects.filter(words_filter(value, "search_name")).values("pk")
        return queryset.filter(Q(number__icontains=value) | Q(description__icontains=value) | Q(client__in=client_ids))

    def by_status(self, queryset, name, value):
        if value == OPEN:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.filter(status=value)

    def only_overdue(self, queryset, name, value):
        return queryset.overdue(self.today) if value else queryset

    def in_bucket(self, queryset, name, value):
        """Open invoices in one aging bucket today: the receivables page's cell links here."""
        return queryset.filter(bucket_filter(value, self.today), status__in=OPEN_STATUSES)

    def only_disputed(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(disputed=value, status__in=OPEN_STATUSES) if value else queryset.filter(disputed=False)

    def promised_for(self, queryset, name, value):
        """Open invoices the client promised to pay on that day (the board's "promises due today")."""
        return queryset.filter(status__in=OPEN_STATUSES, promise_to_pay=value)

    def write_off_pending(self, queryset, name, value):
        # At most one pending request per invoice (a unique constraint): the join adds no rows.
        return queryset.filter(write_off_requests__status=value)
