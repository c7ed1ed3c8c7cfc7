"""Reading one cell of an import file: e-mail addresses, amounts, dates, quantities, countries.

Each parser returns a clean value or raises ``LineProblem`` with a reason the person who exported
the file can act on, in the active language; the reader turns it into a rejected line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
import zoneinfo
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from kinfolk.accounts.models import normalize_email
from kinfolk.core.errors import InvalidInput
from kinfolk.core.money import Money, currency_exponent

# subject_id holds 64 characters; longer external ids are replaced by their digest.
SUBJECT_ID_LENGTH = 64
MAX_QUANTITY = 1_000_000
MAX_EMAIL_LENGTH = 254  # Customer.email


class LineProblem(Exception):
    """A line (or an order spanning lines) that cannot be imported, and why."""

    def __init__(self, reason: str, *, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


def email_of(value: str) -> str:
    """Return the address normalised; raise LineProblem when it is missing or malformed."""
    email = normalize_email(value)
    if not email:
        raise LineProblem(
            _(
                "No e-mail address: customers are matched by e-mail, so this line has no one to go to."
            )
        )
    try:
        if len(email) > MAX_EMAIL_LENGTH:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise LineProblem(
            _("“%(value)s” is not an e-mail address.") % {"value": value.strip()}
        ) from None
    return email


def currency_of(value: str, *, shop_currency: str) -> str:
    """Return the line's currency if it is the shop's; raise LineProblem otherwise.

    Amounts are never converted: no file states the rate its shop used on the day.
    """
    code = value.strip().upper()
    if not code:
        raise LineProblem(_("The currency is missing."))
    try:
        currency_exponent(code)
    except InvalidInput:
        raise LineProblem(_("Unknown currency “%(currency)s”.") % {"currency": value}) from None
    if code != shop_currency:
        raise LineProblem(
            _(
                "This line is in %(currency)s but the shop sells in %(shop_currency)s; amounts "
                "are not converted."
            )
            % {"currency": code, "shop_currency": shop_currency}
        )
    return code


def amount_of(value: str, *, currency: str, column: str, required: bool = True) -> int:
    """Return a decimal string ("54.50", "15,000") in minor units of ``currency``.

    Empty is 0 unless ``required``. Raises LineProblem for text, too many decimals or a
    negative amount.
    """
    text = value.strip()
    if not text:
        if required:
            raise LineProblem(_("The amount in column “%(column)s” is empty.") % {"column": column})
        return 0
    try:
        amount = Money.from_major(text, currency).amount
    except InvalidInput as exc:
        raise LineProblem(
            _("The amount “%(value)s” in column “%(column)s” cannot be read: %(why)s")
            % {"value": text, "column": column, "why": exc.message}
        ) from None
    if amount < 0:
        raise LineProblem(
            _("The amount “%(value)s” in column “%(column)s” is negative.")
            % {"value": text, "column": column}
        )
    return amount


def quantity_of(value: str, *, column: str) -> int:
    """Return a whole quantity of at least 1 (empty is 1)."""
    text = value.strip()
    if not text:
        return 1
    try:
        quantity = int(text)
    except ValueError:
        raise LineProblem(
            _("The quantity “%(value)s” in column “%(column)s” is not a whole number.")
            % {"value": text, "column": column}
        ) from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise LineProblem(
            _("The quantity “%(value)s” in column “%(column)s” is out of range.")
            % {"value": text, "column": column}
        )
    return quantity


def datetime_of(
    value: str,
    *,
    column: str,
    formats: Iterable[str] = (),
    tz: dt.tzinfo,
    iso: bool = True,
    example: str = "2024-03-05 14:22:10",
) -> dt.datetime:
    """Return an aware datetime from the first of ``formats`` that fits (then ISO 8601).

    A value without an offset is a time in ``tz`` (the shop's zone, or UTC where the file says
    so). Raises LineProblem naming the value and an example of what fits.
    """
    text = value.strip()
    if not text:
        raise LineProblem(_("The date in column “%(column)s” is empty.") % {"column": column})
    parsed = _iso_with_spaced_offset(text) if iso else None
    for layout in formats if parsed is None else ():
        try:
            parsed = dt.datetime.strptime(text, layout)
            break
        except ValueError:
            continue
    if parsed is None and iso:
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            parsed = None
    if parsed is None:
        raise LineProblem(
            _(
                "The date “%(value)s” in column “%(column)s” cannot be read; expected e.g. %(example)s."
            )
            % {"value": text, "column": column, "example": example}
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(dt.UTC)


def _iso_with_spaced_offset(text: str) -> dt.datetime | None:
    """Return "2024-03-05 14:22:10 -0800" (Shopify's layout) read by the fast ISO parser."""
    if len(text) == 25 and text[19] == " " and text[20] in "+-":
        try:
            return dt.datetime.fromisoformat(text[:19] + text[20:])
        except ValueError:
            return None
    return None


def country_of(value: str) -> str:
    """Return a two-letter country code, or "" for anything else (a name, a blank)."""
    code = value.strip().upper()
    return code if len(code) == 2 and code.isascii() and code.isalpha() else ""


def yes(value: str) -> bool:
    """Return whether a yes/no cell says yes ("yes", "true", "1", "y")."""
    return value.strip().lower() in {"yes", "y", "true", "1"}


def _east_asian(text: str) -> bool:
    return any(
        unicodedata.name(char, "").startswith(("HANGUL", "CJK", "HIRAGANA", "KATAKANA"))
        for char in text
    )


def full_name(first: str, last: str) -> str:
    """Join a first and a last name the way the person writes it.

    Korean, Chinese and Japanese names put the family name first, without a space (김민지).
    """
    first, last = first.strip(), last.strip()
    if first and last and _east_asian(first + last):
        return f"{last}{first}"[:150]
    return " ".join(part for part in (first, last) if part)[:150]


def stable_id(*parts: str) -> str:
    """Return a 32-character digest of ``parts``: the same line gives the same id every time."""
    digest = hashlib.sha256("\x1f".join(part.strip() for part in parts).encode())
    return digest.hexdigest()[:32]


def subject_id_of(value: str) -> str:
    """Return an external id as it fits ``Interaction.subject_id`` (long ids by their digest)."""
    value = value.strip()
    return value if len(value) <= SUBJECT_ID_LENGTH else stable_id(value)


def zone(name: str) -> dt.tzinfo:
    return zoneinfo.ZoneInfo(name)
