"""Money as integer minor units plus an ISO 4217 currency; never floats.

KRW and JPY have no minor unit (exponent 0), USD and EUR have two. Formatting uses Babel in the
viewer's locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache

from babel.numbers import format_currency, get_currency_precision, list_currencies
from django.utils import translation
from django.utils.translation import gettext as _

from kinfolk.core.errors import InvalidInput


@cache
def known_currencies() -> frozenset[str]:
    """Return the ISO 4217 codes Babel knows."""
    return frozenset(list_currencies())


@cache
def currency_exponent(currency: str) -> int:
    """Return the number of minor-unit digits of ``currency`` (0 for KRW and JPY, 2 for USD)."""
    if currency not in known_currencies():
        raise InvalidInput(
            _("Unknown currency %(currency)r.") % {"currency": currency}, field="currency"
        )
    return get_currency_precision(currency)


# The largest amount a price, rate or total may have, in minor units: far beyond any real price
# (₩1,000,000,000,000 or $10,000,000,000.00), and small enough that a line's quantity times it
# and an order's sum of lines stay well inside a 64-bit column.
MAX_AMOUNT_MINOR = 10**12


def amount_too_large(currency: str, *, field: str) -> InvalidInput:
    """Return the error for an amount above MAX_AMOUNT_MINOR, naming the limit in ``currency``."""
    exponent = currency_exponent(currency)
    limit = Decimal(MAX_AMOUNT_MINOR).scaleb(-exponent)
    return InvalidInput(
        _("Enter an amount of at most %(limit)s.") % {"limit": f"{limit:,f}"},
        field=field,
        code="too_large",
    )


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of one currency."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        currency_exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_major(cls, value: str | int | Decimal, currency: str) -> Money:
        """Parse a major-unit amount ("12.50" USD, "15000" KRW); refuse more decimals than exist."""
        exponent = currency_exponent(currency)
        try:
            decimal = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise InvalidInput(_("Enter an amount such as 12.50."), field="amount") from None
        if not decimal.is_finite():
            raise InvalidInput(_("Enter an amount such as 12.50."), field="amount")
        # Compared before scaling: "1e999999" would overflow the scaling itself.
        if abs(decimal) > Decimal(MAX_AMOUNT_MINOR).scaleb(-exponent):
            raise amount_too_large(currency, field="amount")
        scaled = decimal.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise InvalidInput(
                _("%(currency)s amounts have at most %(count)s decimal places.")
                % {"currency": currency, "count": exponent},
                field="amount",
            )
        return cls(int(scaled), currency)

    def to_decimal(self) -> Decimal:
        """Return the amount in major units."""
        exponent = currency_exponent(self.currency)
        return (
            Decimal(self.amount)
            .scaleb(-exponent)
            .quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)
        )

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValueError(
                f"cannot combine {self.currency} with {getattr(other, 'currency', other)}"
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an int")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def format(self, locale: str | None = None) -> str:
        """Format for display in ``locale`` (default: the active language)."""
        return format_money(self.amount, self.currency, locale)

    def __str__(self) -> str:
        return self.format()


def babel_locale(language: str | None = None) -> str:
    """Return a Babel locale name for a Django language code ("ko", "en-us" → "en_US")."""
    language = language or translation.get_language() or "en"
    return translation.to_locale(language)


def format_money(amount: int, currency: str, locale: str | None = None) -> str:
    """Format ``amount`` minor units of ``currency`` in ``locale`` (default: the active language)."""
    return _formatted(amount, currency, locale or babel_locale())


@lru_cache(maxsize=4096)
def _formatted(amount: int, currency: str, locale: str) -> str:
    # A shop shows the same few prices over and over; Babel parses the locale's pattern each time.
    exponent = currency_exponent(currency)
    value = Decimal(amount).scaleb(-exponent)
    return format_currency(value, currency, locale=locale)
