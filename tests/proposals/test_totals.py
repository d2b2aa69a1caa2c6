"""Proposal totals (one function, Decimal, rounding per line), checked on random line sets with hypothesis."""

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import round_money
from proposals.totals import amount_in_words, line_amounts, proposal_totals


@dataclass
class Line:
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal


quantities = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000"), places=2)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("5000000000"), places=2)
discounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
lines = st.lists(st.builds(Line, quantities, prices, discounts), max_size=30)
currencies = st.sampled_from(["VND", "USD"])
vat_rates = st.sampled_from([10, 8, 5, 0])


@settings(max_examples=300, deadline=None)
@given(lines=lines, currency=currencies, vat_rate=vat_rates)
def test_totals_are_the_sums_of_the_rounded_lines_and_never_negative(lines, currency, vat_rate):
    totals = proposal_totals(lines, currency=currency, vat_rate=vat_rate)

    amounts = [line_amounts(line, currency) for line in lines]
    assert totals.subtotal == sum((amount.list_amount for amount in amounts), Decimal(0))
    assert totals.net == sum((amount.net for amount in amounts), Decimal(0))
    assert totals.discount == totals.subtotal - totals.net
    assert totals.total == totals.net + totals.vat
    assert totals.vat == round_money(totals.net * vat_rate / Decimal(100), currency)
    for value in (totals.subtotal, totals.discount, totals.net, totals.vat, totals.total):
        assert value >= 0
        assert value == round_money(value, currency)  # no fraction of a đồng, no fraction of a cent
    assert Decimal(0) <= totals.discount_percent <= Decimal(100)


@settings(max_examples=200, deadline=None)
@given(lines=lines, vat_rate=vat_rates)
def test_vnd_has_no_fractional_part(lines, vat_rate):
    totals = proposal_totals(lines, currency="VND", vat_rate=vat_rate)

    for value in (totals.subtotal, totals.discount, totals.net, totals.vat, totals.total):
        assert value == value.to_integral_value()


def test_a_line_is_rounded_half_up_to_the_dong_after_its_discount():
    line = Line(quantity=Decimal("3"), unit_price=Decimal("333333"), discount_percent=Decimal("12.5"))

    amounts = line_amounts(line, "VND")

    assert amounts.list_amount == Decimal("999999")
    assert amounts.net == Decimal("874999")  # 874,999.125 → 874,999
    assert amounts.discount == Decimal("125000")


def test_amounts_in_words_in_vietnamese_and_english():
    assert amount_in_words(Decimal("110000000"), "VND", "vi") == "Một trăm mười triệu đồng"
    assert amount_in_words(Decimal("1250.50"), "USD", "en") == (
        "One thousand, two hundred and fifty US dollars and fifty cents"
    )
