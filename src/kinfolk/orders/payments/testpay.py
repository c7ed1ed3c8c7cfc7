"""The built-in simulated card processor (``kinfolk.testpay``), used the way a real gateway is:
create a charge, send the fan to its hosted page, then trust only its signed callback."""

from __future__ import annotations

import json

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kinfolk.core.errors import Forbidden
from kinfolk.orders.payments.base import CallbackEvent
from kinfolk.testpay import services as testpay
from kinfolk.testpay import signature


class TestpayProvider:
    code = "testpay"
    label = _("Card (test processor)")
    instructions = _("Waiting for the card processor to confirm your payment…")

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
