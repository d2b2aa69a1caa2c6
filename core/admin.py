from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import mail
from core.models import OutboxMessage, OutgoingEmail


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


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """Every e-mail Accord sent or is sending (core/mail.py), read-only: a failed one shows why, and "Retry now"
    sends the selected ones again at once (as the sweep does by itself for the queued ones when they are due)."""

    list_display = ["created_at", "recipients", "subject", "status", "attempts", "short_error", "next_attempt_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["to", "cc", "subject"]
    ordering = ["-created_at", "-pk"]
    date_hierarchy = "created_at"
    fields = [
        *("status", "attempts", "last_error", "next_attempt_at", "sent_at", "created_at"),
        *("from_email", "to", "cc", "bcc", "reply_to", "subject", "body", "alternatives", "attachment_names"),
        "headers",
    ]
    readonly_fields = fields
    actions = ["retry_now"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("core.change_outgoingemail")

    @admin.display(description=_("recipients"))
    def recipients(self, email: OutgoingEmail) -> str:
        return ", ".join(email.to + email.cc)

    @admin.display(description=_("last error"))
    def short_error(self, email: OutgoingEmail) -> str:
        return Truncator(email.last_error).chars(120)

    @admin.display(description=_("attachments"))
    def attachment_names(self, email: OutgoingEmail) -> str:
        return ", ".join(name or "-" for name, _content, _mimetype in email.attachments)

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request, queryset) -> None:
        count = mail.requeue(email_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%(count)d e-mail queued to be sent again.", "%(count)d e-mails queued to be sent again.", count)
            % {"count": count},
        )
