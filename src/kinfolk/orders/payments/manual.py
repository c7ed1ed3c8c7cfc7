"""Bank transfer or pay on pick-up: the order waits until staff mark it paid, and a refund
waits until staff have sent the money back and mark it sent."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from kinfolk.core.errors import Forbidden
from kinfolk.orders.notes import system_note
from kinfolk.orders.payments.base import RefundResult

SEND_BY_HAND_NOTE = system_note(
    gettext_noop("Return the money to the fan by bank transfer, then mark the refund as sent.")
)


class ManualProvider:
    code = "manual"
    # Starting a payment asks nobody: no network call (see PaymentProvider).
    starts_in_process = True
    label = _("Bank transfer or pay on pick-up")
    instructions = _(
        "The shop will confirm your order as soon as your payment arrives. "
        "Use your order number as the payment reference."
    )
    refund_arrival = _(
        "The shop sent the money back by bank transfer unless you agreed on another way; "
        "a bank transfer usually reaches your account within 1 to 3 business days."
    )

    def start(self, *, payment, return_url: str, callback_url: str) -> str:
        return ""

    def cancel(self, *, payment) -> None:
        """Nothing to withdraw: the fan has not been asked for a card."""

    def refund(self, *, payment, amount: int, idempotency_key: str) -> RefundResult:
        """Leave the refund pending: staff return the money by bank transfer themselves."""
        return RefundResult(RefundResult.PENDING, message=SEND_BY_HAND_NOTE)

    def parse_callback(self, *, body: bytes, headers: dict[str, str]):
        raise Forbidden("Manual payments have no callbacks.")
