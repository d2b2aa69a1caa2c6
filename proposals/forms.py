"""Forms for proposals. The services decide; these only collect and clean what people type.

Every form that changes a proposal carries ``expected_revision``, the revision the user's page showed, so that a
change made meanwhile by someone else is refused with a clear message instead of being overwritten.
"""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.forms import DATE
from clients.models import Client, Contact, Department, Request
from contracts.models import Contract
from proposals.models import LineItem, Proposal, RateCardItem
from proposals.services import HEADER_FIELDS, LINE_FIELDS


class ClientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, client):
        return client.name


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, contact):
        return f"{contact.full_name} · {contact.email}" if contact.email else contact.full_name


class DealChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, contract):
        return f"{contract.number} · {contract.title} ({contract.get_stage_display()})"


def plain_number(value: Decimal) -> str:
    """1.00 → "1", 45000000.00 → "45000000", 12.50 → "12.5": what a person would type."""
    return format(value.normalize(), "f")


def default_valid_until():
    return timezone.localdate() + timedelta(days=30)


VALIDITY_HELP = _("The client's link works until the end of this day.")


class RevisionForm(forms.Form):
    """Only the revision: approve, return without a note, new version, remove a line."""

    expected_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


# --- Creating ------------------------------------------------------------------------------------------------


class ProposalCreateForm(forms.Form):
    """A blank proposal for one of the user's clients."""

    client = ClientChoiceField(label=_("Client"), queryset=Client.objects.none(), empty_label=_("Choose a client"))
    title = forms.CharField(label=_("Title"), max_length=200)
    language = forms.ChoiceField(
        label=_("Language"), choices=Proposal._meta.get_field("language").choices, initial="vi"
    )
    currency = forms.ChoiceField(
        label=_("Currency"),
        required=False,
        choices=[("", _("The client's billing currency")), *Proposal._meta.get_field("currency").choices],
    )
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=DATE, initial=default_valid_until, help_text=VALIDITY_HELP
    )

    def __init__(self, *args, clients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients.order_by("name")

    def header(self) -> dict:
        """Keyword arguments for services.proposal_create (empty values left to its defaults)."""
        data = self.cleaned_data
        header = {"title": data["title"], "language": data["language"]}
        if data.get("currency"):
            header["currency"] = data["currency"]
        if data.get("valid_until"):
            header["valid_until"] = data["valid_until"]
        return header


class FromBriefForm(forms.Form):
    brief = forms.IntegerField(widget=forms.HiddenInput)
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=DATE, initial=default_valid_until, help_text=VALIDITY_HELP
    )


