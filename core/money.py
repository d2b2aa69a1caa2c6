"""Money helpers. Amounts are Decimal with their currency beside them; never float."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _


class Currency(models.TextChoices):
    VND = "VND", _("Vietnamese đồng")
    USD = "USD", _("US dollar")


# VND has no minor unit; USD is kept to the cent.
MINOR_UNITS = {Currency.VND: 0, Currency.USD: 2}


def default_currency() -> str:
    return settings.ACCORD_DEFAULT_CURRENCY


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    """A DecimalField wide enough for VND amounts in the trillions, with two decimal places for USD."""
    kwargs.setdefault("max_digits", 18)
    kwargs.setdefault("decimal_places", 2)
    kwargs.setdefault("default", Decimal("0"))
    return models.DecimalField(verbose_name, **kwargs)


def round_money(amount: Decimal | int | str, currency: str) -> Decimal:
    """Round half up to the currency's minor unit (VND to the đồng, USD to the cent)."""
    if isinstance(amount, float):
        raise TypeError("Money must be Decimal, int or str, never float")
    places = MINOR_UNITS[Currency(currency)]
    return Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str) -> str:
    """Amount as the active language writes it, with the currency: '12,500,000 ₫' / '1,250.50 USD'."""
    places = MINOR_UNITS[Currency(currency)]
    text = number_format(round_money(amount, currency), decimal_pos=places, use_l10n=True, force_grouping=True)
    return f"{text} ₫" if currency == Currency.VND else f"{text} {currency}"
