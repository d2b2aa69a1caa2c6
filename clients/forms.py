from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from clients.models import (
    CLIENT_EDITABLE_FIELDS,
    CONTACT_EDITABLE_FIELDS,
    Activity,
    Client,
    Contact,
    Department,
    Handover,
    HandoverStatus,
    Partner,
    PartnerRelationship,
    Request,
    RequestStatus,
)
from clients.selectors import users_who_can_open

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class VersionedForm(forms.ModelForm):
    """Carries the version the user started from, so a stale save is refused instead of overwriting."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version


class ClientForm(VersionedForm):
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        help_text=_("Separate tags with commas, e.g. retainer, tet-campaign."),
    )

    class Meta:
        model = Client
        fields = list(CLIENT_EDITABLE_FIELDS)
        widgets = {
            "address": forms.Textarea(attrs={"rows": 2}),
            "billing_address": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["tags"].initial = ", ".join(tag.name for tag in self.instance.tags.all())

    def clean_tags(self) -> list[str]:
        return [tag.strip() for tag in self.cleaned_data["tags"].split(",") if tag.strip()]

    def _post_clean(self):
        # Uniqueness and constraints are checked by the service in its transaction.
        pass


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return f"{user.full_name} · {user.get_role_display()}"


class ClientCreateForm(ClientForm):
    owner = OwnerChoiceField(
        label=_("Owner"),
        queryset=User.objects.filter(
            is_active=True, role__in=[Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR]
        ).order_by("full_name"),
        required=False,
        help_text=_("Directors can create a client for someone else; otherwise it is yours."),
    )

    class Meta(ClientForm.Meta):
        fields = ["owner", *ClientForm.Meta.fields]


class ReassignForm(forms.Form):
    to_owner = OwnerChoiceField(
        label=_("New owner"),
        queryset=User.objects.filter(
            is_active=True, role__in=[Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR]
        ).order_by("full_name"),
    )
    note = forms.CharField(label=_("Note to both owners"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ContactForm(VersionedForm):
    class Meta:
        model = Contact
        fields = list(CONTACT_EDITABLE_FIELDS)
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def _post_clean(self):
        pass


class PartnerForm(forms.ModelForm):
    class Meta:
        model = Partner
        fields = ["name", "kind", "tax_code", "website", "email", "phone", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def _post_clean(self):
        pass


class RelationshipForm(forms.ModelForm):
    class Meta:
        model = PartnerRelationship
        fields = ["partner", "link", "role", "since", "status", "value", "currency", "notes"]
        widgets = {"since": DATE, "notes": forms.Textarea(attrs={"rows": 2})}

    def _post_clean(self):
        pass


class ActivityForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = [
            "kind",
            "subject",
            "body",
            "occurred_at",
            "contact",
            "next_step",
            "next_step_due",
            "next_step_owner",
        ]
        widgets = {"occurred_at": DATETIME, "next_step_due": DATE, "body": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = client.contacts.all()
        self.fields["next_step_owner"].queryset = users_who_can_open(client=client)
        self.fields["next_step_owner"].help_text = _("You, if left empty.")
        self.fields["occurred_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("next_step_due") and not cleaned.get("next_step"):
            self.add_error("next_step", _("Say what the next step is."))
        return cleaned

    def _post_clean(self):
        pass


class RequestForm(forms.ModelForm):
    class Meta:
        model = Request
        fields = ["kind", "priority", "title", "description", "contact", "received_at"]
        widgets = {"received_at": DATETIME, "description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"received_at": _("When the client asked; the SLA counts from here in business hours.")}

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = client.contacts.all()
        self.fields["received_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")

    def _post_clean(self):
        pass


class RequestEditForm(VersionedForm):
    class Meta:
        model = Request
        fields = ["kind", "priority", "title", "description", "contact"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}
        help_texts = {"priority": _("A new priority recomputes the SLA from when the request was received.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = self.instance.client.contacts.all()

    def _post_clean(self):
        pass


class RequestTransitionForm(forms.Form):
    to = forms.ChoiceField(choices=RequestStatus.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class HandoverForm(forms.ModelForm):
    class Meta:
        model = Handover
        fields = ["department", "assignee", "due_date", "brief"]
        widgets = {"due_date": DATE, "brief": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(is_active=True)
        self.fields["assignee"].queryset = User.objects.filter(is_active=True).order_by("full_name")

    def clean_due_date(self):
        due_date = self.cleaned_data["due_date"]
        if due_date < timezone.localdate():
            raise forms.ValidationError(_("The due date has passed."))
        return due_date

    def _post_clean(self):
        pass


class HandoverStatusForm(forms.Form):
    to = forms.ChoiceField(choices=HandoverStatus.choices)