class CopyForm(forms.Form):
    """Copy an earlier proposal, for the same client or another of the user's clients."""

    copy = forms.IntegerField(widget=forms.HiddenInput)
    client = ClientChoiceField(label=_("For the client"), queryset=Client.objects.none(), empty_label=None)

    def __init__(self, *args, clients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients.order_by("name")


# --- Editing -------------------------------------------------------------------------------------------------


class HeaderForm(forms.ModelForm):
    """The proposal's header: title, links (deal, brief, recipient), language, money and texts."""

    expected_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Proposal
        fields = list(HEADER_FIELDS)
        widgets = {
            "valid_until": DATE,
            "objectives": forms.Textarea(attrs={"rows": 4}),
            "scope": forms.Textarea(attrs={"rows": 5}),
            "terms": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        proposal = self.instance
        self.fields["expected_revision"].initial = proposal.revision
        self.fields["contract"] = DealChoiceField(
            label=_("Deal"),
            required=False,
            queryset=Contract.objects.visible_to(user).filter(client_id=proposal.client_id).order_by("-created_at"),
            help_text=Proposal._meta.get_field("contract").help_text,
        )
        self.fields["brief"].queryset = Request.objects.filter(client_id=proposal.client_id).order_by("-received_at")
        self.fields["brief"].label_from_instance = lambda brief: brief.title
        self.fields["recipient"] = ContactChoiceField(
            label=_("Send to"),
            required=False,
            queryset=Contact.objects.filter(client_id=proposal.client_id).order_by("full_name"),
        )

    def header(self) -> dict:
        return {name: self.cleaned_data[name] for name in HEADER_FIELDS}

    def _post_clean(self):
        # The model's full_clean runs in the service, inside its transaction; its errors come back on this form.
        pass


class LineForm(forms.ModelForm):
    """One line: description, department, quantity, unit, unit price and its own discount."""

    expected_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = LineItem
        fields = list(LINE_FIELDS)

    def __init__(self, *args, proposal: Proposal, departments, prefix_id: str = "new", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expected_revision"].initial = proposal.revision
        self.fields["department"].queryset = departments
        self.fields["department"].empty_label = _("No department")
        step = "1" if proposal.currency == "VND" else "0.01"
        self.fields["unit_price"].widget.attrs.update({"step": step, "min": "0", "inputmode": "decimal"})
        self.fields["quantity"].widget.attrs.update({"step": "0.01", "min": "0.01", "inputmode": "decimal"})
        self.fields["discount_percent"].widget.attrs.update({"step": "0.01", "min": "0", "max": "100"})
        self.fields["discount_percent"].label = _("Discount (%)")
        self.fields["description"].widget.attrs["maxlength"] = 300
        if self.instance.pk is None:
            self.initial.pop("unit_price", None)  # a price is typed, never assumed
            self.fields["unit_price"].initial = None
        for name in ("quantity", "unit_price", "discount_percent"):
            if isinstance(self.initial.get(name), Decimal):
                self.initial[name] = plain_number(self.initial[name])
        # Several line forms share the page: each gets its own ids.
        self.auto_id = f"line-{prefix_id}-%s"

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in LINE_FIELDS}

    def _post_clean(self):
        pass


class MoveLineForm(forms.Form):
    expected_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    direction = forms.ChoiceField(choices=[("up", _("Up")), ("down", _("Down"))])


class RateCardForm(forms.Form):
    """Pick rate-card items of the proposal's currency; each becomes a line at its default price."""

    expected_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    items = forms.ModelMultipleChoiceField(
        label=_("Rate card"),
        queryset=RateCardItem.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one service.")},
    )

    def __init__(self, *args, proposal: Proposal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expected_revision"].initial = proposal.revision
        self.fields["items"].queryset = RateCardItem.objects.filter(currency=proposal.currency, is_active=True)


# --- Approval and sending ------------------------------------------------------------------------------------


class OwnIdsForm(forms.Form):
    """The page holds several forms with the same field names: each form's ids start with its own prefix."""

    id_prefix = "id"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class SubmitForm(OwnIdsForm):
    """Ask a director to approve the discount, with an optional note."""

    id_prefix = "submit"
    expected_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ApproveForm(SubmitForm):
    id_prefix = "approve"


class ReturnForm(OwnIdsForm):
    id_prefix = "return"
    expected_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(
        label=_("What should change?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Tell the owner what to change.")},
    )


class SendForm(OwnIdsForm):
    id_prefix = "send"
    expected_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    recipient = ContactChoiceField(
        label=_("Send to"),
        queryset=Contact.objects.none(),
        empty_label=_("Choose a contact"),
        error_messages={"required": _("Choose a contact of this client with an e-mail address.")},
    )

    def __init__(self, *args, proposal: Proposal, recipients, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {
            "expected_revision": proposal.revision,
            "recipient": proposal.recipient_id,
            **kwargs["initial"],
        }
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = recipients


# --- The client's link ---------------------------------------------------------------------------------------


class AcceptForm(forms.Form):
    full_name = forms.CharField(
        label=_("Your full name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text=_("Typing your name is your acceptance of this proposal."),
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you declining?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Tell us why, so we can do better.")},
    )


def active_departments():
    return Department.objects.filter(is_active=True).order_by("name")
