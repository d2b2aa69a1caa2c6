from decimal import Decimal

import pytest
from django.utils import translation

from core.money import format_money, round_money


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1234567.5", "VND", Decimal("1234568")),
        ("1234567.49", "VND", Decimal("1234567")),
        ("10.005", "USD", Decimal("10.01")),
        ("10.004", "USD", Decimal("10.00")),
        (25_000_000, "VND", Decimal("25000000")),
    ],
)
def test_round_money_to_the_minor_unit(amount, currency, expected):
    assert round_money(amount, currency) == expected


def test_float_is_refused():
    with pytest.raises(TypeError):
        round_money(0.1, "USD")


def test_format_money_in_both_languages():
    with translation.override("en"):
        assert format_money(Decimal("12500000"), "VND") == "12,500,000 ₫"
        assert format_money(Decimal("1250.5"), "USD") == "1,250.50 USD"
    with translation.override("vi"):
        assert format_money(Decimal("12500000"), "VND") == "12.500.000 ₫"
