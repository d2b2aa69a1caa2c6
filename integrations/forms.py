from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.models import EventType


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=1000,
        assume_scheme="https",
        help_text=_("Accord POSTs each event here as JSON. It must answer 2xx within 10 seconds."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def event_groups(self) -> list[tuple[str, list]]:
        """The event checkboxes grouped by record (client, contract, …) for the template."""
        groups: dict[str, list] = {}
        for checkbox in self["events"]:
            groups.setdefault(checkbox.data["value"].split(".", 1)[0], []).append(checkbox)
        labels = {
            "client": _("Clients"),
            "contract": _("Contracts"),
            "proposal": _("Proposals"),
            "invoice": _("Invoices"),
            "request": _("Requests"),
        }
        return [(labels[kind], checkboxes) for kind, checkboxes in groups.items()]


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(required=False)
