"""The interface every payment provider implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from kinfolk.orders.models import Payment


@dataclass(frozen=True)
class CallbackEvent:
    """A verified callback from a provider about one payment."""

    event_id: str
    reference: str  # the provider's id of the payment (Payment.reference)
    approved: bool
    amount: int
    currency: str
    reason: str = ""
    raw: dict | None = None


class PaymentProvider(Protocol):
    code: str
    label: Promise | str
    instructions: Promise | str  # what the fan sees on the order page while payment is pending

    def start(self, *, payment: Payment, return_url: str, callback_url: str) -> str:
        """Register the payment with the provider; return the URL to send the fan to ("" = none).

        May set ``payment.reference``; the caller saves the payment.
        """

    def cancel(self, *, payment: Payment) -> None:
        """Withdraw a pending payment of a cancelled order so that the fan can no longer pay it.

        Optional: a provider without it has nothing to withdraw. Called after the cancellation
        commits; a payment made meanwhile still arrives as a callback (see ``_apply``).
        """

    def parse_callback(self, *, body: bytes, headers: dict[str, str]) -> CallbackEvent:
        """Verify a callback's signature and return its event; raise Forbidden when it fails."""
