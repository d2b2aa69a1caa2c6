from django import forms
from django.contrib import admin

from core.errors import DomainError

from . import services
from .models import ExchangeRate, KpiTarget


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["month", "vnd_per_usd"]

    def clean_vnd_per_usd(self):
        try:
            return services.clean_exchange_rate(self.cleaned_data["vnd_per_usd"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from error


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """The monthly VND per USD rates that converted figures use; administrators keep them here."""

    form = ExchangeRateForm
    list_display = ["month", "vnd_per_usd", "updated_at"]
    ordering = ["-month"]
    date_hierarchy = "month"

    def get_readonly_fields(self, request, obj=None):
        # A saved rate is corrected, never moved to another month.
        return ["month"] if obj else []

    def save_model(self, request, obj, form, change):
        # Through the service, like every other write.
        obj.pk = services.exchange_rate_set(actor=request.user, month=obj.month, vnd_per_usd=obj.vnd_per_usd).pk

    def has_delete_permission(self, request, obj=None):
        # A month's rate may be corrected, not removed: figures converted at it would lose their rate.
        return False


@admin.register(KpiTarget)
class KpiTargetAdmin(admin.ModelAdmin):
    """Directors set targets on the targets pages and through the API (the service keeps their rules); the admin
    only reads them."""

    list_display = ["metric", "scope", "user", "team", "period_kind", "period_start", "value", "currency", "set_by"]
    list_filter = ["metric", "scope", "period_kind", "currency"]
    list_select_related = ["user", "team", "set_by"]
    search_fields = ["user__full_name", "team__name"]
    date_hierarchy = "period_start"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
