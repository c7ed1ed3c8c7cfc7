"""The built-in simulated card processor (``kinfolk.testpay``), used the way a real gateway is:
create a charge, send the fan to its hosted page, then trust only its signed callback; refund
it through its refund API, which answers at once and is idempotent by key."""

from __future__ import annotations

import json

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from kinfolk.core.errors import Forbidden, KinfolkError
from kinfolk.orders.notes import system_note
from kinfolk.orders.payments.base import CallbackEvent, RefundResult
from kinfolk.testpay import services as testpay
from kinfolk.testpay import signature

# The processor's refund failure codes and what staff read for them (stored in English, shown
# in the reader's language).
REFUND_FAILURES = {
    "card_closed": system_note(
        gettext_noop("The card processor refused the refund: the fan's card is closed.")
    ),
}
REFUND_FAILED_NOTE = system_note(gettext_noop("The card processor refused the refund."))
NO_CHARGE_NOTE = system_note(gettext_noop("This payment never reached the card processor."))


class TestpayProvider:
    code = "testpay"
    # Starting a payment writes to this database only: no network call (see PaymentProvider).
    starts_in_process = True
    label = _("Card (test processor)")
    instructions = _("Waiting for the card processor to confirm your payment…")
    refund_arrival = _(
        "Card refunds usually show on your card statement within 5 to 10 business days, "
        "depending on your card issuer."
    )

    def start(self, *, payment, return_url: str, callback_url: str) -> str:
        charge = testpay.charge_create(
            merchant_reference=str(payment.pk),
            amount=payment.amount,
            currency=payment.currency,
            description=f"{payment.shop.name} · #{payment.order.number}",
            callback_url=callback_url,
            return_url=return_url,
        )
        payment.reference = str(charge.pk)
        return reverse("testpay:pay", args=[charge.pk])

    def cancel(self, *, payment) -> None:
        """Void the payment's charge so that its page no longer takes a card."""
        if payment.reference:
            testpay.charge_void(charge_id=payment.reference)

    def refund(self, *, payment, amount: int, idempotency_key: str) -> RefundResult:
        """Refund ``amount`` of the payment's charge under ``idempotency_key``: asked again
        with the key, the processor answers with the same refund and gives nothing back twice."""
        if not payment.reference:
            return RefundResult(RefundResult.FAILED, message=NO_CHARGE_NOTE)
        try:
            refund = testpay.refund_create(
                charge_id=payment.reference,
                amount=amount,
                idempotency_key=idempotency_key,
                reason=f"#{payment.order.number}",
            )
        except KinfolkError as exc:
            # A refusal (nothing left to refund, an unpaid charge): an answer, not a retry.
            return RefundResult(RefundResult.FAILED, message=str(exc.message))
        if refund.succeeded:
            return RefundResult(RefundResult.SUCCEEDED, reference=str(refund.pk))
        return RefundResult(
            RefundResult.FAILED,
            reference=str(refund.pk),
            message=REFUND_FAILURES.get(refund.failure_reason, REFUND_FAILED_NOTE),
        )

    def parse_callback(self, *, body: bytes, headers: dict[str, str]) -> CallbackEvent:
        header = headers.get(signature.SIGNATURE_HEADER, "")
        if not signature.verify(body, header, secret=settings.TESTPAY_SECRET):
            raise Forbidden("Bad signature.")
        try:
            event = json.loads(body)
            charge = event["charge"]
            return CallbackEvent(
                event_id=str(event["id"]),
                reference=str(charge["id"]),
                approved=event["type"] == "charge.approved",
                amount=int(charge["amount"]),
                currency=str(charge["currency"]),
                reason=str(charge.get("decline_reason") or ""),
                raw=event,
            )
        except (ValueError, KeyError, TypeError):
            raise Forbidden("Malformed callback.") from None
