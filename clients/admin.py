from django.contrib import admin

from clients.models import (
    Activity,
    Client,
    ClientReassignment,
    Contact,
    Department,
    Handover,
    Partner,
    PartnerRelationship,
    Request,
    Tag,
)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    """The editable list of departments that work is handed over to."""

    list_display = ["name", "lead", "is_active"]
    list_filter = ["is_active"]
    autocomplete_fields = ["lead"]
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Domain records change through Accord's pages and API (services keep their rules); the admin only reads."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Client)
class ClientAdmin(ReadOnlyAdmin):
    list_display = ["name", "tax_code", "industry", "tier", "status", "owner", "team"]
    list_filter = ["status", "tier", "industry", "team"]
    list_select_related = ["owner", "team"]
    search_fields = ["name", "tax_code", "search_text"]


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ["full_name", "client", "email", "phone", "is_billing"]
    list_select_related = ["client"]
    search_fields = ["full_name", "email", "search_text"]


@admin.register(Partner)
class PartnerAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "email"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(PartnerRelationship)
class PartnerRelationshipAdmin(ReadOnlyAdmin):
    list_display = ["partner", "client", "link", "role", "status"]
    list_select_related = ["partner", "client"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["subject", "client", "kind", "author", "occurred_at", "next_step_due"]
    list_select_related = ["client", "author"]
    list_filter = ["kind"]


@admin.register(Request)
class RequestAdmin(ReadOnlyAdmin):
    list_display = ["title", "client", "priority", "status", "sla_due_at", "owner"]
    list_select_related = ["client", "owner"]
    list_filter = ["priority", "status", "kind"]


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdmin):
    list_display = ["request", "department", "assignee", "due_date", "status"]
    list_select_related = ["request", "department", "assignee"]
    list_filter = ["department", "status"]


@admin.register(ClientReassignment)
class ClientReassignmentAdmin(ReadOnlyAdmin):
    list_display = ["client", "from_owner", "to_owner", "reassigned_by", "reassigned_at"]
    list_select_related = ["client", "from_owner", "to_owner", "reassigned_by"]
