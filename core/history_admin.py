"""The audit history in the admin: every historical model listed read-only. Nobody adds, changes or deletes a line
of history, administrators included; revert (django-simple-history's admin) is not offered either."""

from django.apps import apps
from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class HistoryAdmin(admin.ModelAdmin):
    list_display = ["history_date", "history_type", "history_user", "record"]
    list_filter = ["history_type"]
    list_select_related = ["history_user"]
    date_hierarchy = "history_date"
    ordering = ["-history_date", "-history_id"]
    actions = None

    def get_search_fields(self, request):
        return ["=id"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.concrete_fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("record"))
    def record(self, row) -> str:
        return f"#{row.id}"


def register_history_admins(site: admin.AdminSite = admin.site) -> None:
    """Register every historical model (``instance_type`` marks them) with the read-only admin."""
    for model in apps.get_models():
        if hasattr(model, "instance_type") and hasattr(model, "history_date") and not site.is_registered(model):
            site.register(model, HistoryAdmin)
