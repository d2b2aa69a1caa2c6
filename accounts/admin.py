from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from accounts import tokens
from accounts.models import ApiToken, Notification, Team, User

# Roles, not groups, decide what a user may do (accounts/permissions.py).
admin.site.unregister(Group)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "lead"]
    search_fields = ["name"]
    autocomplete_fields = ["lead"]


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role", "team", "preferred_language")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationForm
    form = UserEditForm
    ordering = ["full_name"]
    list_display = ["full_name", "email", "role", "team", "is_active", "last_login"]
    list_filter = ["role", "team", "is_active", "is_service_account"]
    list_select_related = ["team"]
    search_fields = ["full_name", "email"]
    autocomplete_fields = ["team"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("full_name", "phone", "preferred_language")}),
        (_("Role and team"), {"fields": ("role", "team", "is_active")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "role",
                    "team",
                    "preferred_language",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def save_model(self, request, obj, form, change):
        # The superuser flag follows the role (administrators only); the service keeps the two in step.
        obj.is_superuser = obj.role == "admin"
        super().save_model(request, obj, form, change)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "level", "created_at", "read_at", "emailed_at"]
    list_filter = ["level"]
    list_select_related = ["recipient"]
    search_fields = ["title", "recipient__email"]
    readonly_fields = [field.name for field in Notification._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created on the API tokens pages (the key is shown once there); here they are only revoked."""

    list_display = ["name", "prefix", "kind", "scope", "user", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["kind", "scope", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__email", "user__full_name"]
    readonly_fields = [field.name for field in ApiToken._meta.fields if field.name != "key_hash"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            tokens.token_revoke(token=token, actor=request.user)
