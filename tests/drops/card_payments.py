"""Orders of an edition paid by card through the test processor: the card is entered on the
processor (so that it holds a paid charge, which a refund gives back), and its signed callback
is delivered at once (signed at the clock's time, so that a moved clock still verifies)."""

from __future__ import annotations

import itertools
import json
import uuid

from django.conf import settings

from kinfolk.core import clock
from kinfolk.orders.models import Order
from kinfolk.orders.services import cart as carts
from kinfolk.orders.services.checkout import order_place
from kinfolk.orders.services.payments import payment_callback_handle
from kinfolk.testpay import services as testpay
from kinfolk.testpay import signature
from kinfolk.testpay.models import Charge

_events = itertools.count(1)
APPROVED_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"

SEOUL = {
    "name": "김민지",
    "street_address": "세종대로 110",
    "city": "중구",
    "country_area": "서울특별시",
    "postal_code": "04524",
    "country_code": "KR",
}


def card_order(shop, edition, email: str, *, language: str = "en") -> Order:
    """Place an order of one copy of ``edition`` for ``email``, to be paid by card."""
    cart = carts.cart_get_or_create(shop=shop, token=None)
    carts.cart_add(shop=shop, cart=cart, variant_id=edition.variant_id, quantity=1)
    return order_place(
        shop=shop,
        cart=cart,
        email=email,
        address=SEOUL,
        payment_provider="testpay",
        idempotency_key=uuid.uuid4().hex,
        return_url_for=lambda order: f"http://testserver/{shop.slug}/orders/{order.number}/",
        language=language,
    ).order


def card_callback(order: Order, *, approved: bool = True, event_id: str | None = None) -> str:
    """Pay the order's charge on the processor (approved or declined) and deliver its signed
    verdict on the payment; return the outcome."""
    payment = order.payments.get()
    if Charge.objects.filter(pk=payment.reference, status=Charge.Status.CREATED).exists():
        testpay.charge_pay(
            charge_id=payment.reference,
            card_number=APPROVED_CARD if approved else DECLINED_CARD,
            expiry="12/49",
            cvc="123",
            name="Kim Minji",
        )
    body = json.dumps(
        {
            "id": event_id or f"evt_drops_{next(_events)}",
            "type": "charge.approved" if approved else "charge.declined",
            "created": int(clock.now().timestamp()),
            "charge": {
                "id": payment.reference,
                "reference": str(payment.pk),
                "amount": payment.amount,
                "currency": payment.currency,
                "status": "approved" if approved else "declined",
                "decline_reason": "" if approved else "card_declined",
            },
        }
    ).encode()
    header = signature.sign(
        body, secret=settings.TESTPAY_SECRET, timestamp=int(clock.now().timestamp())
    )
    return payment_callback_handle(
        provider_code="testpay", body=body, headers={signature.SIGNATURE_HEADER: header}
    )
