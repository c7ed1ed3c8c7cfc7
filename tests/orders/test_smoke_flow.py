"""Given a shop with a product, when a fan buys through testpay, then the order is paid once."""

import json
import time

import pytest
from django.conf import settings

from kinfolk.catalog.models import Variant
from kinfolk.crm.models import Interaction
from kinfolk.orders.models import Order, Payment
from kinfolk.orders.services.cart import cart_add, cart_get_or_create
from kinfolk.orders.services.checkout import order_place
from kinfolk.orders.services.payments import payment_callback_handle
from kinfolk.testpay import signature


def _callback(payment, approved=True, event_id="evt_1"):
    body = json.dumps(
        {
            "id": event_id,
            "type": "charge.approved" if approved else "charge.declined",
            "created": int(time.time()),
            "charge": {
                "id": payment.reference,
                "reference": str(payment.pk),
                "amount": payment.amount,
                "currency": payment.currency,
                "status": "approved" if approved else "declined",
            },
        }
    ).encode()
    header = signature.sign(body, secret=settings.TESTPAY_SECRET, timestamp=int(time.time()))
    return payment_callback_handle(
        provider_code="testpay", body=body, headers={signature.SIGNATURE_HEADER: header}
    )


@pytest.mark.django_db
def test_purchase_with_duplicate_callback_pays_once(shop, product, kr_address):
    variant = product.variants.get()
    cart = cart_get_or_create(shop=shop, token=None)
    cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=2)
    placed = order_place(
        shop=shop, cart=cart, email="Fan@Example.com", address=kr_address,
        payment_provider="testpay", idempotency_key="k1", return_url_for=lambda o: "http://127.0.0.1/",
    )
    assert placed.created and placed.order.total == 70000  # free over 60,000
    assert Variant.objects.get(pk=variant.pk).stock == 3
    again = order_place(
        shop=shop, cart=cart, email="Fan@Example.com", address=kr_address,
        payment_provider="testpay", idempotency_key="k1", return_url_for=lambda o: "http://127.0.0.1/",
    )
    assert not again.created and again.order.pk == placed.order.pk
    assert _callback(placed.payment) == "approved"
    assert _callback(placed.payment) == "duplicate"
    order = Order.objects.get(pk=placed.order.pk)
    assert order.status == "paid"
    assert Payment.objects.filter(order=order, status="approved").count() == 1
    kinds = set(Interaction.objects.filter(customer=order.customer).values_list("kind", flat=True))
    assert kinds == {"order_placed", "order_paid"}


@pytest.mark.django_db
def test_declined_payment_gives_stock_back(shop, product, kr_address):
    variant = product.variants.get()
    cart = cart_get_or_create(shop=shop, token=None)
    cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=5)
    placed = order_place(
        shop=shop, cart=cart, email="fan@example.com", address=kr_address,
        payment_provider="testpay", idempotency_key="k2", return_url_for=lambda o: "http://127.0.0.1/",
    )
    assert Variant.objects.get(pk=variant.pk).stock == 0
    assert _callback(placed.payment, approved=False) == "declined"
    assert Order.objects.get(pk=placed.order.pk).status == "cancelled"
    assert Variant.objects.get(pk=variant.pk).stock == 5
