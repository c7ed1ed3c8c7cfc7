"""Notes the system writes into an order's history, and how a reader sees them.

They are stored in English, so that the record does not depend on who happened to be reading
when it was written; ``order_note_display`` shows them in the reader's language. A note staff
typed themselves is shown as typed.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

ORDER_PLACED_NOTE = gettext_noop("Order placed")
PAYMENT_RECEIVED_NOTE = gettext_noop("Payment received")
PAYMENT_TIMED_OUT_NOTE = gettext_noop("Payment not completed in time")
REFUND_NEEDED_NOTE = gettext_noop("Payment received after cancellation: refund needed")

SYSTEM_NOTES = {
    ORDER_PLACED_NOTE,
    PAYMENT_RECEIVED_NOTE,
    PAYMENT_TIMED_OUT_NOTE,
    REFUND_NEEDED_NOTE,
}


def system_note(message: str) -> str:
    """Declare a note another app writes into orders' history (marked with gettext_noop), so that
    it is shown in the reader's language too; return it unchanged."""
    SYSTEM_NOTES.add(message)
    return message


# Processors' decline codes (testpay uses the common ones) and what a maker reads for them.
DECLINE_REASONS = {
    "card_declined": gettext_lazy("card declined"),
    "insufficient_funds": gettext_lazy("insufficient funds"),
    "expired_card": gettext_lazy("expired card"),
    "incorrect_cvc": gettext_lazy("incorrect security code"),
    "processing_error": gettext_lazy("processing error"),
}
_DECLINED = re.compile(r"^Payment declined \(([a-z0-9_]{0,40})\)$")


def payment_declined_note(reason: str) -> str:
    """Return the note stored when a payment is declined for ``reason`` (a processor's code)."""
    code = reason if re.fullmatch(r"[a-z0-9_]{1,40}", reason or "") else "declined"
    return f"Payment declined ({code})"


def order_note_display(note: str) -> str:
    """Return ``note`` in the active language when the system wrote it, else as it is."""
    if note in SYSTEM_NOTES:
        return _(note)
    declined = _DECLINED.match(note)
    if declined:
        code = declined.group(1)
        reason = DECLINE_REASONS.get(code, code.replace("_", " ") or _("declined"))
        return _("Payment declined (%(reason)s)") % {"reason": reason}
    return note
