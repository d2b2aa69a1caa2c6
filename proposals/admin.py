from django.contrib import admin

from clients.admin import ReadOnlyAdmin
from proposals.models import LineItem, Proposal, ProposalEvent, RateCardItem


@admin.register(RateCardItem)
class RateCardItemAdmin(admin.ModelAdmin):
    """The rate card: services each department sells, with unit and default price. Kept by administrators;
    proposal lines copy the price when added, so a change here never alters a proposal already written."""

    list_display = ["service", "department", "unit", "price", "currency", "is_active"]
    list_filter = ["department", "currency", "unit", "is_active"]
    list_editable = ["price", "is_active"]
    list_select_related = ["department"]
    search_fields = ["service", "department__name"]
    ordering = ["department__name", "service"]


class LineItemInline(admin.TabularInline):
    model = LineItem
    fields = ["order", "description", "department", "quantity", "unit", "unit_price", "discount_percent"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ProposalEventInline(admin.TabularInline):
    model = ProposalEvent
    fields = ["created_at", "kind", "actor", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    """Proposals change through their pages and the API (approval, sending and versions keep their rules)."""

    list_display = ["number", "version", "title", "client", "status", "total", "currency", "owner", "valid_until"]
    list_filter = ["status", "currency", "language"]
    list_select_related = ["client", "owner"]
    search_fields = ["number", "title", "client__name"]
    inlines = [LineItemInline, ProposalEventInline]
