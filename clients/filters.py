"""Filters shared by the client pages, the CSV export and the API, so every view of a list agrees."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Role, Team, User
from clients.models import (
    Activity,
    ActivityKind,
    Client,
    ClientStatus,
    Department,
    Handover,
    HandoverStatus,
    Industry,
    Priority,
    Request,
    RequestKind,
    RequestStatus,
    Tier,
)
from clients.selectors import CLIENT_ORDERINGS, client_name_or_detail_filter, client_search_filter
from core.filters import TrueOrFalseFilter

ALL = _("All")


class ClientFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"),
        queryset=User.objects.filter(
            is_active=True, role__in=[Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR]
        ).order_by("full_name"),
        empty_label=ALL,
    )
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.all(), empty_label=ALL)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ClientStatus.choices, empty_label=ALL)
    tier = django_filters.ChoiceFilter(label=_("Tier"), choices=Tier.choices, empty_label=ALL)
    industry = django_filters.ChoiceFilter(label=_("Industry"), choices=Industry.choices, empty_label=ALL)
    tag = django_filters.CharFilter(label=_("Tag"), field_name="tags__name")
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        method="sort_by",
        empty_label=None,
        choices=[
            ("name", _("Name A–Z")),
            ("-name", _("Name Z–A")),
            ("health", _("Health, lowest first")),
            ("-health", _("Health, highest first")),
            ("-last_activity", _("Latest activity")),
            ("last_activity", _("Longest without activity")),
            ("-created", _("Newest")),
            ("tier", _("Tier")),
            ("owner", _("Owner")),
        ],
    )

    class Meta:
        model = Client
        fields = ["q", "owner", "team", "status", "tier", "industry", "tag", "sort"]

    def search(self, queryset, name, value):
        return queryset.filter(client_search_filter(value))

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*CLIENT_ORDERINGS.get(value, CLIENT_ORDERINGS["name"]))


class LimitedClientFilter(django_filters.FilterSet):
    """For sales, who see other people's clients by name and owner only: nothing else to filter or sort on."""

    q = django_filters.CharFilter(label=_("Search"), field_name="search_name", method="search")
    owner = ClientFilter.base_filters["owner"]
    team = ClientFilter.base_filters["team"]
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        method="sort_by",
        empty_label=None,
        choices=[("name", _("Name A–Z")), ("-name", _("Name Z–A")), ("owner", _("Owner"))],
    )

    class Meta:
        model = Client
        fields = ["q", "owner", "team", "sort"]

    def search(self, queryset, name, value):
        return queryset.filter(client_name_or_detail_filter(user=self.request.user, query=value))

    sort_by = ClientFilter.sort_by


def client_filter_for(user):
    """The filter set a user may use on the client list (pages, export and API alike)."""
    from accounts.permissions import has_role

    return LimitedClientFilter if has_role(user, "sales") else ClientFilter


class RequestFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        label=_("Show"),
        empty_label=_("All requests"),
        method="by_state",
        choices=[
            ("open", pgettext_lazy("requests filter", "Open")),
            ("breached", _("SLA breached")),
            ("near", _("Near the SLA")),
            ("finished", _("Resolved or closed")),
        ],
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=RequestStatus.choices, empty_label=ALL)
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=Priority.choices, empty_label=ALL)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=RequestKind.choices, empty_label=ALL)
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"), queryset=User.objects.filter(is_active=True).order_by("full_name"), empty_label=ALL
    )
    client = django_filters.NumberFilter(label=_("Client"), field_name="client_id")

    class Meta:
        model = Request
        fields = ["state", "status", "priority", "kind", "owner", "client"]

    def by_state(self, queryset, name, value):
        if value == "open":
            return queryset.open()
        if value == "breached":
            return queryset.breached().open()
        if value == "near":
            return queryset.near_sla()
        return queryset.filter(status__in=[RequestStatus.RESOLVED, RequestStatus.CLOSED])


class ActivityFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ActivityKind.choices)
    client = django_filters.NumberFilter(field_name="client_id")
    open_next_step = TrueOrFalseFilter(method="with_open_next_step", label=_("Open next step"))
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Activity
        fields = [
            "kind",
            "client",
            "author",
            "next_step_owner",
            "open_next_step",
            "occurred_after",
            "occurred_before",
        ]

    def with_open_next_step(self, queryset, name, value):
        open_steps = queryset.open_next_steps()
        return open_steps if value else queryset.exclude(pk__in=open_steps.values("pk"))


class HandoverFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=HandoverStatus.choices)
    department = django_filters.ModelChoiceFilter(queryset=Department.objects.all())

    class Meta:
        model = Handover
        fields = ["status", "department", "assignee", "request"]

    # A number, not a choice among all requests: an unknown and a hidden id answer alike.
    request = django_filters.NumberFilter(field_name="request_id")
