from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiTokenScope, Role, Team
from accounts.tokens import SERVICE_ROLES


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        "invalid_login": _("That e-mail and password do not match an account. Passwords are case-sensitive."),
        "inactive": _("This account is inactive."),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.is_service_account:  # a tool signs in with its API token only, even should it be given a password
            raise self.get_invalid_login_error()


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    next = forms.CharField(required=False)


TOKEN_LIFETIMES = [
    ("", _("Never")),
    ("30", _("In 30 days")),
    ("90", _("In 90 days")),
    ("365", _("In a year")),
]


class PersonalTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “Weekly report script”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    scope = forms.ChoiceField(
        label=_("Access"),
        choices=ApiTokenScope.choices,
        initial=ApiTokenScope.READ,
        help_text=_("A read-only token cannot create, change or delete anything."),
    )
    expires_in = forms.ChoiceField(label=_("Expires"), choices=TOKEN_LIFETIMES, required=False, initial="90")

    def expires_at(self) -> datetime | None:
        days = self.cleaned_data.get("expires_in")
        return timezone.now() + timedelta(days=int(days)) if days else None


SERVICE_NAME_HELP = _("The tool that will use it, e.g. “Finance ERP”. It names the service account.")


class ServiceTokenForm(PersonalTokenForm):
    field_order = ["name", "role", "team", "scope", "expires_in"]

    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(role, Role(role).label) for role in SERVICE_ROLES],
        help_text=_("The service sees and does what a person with this role may."),
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.order_by("name"), required=False, empty_label=_("No team")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = SERVICE_NAME_HELP
        self.fields["expires_in"].initial = ""
