"""Fixtures for orders: carts filled through the cart service, orders placed through checkout,
and callbacks signed the way the card processor signs them."""

from __future__ import annotations

import itertools
import json
import time
import uuid

import pytest
from django.conf import settings
from huey.contrib.djhuey import HUEY

from kinfolk.orders.models import Order
from kinfolk.orders.services.cart import cart_add, cart_get_or_create
from kinfolk.orders.services.checkout import order_place
from kinfolk.orders.services.payments import payment_callback_handle
from kinfolk.testpay import signature
from kinfolk.testpay.services import charge_pay

_events = itertools.count(1)


@pytest.fixture
def fill_cart(db):
    """Return a function that builds a cart of ``shop`` holding ``(variant, quantity)`` pairs."""

    def fill(shop, *items):
        cart = cart_get_or_create(shop=shop, token=None)
        for variant, quantity in items:
            cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=quantity)
        return cart

    return fill


@pytest.fixture
def place(kr_address):
    """Return a function that places an order with sensible defaults (testpay, a Seoul address)."""

    def place_order(shop, cart, **overrides):
        arguments = {
            "email": "fan@example.com",
            "address": kr_address,
            "payment_provider": "testpay",
            "idempotency_key": uuid.uuid4().hex,
            "return_url_for": lambda order: f"http://127.0.0.1/{shop.slug}/orders/{order.number}/",
        }
        arguments.update(overrides)
        return order_place(shop=shop, cart=cart, **arguments)

    return place_order


@pytest.fixture
def buy(fill_cart, place):
    """Return a function that fills a cart and places it: ``buy(shop, (variant, 2), ...)``."""

    def buy_items(shop, *items, **overrides):
        return place(shop, fill_cart(shop, *items), **overrides)

    return buy_items


def callback_body(
    payment,
    *,
    approved: bool = True,
    event_id: str | None = None,
    amount: int | None = None,
    currency: str | None = None,
) -> bytes:
    """Return a callback body as the card processor writes it for ``payment``."""
    return json.dumps(
        {
            "id": event_id or f"evt_test_{next(_events)}",
            "type": "charge.approved" if approved else "charge.declined",
            "created": int(time.time()),
            "charge": {
                "id": payment.reference,
                "reference": str(payment.pk),
                "amount": payment.amount if amount is None else amount,
                "currency": currency or payment.currency,
                "status": "approved" if approved else "declined",
                "decline_reason": "" if approved else "card_declined",
            },
        }
    ).encode()


def signed_headers(body: bytes, *, secret: str | None = None) -> dict[str, str]:
    header = signature.sign(
        body, secret=secret or settings.TESTPAY_SECRET, timestamp=int(time.time())
    )
    return {signature.SIGNATURE_HEADER: header}


@pytest.fixture
def deliver_callback():
    """Return a function that delivers a signed callback for ``payment`` and returns the outcome."""

    def deliver(payment, **kwargs) -> str:
        body = callback_body(payment, **kwargs)
        return payment_callback_handle(
            provider_code="testpay", body=body, headers=signed_headers(body)
        )

    return deliver


@pytest.fixture
def processor_reaches_the_shop(live_server, settings):
    """The processor posts its callbacks to this process's live server (use it in tests that
    commit for real: ``django_db(transaction=True)``)."""
    settings.TESTPAY_CALLBACK_BASE = live_server.url
    HUEY.flush()
    yield
    HUEY.flush()


@pytest.fixture
def vinyl(product):
    return product.variants.get()


@pytest.fixture
def card_order(shop, vinyl, buy, run_tasks):
    """Return a function that places an order of ``quantity`` records and pays it by ``card``
    on the processor's page; the processor's callback then marks it paid. Other keywords go to
    the order (``language``, ``email``)."""

    def order(quantity: int = 1, *, card: str = "4242424242424242", **overrides) -> Order:
        placed = buy(shop, (vinyl, quantity), **overrides)
        charge_pay(
            charge_id=placed.payment.reference,
            card_number=card,
            expiry="12/49",
            cvc="123",
            name="Kim Minji",
        )
        run_tasks()
        paid = Order.objects.get(pk=placed.order.pk)
        assert paid.status == Order.Status.PAID
        return paid

    return order
