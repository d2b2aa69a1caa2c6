"""Figures in one currency: amounts per currency converted with the admin's exchange rate of a month (VND per USD).

Dashboards show money per currency by default. Converting is an explicit choice, made with one rate for the whole
page, and the page says which rate and month it used; without a rate for that month nothing is converted.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.money import Currency, round_money

from .models import ExchangeRate


class MissingRate(Exception):
    """No exchange rate was entered for the month, so amounts in other currencies cannot be converted."""

    def __init__(self, month: date):
        super().__init__(f"no exchange rate for {month:%Y-%m}")
        self.month = month


def month_of(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True)
class Converter:
    """Converts amounts to ``to`` at ``vnd_per_usd`` (the rate of ``month``; None when the admin entered none)."""

    to: str
    month: date
    vnd_per_usd: Decimal | None

    @classmethod
    def for_month(cls, to: str, month: date) -> "Converter":
        """The converter of ``month`` (any day of it), reading its rate in one query."""
        month = month_of(month)
        rate = ExchangeRate.objects.filter(month=month).values_list("vnd_per_usd", flat=True).first()
        return cls(Currency(to), month, rate)

    @property
    def available(self) -> bool:
        return self.vnd_per_usd is not None

    def one(self, amount: Decimal, currency: str) -> Decimal:
        """One amount in ``to``, unrounded. Raises MissingRate when a rate is needed and there is none."""
        if currency == self.to:
            return Decimal(amount)
        if self.vnd_per_usd is None:
            raise MissingRate(self.month)
        if currency == Currency.USD and self.to == Currency.VND:
            return Decimal(amount) * self.vnd_per_usd
        if currency == Currency.VND and self.to == Currency.USD:
            return Decimal(amount) / self.vnd_per_usd
        raise ValueError(f"cannot convert {currency} to {self.to}")

    def convert(self, amounts: dict[str, Decimal]) -> Decimal:
        """The sum of ``amounts`` ({currency: amount}) in ``to``, rounded to its minor unit. Raises MissingRate."""
        total = sum((self.one(amount, currency) for currency, amount in amounts.items()), Decimal("0"))
        return round_money(total, self.to)


def convert(amounts: dict[str, Decimal], to: str, month: date) -> Decimal:
    """``amounts`` per currency as one amount in ``to`` at the exchange rate of ``month``.

    Raises MissingRate when an amount is in another currency and the admin has not entered that month's rate.
    """
    return Converter.for_month(to, month).convert(amounts)
