"""Money is integer minor units of one currency; it never mixes currencies or invents decimals."""

from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from kinfolk.core.errors import InvalidInput
from kinfolk.core.money import (
    MAX_AMOUNT_MINOR,
    Money,
    currency_exponent,
    format_money,
    known_currencies,
)


@pytest.mark.parametrize(
    ("currency", "exponent"), [("KRW", 0), ("JPY", 0), ("USD", 2), ("EUR", 2), ("KWD", 3)]
)
def test_each_currency_has_its_own_number_of_minor_digits(currency, exponent):
    assert currency_exponent(currency) == exponent


def test_an_unknown_currency_is_refused():
    with pytest.raises(InvalidInput) as info:
        Money(100, "XYZ")
    assert info.value.field == "currency"


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("12.50", "USD", 1250),
        ("12.5", "USD", 1250),
        (Decimal("0.01"), "USD", 1),
        ("15000", "KRW", 15000),
        (15000, "KRW", 15000),
        ("1,200", "JPY", 1200),
        (" 3.75 ", "EUR", 375),
    ],
)
def test_from_major_reads_major_units_into_minor_units(value, currency, minor):
    assert Money.from_major(value, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("value", "currency"), [("12.505", "USD"), ("15000.5", "KRW"), ("0.1", "JPY")]
)
def test_from_major_refuses_more_decimals_than_the_currency_has(value, currency):
    with pytest.raises(InvalidInput) as info:
        Money.from_major(value, currency)
    assert info.value.field == "amount"
    assert "decimal places" in info.value.message


@pytest.mark.parametrize("value", ["twelve", "", "NaN", "Infinity"])
def test_from_major_refuses_what_is_not_an_amount(value):
    with pytest.raises(InvalidInput) as info:
        Money.from_major(value, "USD")
    assert info.value.field == "amount"


def test_amounts_must_be_whole_minor_units():
    with pytest.raises(TypeError):
        Money(12.5, "USD")
    with pytest.raises(TypeError):
        Money(True, "USD")


def test_arithmetic_within_one_currency():
    price = Money(1250, "USD")
    assert price + Money(250, "USD") == Money(1500, "USD")
    assert price - Money(250, "USD") == Money(1000, "USD")
    assert price * 3 == Money(3750, "USD") == 3 * price
    assert Money(1, "USD") < price <= Money(1250, "USD")
    assert Money.zero("KRW") == Money(0, "KRW")


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
    ],
    ids=["add", "subtract", "less", "less-or-equal"],
)
def test_arithmetic_refuses_mixed_currencies(combine):
    with pytest.raises(ValueError, match="cannot combine USD with KRW"):
        combine(Money(1250, "USD"), Money(1250, "KRW"))


def test_money_multiplies_only_by_whole_numbers():
    with pytest.raises(TypeError):
        Money(1250, "USD") * 1.5


def test_to_decimal_gives_major_units_with_the_currency_s_digits():
    assert Money(1250, "USD").to_decimal() == Decimal("12.50")
    assert str(Money(1250, "USD").to_decimal()) == "12.50"
    assert str(Money(35000, "KRW").to_decimal()) == "35000"


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (35000, "KRW", "en", "₩35,000"),
        (35000, "KRW", "ko", "₩35,000"),
        (1250, "USD", "en", "$12.50"),
        (1250, "USD", "ko", "US$12.50"),
        (120000, "JPY", "en", "¥120,000"),
        (1250, "EUR", "en", "€12.50"),
    ],
)
def test_format_money_in_english_and_korean(amount, currency, locale, expected):
    assert format_money(amount, currency, locale) == expected


def test_format_money_follows_the_active_language():
    with translation.override("ko"):
        assert format_money(1250, "USD") == "US$12.50"
        assert Money(1250, "USD").format() == "US$12.50"
    with translation.override("en"):
        assert str(Money(1250, "USD")) == "$12.50"


_currencies = st.sampled_from(sorted(known_currencies()))


@given(
    amount=st.integers(min_value=-MAX_AMOUNT_MINOR, max_value=MAX_AMOUNT_MINOR),
    currency=_currencies,
)
def test_reading_back_a_formatted_decimal_gives_the_same_money(amount, currency):
    money = Money(amount, currency)
    assert Money.from_major(money.to_decimal(), currency) == money
    assert Money.from_major(str(money.to_decimal()), currency) == money


@pytest.mark.parametrize(
    ("value", "currency"),
    [("10000000000.01", "USD"), ("1000000000001", "KRW"), ("1e999999", "USD"), ("-1e30", "KRW")],
)
def test_amounts_beyond_the_limit_are_refused_with_the_limit_named(value, currency):
    with pytest.raises(InvalidInput) as info:
        Money.from_major(value, currency)
    assert info.value.code == "too_large" and "at most" in info.value.message
