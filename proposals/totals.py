"""Proposal totals: the one function that prices lines, discount, VAT and total (Decimal, explicit rounding).

Each line is rounded to the currency's minor unit (VND to the đồng, USD to the cent), half up: its list amount
(quantity × unit price) and its net (after the line's discount). The proposal's subtotal, discount and net are
the sums of the rounded lines, so the PDF's columns always add up; VAT is rounded once, on the net.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from num2words import num2words

from core.money import Currency, round_money

HUNDRED = Decimal(100)


class PricedLine(Protocol):
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal


@dataclass(frozen=True)
class LineAmounts:
    list_amount: Decimal  # quantity × unit price
    discount: Decimal
    net: Decimal


@dataclass(frozen=True)
class Totals:
    lines: tuple[LineAmounts, ...]
    subtotal: Decimal
    discount: Decimal
    net: Decimal
    vat: Decimal
    total: Decimal
    discount_percent: Decimal  # the discount as a share of the subtotal, the figure the approval rule reads


def line_amounts(line: PricedLine, currency: str) -> LineAmounts:
    list_amount = round_money(Decimal(line.quantity) * Decimal(line.unit_price), currency)
    net = round_money(list_amount * (HUNDRED - Decimal(line.discount_percent)) / HUNDRED, currency)
    return LineAmounts(list_amount=list_amount, discount=list_amount - net, net=net)


def proposal_totals(lines: Iterable[PricedLine], *, currency: str, vat_rate: int) -> Totals:
    """Price ``lines`` in ``currency`` with ``vat_rate`` % VAT. Never negative: quantities, prices and discounts
    are validated non-negative and a discount is at most 100 %."""
    amounts = tuple(line_amounts(line, currency) for line in lines)
    subtotal = sum((amount.list_amount for amount in amounts), Decimal(0))
    net = sum((amount.net for amount in amounts), Decimal(0))
    vat = round_money(net * Decimal(vat_rate) / HUNDRED, currency)
    discount = subtotal - net
    share = (discount * HUNDRED / subtotal).quantize(Decimal("0.01")) if subtotal else Decimal("0.00")
    zero = round_money(0, currency)
    return Totals(
        lines=amounts,
        subtotal=subtotal + zero,
        discount=discount + zero,
        net=net + zero,
        vat=vat,
        total=net + vat + zero,
        discount_percent=share,
    )


UNIT_NAMES = {
    ("vi", Currency.VND): ("đồng", None),
    ("en", Currency.VND): ("dong", None),
    ("vi", Currency.USD): ("đô la Mỹ", "xu"),
    ("en", Currency.USD): ("US dollars", "cents"),
}


def amount_in_words(amount: Decimal, currency: str, language: str) -> str:
    """'Một trăm mười triệu đồng' / 'One hundred and ten million dong'; USD with its cents."""
    language = "vi" if language.startswith("vi") else "en"
    major_name, minor_name = UNIT_NAMES[(language, Currency(currency))]
    amount = round_money(amount, currency)
    major = int(amount)
    words = f"{num2words(major, lang=language)} {major_name}"
    cents = int((amount - major) * 100)
    if minor_name and cents:
        joiner = "và" if language == "vi" else "and"
        words += f" {joiner} {num2words(cents, lang=language)} {minor_name}"
    return words[0].upper() + words[1:]
