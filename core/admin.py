from django.contrib import admin

from core.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Background tasks waiting for the broker (core/outbox.py): read-only, so an administrator sees what waits
    and why; the relay hands them over by itself once the broker answers."""

    list_display = ["task", "args", "created_at", "attempts", "last_error"]
    list_filter = ["task"]
    ordering = ["pk"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
