"""Forms of the billing pages. They check shapes only; the services decide (and say why they refuse)."""

from datetime import date
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.billing.filters import DateInput
from contracts.models import Contract, Invoice, PaymentMethod, Phase, VatRate
from core.money import MINOR_UNITS, Currency

MONEY_LIMITS = {"max_digits": 18, "decimal_places": 2, "min_value": Decimal("0.01")}
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def _step(currency: str) -> str:
    """The amount input's step: whole đồng, or cents."""
    return "1" if MINOR_UNITS[Currency(currency)] == 0 else "0.01"


def _money_widget(currency: str) -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": _step(currency), "min": _step(currency), "inputmode": "decimal"})


class VersionField(forms.IntegerField):
    """The version the user saw: the service refuses the change if someone else saved first."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, min_value=1, **kwargs)


class BoundedDateField(forms.DateField):
    widget = DateInput

    def validate(self, value):
        super().validate(value)
        if value and not EARLIEST <= value <= LATEST:
            raise forms.ValidationError(_("Pick a date between 2000 and 2100."), code="out_of_range")


class InvoiceForm(forms.Form):
    """A new invoice for a contract, or a draft's changes."""

    phase = forms.ModelChoiceField(
        label=_("Phase"), queryset=Phase.objects.none(), required=False, empty_label=_("No phase (whole contract)")
    )
    description = forms.CharField(label=_("Description"), max_length=200)
    net_amount = forms.DecimalField(label=_("Net amount"), **MONEY_LIMITS)
    vat_rate = forms.TypedChoiceField(label=_("VAT rate"), choices=VatRate.choices, coerce=int)
    issue_date = BoundedDateField(label=_("Issue date"))
    due_date = BoundedDateField(
        label=_("Due date"), required=False, help_text=_("Left empty: the contract's payment terms after issue.")
    )
    issue_now = forms.BooleanField(
        label=_("Issue now (gives it its number; it can no longer be edited)"), required=False
    )
    version = VersionField()

    def __init__(self, *args, contract: Contract, invoice: Invoice | None = None, **kwargs):
        if invoice is not None:
            kwargs.setdefault(
                "initial",
                {
                    "phase": invoice.phase_id,
                    "description": invoice.description,
                    "net_amount": invoice.net_amount,
                    "vat_rate": invoice.vat_rate,
                    "issue_date": invoice.issue_date,
                    "due_date": invoice.due_date,
                    "version": invoice.version,
                },
            )
        else:
            kwargs.setdefault(
                "initial",
                {"description": contract.title, "vat_rate": VatRate.STANDARD, "issue_date": timezone.localdate()},
            )
        super().__init__(*args, **kwargs)
        self.fields["phase"].queryset = contract.phases.all()
        self.fields["net_amount"].widget = _money_widget(contract.currency)
        self.fields["net_amount"].label = _("Net amount (%(currency)s)") % {"currency": contract.currency}
        self.fields["due_date"].help_text = _("Left empty: %(days)d days after the issue date (payment terms).") % {
            "days": contract.payment_terms_days
        }
        if invoice is not None:
            del self.fields["issue_now"]

    def changes(self) -> dict:
        """The service's keyword arguments for the invoice's terms."""
        data = self.cleaned_data
        changes = {name: data[name] for name in ("phase", "description", "net_amount", "vat_rate", "issue_date")}
        if data.get("due_date"):
            changes["due_date"] = data["due_date"]
        return changes


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), **MONEY_LIMITS)
    received_on = BoundedDateField(label=_("Received on"))
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    version = VersionField()

    def __init__(self, *args, invoice: Invoice, prefix: str | None = None, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "amount": invoice.outstanding or None,
                "received_on": timezone.localdate(),
                "method": PaymentMethod.BANK_TRANSFER,
                "version": invoice.version,
            },
        )
        super().__init__(*args, prefix=prefix, **kwargs)
        self.fields["amount"].widget = _money_widget(invoice.currency)
        self.fields["amount"].label = _("Amount (%(currency)s)") % {"currency": invoice.currency}

    def payment(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("amount", "received_on", "method", "reference")}


class ReasonForm(forms.Form):
    """Void or ask for a write-off: a reason is required."""

    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    version = VersionField()


class WriteOffDecisionForm(forms.Form):
    APPROVE, REJECT = "approve", "reject"

    decision = forms.ChoiceField(
        label=_("Decision"), choices=[(APPROVE, _("Approve")), (REJECT, _("Reject"))], widget=forms.HiddenInput
    )
    note = forms.CharField(
        label=_("Comment"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == self.APPROVE


class DisputeForm(forms.Form):
    disputed = forms.TypedChoiceField(
        choices=[("1", _("Disputed")), ("0", _("Resolved"))],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label=_("What the client disputes"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PromiseForm(forms.Form):
    promise_to_pay = BoundedDateField(
        label=_("Promised to pay by"), required=False, help_text=_("Leave empty to clear the promise.")
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class PauseForm(forms.Form):
    paused = forms.TypedChoiceField(
        choices=[("1", _("Pause")), ("0", _("Resume"))], coerce=lambda value: value == "1", widget=forms.HiddenInput
    )
    note = forms.CharField(label=_("Why"), max_length=500, required=False)


class StatementForm(forms.Form):
    """The statement's currency and period (default: the start of the year to today)."""

    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices, required=False)
    start = BoundedDateField(label=_("From"), required=False)
    end = BoundedDateField(label=_("To"), required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The period ends before it starts."))
        return data

    def period(self, today: date) -> tuple[date, date]:
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or date(end.year, 1, 1)
        return start, end
