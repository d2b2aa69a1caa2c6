"""Filters of the billing API: invoices, payments and write-off requests. An unknown choice, a bad id or a date that
is not one is a 400 naming the parameter, never an empty list or a 500."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contracts.billing import filters as pages
from contracts.models import OPEN_STATUSES, Invoice, Payment, WriteOffRequest, WriteOffStatus, reasonable_date
from core.filters import TrueOrFalseFilter

ALL = pages.ALL
MAX_ID = 2**31 - 1


def id_filter(label, field_name: str) -> django_filters.NumberFilter:
    """A record id: a whole number the database can hold (anything else is a 400, not a crash)."""
    return django_filters.NumberFilter(label=label, field_name=field_name, min_value=1, max_value=MAX_ID, step_size=1)


def date_filter(label, field_name: str, lookup_expr: str) -> django_filters.DateFilter:
    return django_filters.DateFilter(
        label=label, field_name=field_name, lookup_expr=lookup_expr, validators=[reasonable_date]
    )


class InvoiceFilter(pages.InvoiceFilter):
    """The invoice list's own filters (the page's and the export's, so the API's lists and totals agree with
    them), stricter where an API caller types the values: ``overdue`` takes 1 or 0 and nothing else, ``disputed``
    true or false, due dates lie between 2000 and 2100."""

    overdue = django_filters.ChoiceFilter(
        label=_("Overdue"),
        method="by_overdue",
        choices=[("1", _("Overdue only")), ("0", _("Not overdue"))],
        empty_label=ALL,
        help_text=_("1: open invoices past their due date; 0: every other invoice."),
    )
    disputed = TrueOrFalseFilter(label=_("Disputed"), method="only_disputed")
    due_from = date_filter(_("Due from"), "due_date", "gte")
    due_to = date_filter(_("Due until"), "due_date", "lte")

    class Meta(pages.InvoiceFilter.Meta):
        model = Invoice

    def by_overdue(self, queryset, name, value):
        overdue = Q(status__in=OPEN_STATUSES, due_date__lt=self.today)
        return queryset.filter(overdue) if value == "1" else queryset.exclude(overdue)

    def write_off_pending(self, queryset, name, value: str):
        # The page's filter, typed so the schema knows its values are strings.
        return super().write_off_pending(queryset, name, value)


class PaymentFilter(django_filters.FilterSet):
    invoice = id_filter(_("Invoice"), "invoice_id")
    client = id_filter(_("Client"), "invoice__client_id")
    received_from = date_filter(_("Received from"), "received_on", "gte")
    received_to = date_filter(_("Received until"), "received_on", "lte")

    class Meta:
        model = Payment
        fields = ["invoice", "client", "received_from", "received_to"]


class WriteOffRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=WriteOffStatus.choices, empty_label=ALL)
    invoice = id_filter(_("Invoice"), "invoice_id")

    class Meta:
        model = WriteOffRequest
        fields = ["status", "invoice"]
