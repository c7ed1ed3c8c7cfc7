"""The card form's rules (Luhn, expiry, CVC) and the test cards that decide a charge."""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kinfolk.core.errors import InvalidInput

# Card number → decline reason ("" approves). Any other valid number is approved.
TEST_CARDS = {
    "4242424242424242": "",
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000259": "",
    "4000000000005126": "",
}
# Approved, and its callback is delivered twice with the same event id.
DUPLICATE_CALLBACK_CARD = "4000000000000259"
# Approved, then its issuer closes it: refunds to it fail ("card_closed") until it is reopened.
CLOSED_CARD = "4000000000005126"
REFUND_CARD_CLOSED = "card_closed"

# What the hosted page lists for buyers trying things out.
TEST_CARDS_HELP = [
    ("4242 4242 4242 4242", gettext_lazy("Approved")),
    ("4000 0000 0000 0002", gettext_lazy("Declined: card declined")),
    ("4000 0000 0000 9995", gettext_lazy("Declined: insufficient funds")),
    ("4000 0000 0000 0259", gettext_lazy("Approved; the callback arrives twice")),
    ("4000 0000 0000 5126", gettext_lazy("Approved; refunds fail (card closed)")),
]

_EXPIRY = re.compile(r"^([0-9]{1,2})\s*/\s*([0-9]{2})$")
_CVC = re.compile(r"^[0-9]{3,4}$")


def luhn_valid(digits: str) -> bool:
    """Return whether a string of digits passes the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _number_error(number: str) -> str | None:
    if not number:
        return _("Enter the card number.")
    if not number.isascii() or not number.isdigit() or not 12 <= len(number) <= 19:
        return _("Enter the 12 to 19 digits printed on the card.")
    if not luhn_valid(number):
        return _("This card number is not valid; check it for typos.")
    return None


def _expiry_error(expiry: str, today: dt.date) -> str | None:
    match = _EXPIRY.match(expiry)
    if not match:
        return _("Enter the expiry date as MM/YY.")
    month, year = int(match[1]), 2000 + int(match[2])
    if not 1 <= month <= 12:
        return _("The expiry month must be between 01 and 12.")
    # A card is valid through the last day of its expiry month.
    if (year, month) < (today.year, today.month):
        return _("This card has expired.")
    return None


def _cvc_error(cvc: str) -> str | None:
    if not _CVC.match(cvc):
        return _("Enter the 3 or 4 digit security code.")
    return None


def _name_error(name: str) -> str | None:
    if not name:
        return _("Enter the name on the card.")
    if len(name) > 100:
        return _("The name can have at most 100 characters.")
    return None


def validated_card(*, card_number: str, expiry: str, cvc: str, name: str, today: dt.date) -> str:
    """Return the card number as digits, or raise InvalidInput naming every bad field."""
    number = re.sub(r"[\s-]", "", card_number or "")
    errors = {
        field: message
        for field, message in (
            ("card_number", _number_error(number)),
            ("expiry", _expiry_error((expiry or "").strip(), today)),
            ("cvc", _cvc_error((cvc or "").strip())),
            ("name", _name_error((name or "").strip())),
        )
        if message
    }
    if errors:
        field, message = next(iter(errors.items()))
        raise InvalidInput(message, field=field, errors=errors)
    return number
