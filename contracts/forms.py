"""Forms for contracts. The services decide; these only collect and clean what people type."""

from django import forms
from django.utils.translation import gettext_lazy as _

from clients.forms import DATE, DATETIME, OwnerChoiceField, VersionedForm
from contracts.models import Contract, CostEntry, NegotiationRound, Phase, Stage
from contracts.services import MOVES, TERMS_FIELDS
from core.money import round_money

# --- Terms and stage moves (pipeline pages) -------------------------------------------------------------------


class ClientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, client):
        return client.name


class ContractForm(VersionedForm):
    """A deal's terms. On create it also asks for the client (and, for a director, the owner)."""

    class Meta:
        model = Contract
        fields = list(TERMS_FIELDS)
        widgets = {
            "expected_close": DATE,
            "start_date": DATE,
            "end_date": DATE,
            "scope": forms.Textarea(attrs={"rows": 4}),
        }

    # Pairs that belong together side by side: close date and kind, money, payment and notice, start and end.
    LAYOUT = [
        "client",
        "owner",
        "title",
        "kind",
        "expected_close",
        "value",
        "currency",
        "budget",
        "billing_schedule",
        "payment_terms_days",
        "notice_days",
        "start_date",
        "end_date",
        "auto_renew",
        "scope",
    ]

    def __init__(self, *args, clients=None, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if clients is not None:
            self.fields["client"] = ClientChoiceField(
                label=_("Client"), queryset=clients.order_by("name"), empty_label=_("Choose a client")
            )
        if owners is not None:
            self.fields["owner"] = OwnerChoiceField(
                label=_("Owner"),
                queryset=owners,
                required=False,
                help_text=_("Directors can create a deal for someone else; otherwise it is yours."),
            )
        self.order_fields(self.LAYOUT)

    def clean(self):
        cleaned_data = super().clean()
        start, end = cleaned_data.get("start_date"), cleaned_data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end comes before the start."))
        return cleaned_data

    def terms(self) -> dict:
        """The cleaned terms, ready for contract_create / contract_update."""
        return {name: self.cleaned_data[name] for name in TERMS_FIELDS if name in self.cleaned_data}

    def _post_clean(self):
        # The model's full_clean runs in the service, inside its transaction; its errors come back on this form.
        pass


def move_targets(contract: Contract) -> list[tuple[str, str]]:
    """The stages this contract may go to from here, in the pipeline's order."""
    return [(stage.value, stage.label) for stage in Stage if stage in MOVES[Stage(contract.stage)]]


class MoveForm(forms.Form):
    """Move a contract to another stage, with what the target stage needs (dates to sign, a reason to lose)."""

    stage = forms.ChoiceField(label=_("Move to"), choices=Stage.choices)
    signed_at = forms.DateTimeField(label=_("Signed"), required=False, widget=DATETIME)
    start_date = forms.DateField(label=_("Start"), required=False, widget=DATE)
    end_date = forms.DateField(label=_("End"), required=False, widget=DATE)
    lost_reason = forms.CharField(label=_("Reason lost"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    SIGNATURE_FIELDS = ("signed_at", "start_date", "end_date")

    def __init__(self, *args, contract: Contract, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {
            "version": contract.version,
            "start_date": contract.start_date,
            "end_date": contract.end_date,
            **kwargs["initial"],
        }
        super().__init__(*args, **kwargs)
        # Any stage is accepted here so that a move the rules forbid gets the service's message, not
        # "not a valid choice"; the list offers only the allowed ones.
        self.fields["stage"].widget.choices = [("", _("Choose a stage")), *move_targets(contract)]

    def move_arguments(self) -> dict:
        """Keyword arguments for services.contract_move: only what the chosen stage uses."""
        data = self.cleaned_data
        arguments = {"to": data["stage"], "note": data["note"], "expected_version": data["version"]}
        if data["stage"] == Stage.ACTIVE:
            arguments.update({name: data[name] for name in self.SIGNATURE_FIELDS})
        if data["stage"] == Stage.LOST:
            arguments["lost_reason"] = data["lost_reason"]
        return arguments


# --- Contract page: negotiation rounds, phases, costs ---------------------------------------------------------


class RoundForm(forms.ModelForm):
    """An offer or counter-offer: who proposed it and its value, discount, payment terms and scope."""

    class Meta:
        model = NegotiationRound
        fields = ["proposed_by", "value", "discount_percent", "payment_terms_days", "scope_summary"]
        widgets = {"scope_summary": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, contract: Contract | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if contract is not None and not self.is_bound:
            self.fields["value"].initial = round_money(contract.value, contract.currency)
            self.fields["payment_terms_days"].initial = contract.payment_terms_days

    def _post_clean(self):
        # The service validates the round in its transaction; its errors come back on this form.
        pass


class PhaseForm(forms.ModelForm):
    """A delivery phase: dates, budget, planned and achieved results and the report to the client."""

    class Meta:
        model = Phase
        fields = [
            "name",
            "order",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "budget",
            "planned_results",
            "achieved_results",
            "report",
        ]
        widgets = {
            "planned_start": DATE,
            "planned_end": DATE,
            "actual_start": DATE,
            "actual_end": DATE,
            "planned_results": forms.Textarea(attrs={"rows": 3}),
            "achieved_results": forms.Textarea(attrs={"rows": 3}),
            "report": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["budget"] = round_money(self.instance.budget, self.instance.contract.currency)

    def clean(self):
        data = super().clean()
        for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
            if data.get(start) and data.get(end) and data[end] < data[start]:
                self.add_error(end, _("The end comes before the start."))
        return data

    def _post_clean(self):
        pass


class CostForm(forms.ModelForm):
    """A cost by a department or a partner, optionally in one of the contract's phases."""

    class Meta:
        model = CostEntry
        fields = ["department", "partner", "phase", "description", "amount", "incurred_on"]
        widgets = {"incurred_on": DATE}
        help_texts = {"partner": _("Choose a department or a partner (or both).")}

    def __init__(self, *args, contract: Contract, departments, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        self.fields["partner"].queryset = partners
        self.fields["phase"].queryset = Phase.objects.filter(contract=contract)
        self.fields["phase"].empty_label = _("No phase")
        self.fields["amount"].initial = None

    def _post_clean(self):
        pass
