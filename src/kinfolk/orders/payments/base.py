"""The interface every payment provider implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

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


@dataclass(frozen=True)
class RefundResult:
    """A provider's answer to a refund: ``status`` is one of SUCCEEDED, PENDING or FAILED.

    SUCCEEDED: the money is back with the fan. PENDING: accepted, but the money is not back yet
    (staff return a bank transfer themselves and mark the refund sent). FAILED: nothing went
    back; ``message`` says why, and asking again with the same key may succeed. ``reference`` is
    the provider's id of the refund. ``message`` is stored as given: a system note (see
    ``orders.notes.system_note``) is shown in the reader's language.
    """

    SUCCEEDED: ClassVar[str] = "succeeded"
    PENDING: ClassVar[str] = "pending"
    FAILED: ClassVar[str] = "failed"

    status: str
    reference: str = ""
    message: str = ""

    def __post_init__(self) -> None:
        if self.status not in (self.SUCCEEDED, self.PENDING, self.FAILED):
            raise ValueError(f"unknown refund status {self.status!r}")

    @property
    def succeeded(self) -> bool:
        return self.status == self.SUCCEEDED

    @property
    def pending(self) -> bool:
        return self.status == self.PENDING


class PaymentProvider(Protocol):
    code: str
    label: Promise | str
    instructions: Promise | str  # what the fan sees on the order page while payment is pending
    # Optional: when a refund's money reaches the fan (card statement, bank account), for the
    # e-mail that tells them it was refunded; a general sentence when absent.
    refund_arrival: Promise | str
    # Optional, False when absent: True for a provider whose ``start`` makes no network call
    # (it only writes to this database), so that it may run inside a database transaction.
    starts_in_process: bool

    def start(self, *, payment: Payment, return_url: str, callback_url: str) -> str:
        """Register the payment with the provider; return the URL to send the fan to ("" = none).

        May set ``payment.reference``; the caller saves the payment.
        """

    def cancel(self, *, payment: Payment) -> None:
        """Withdraw a pending payment of a cancelled order so that the fan can no longer pay it.

        Optional: a provider without it has nothing to withdraw. Called after the cancellation
        commits; a payment made meanwhile still arrives as a callback (see ``_apply``).
        """

    def refund(self, *, payment: Payment, amount: int, idempotency_key: str) -> RefundResult:
        """Give ``amount`` minor units of the approved ``payment`` back to the fan; return the
        provider's answer.

        Called after commit, never inside a transaction, by the worker (possibly again for the
        same refund: a retried task, or staff's "Try again"): the provider passes
        ``idempotency_key`` on, so that the money goes back once however often it is asked.
        Raises only what a later try may cure (the network); a refusal is a FAILED result.
        A provider without this method leaves the refund pending for staff.
        """

    def parse_callback(self, *, body: bytes, headers: dict[str, str]) -> CallbackEvent:
        """Verify a callback's signature and return its event; raise Forbidden when it fails."""
