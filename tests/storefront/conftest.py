"""Fixtures for the storefront's pages: a visitor's cart filled through the pages themselves, a
checkout form as the browser posts it, and the card processor's signed callbacks."""

from __future__ import annotations

import itertools
import json
import re
import time

import pytest
from django.conf import settings
from django.urls import reverse

from kinfolk.orders.models import Order
from kinfolk.orders.services.payments import payment_callback_handle
from kinfolk.testpay import signature

HTMX = {"HTTP_HX_REQUEST": "true"}
_events = itertools.count(1)


@pytest.fixture
def add_to_cart(client):
    """Return a function that adds a variant to the visitor's cart the way the product page does."""

    def add(shop, variant, quantity: int | str = 1, **extra):
        return client.post(
            reverse("storefront:cart-add", args=[shop.slug]),
            {"product": variant.product.slug, "variant": variant.pk, "quantity": quantity},
            **extra,
        )

    return add


def form_value(html: str, name: str) -> str:
    """Return the value of the input ``name`` in ``html``."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no input {name!r}"
    return match.group(1)


@pytest.fixture
def checkout_form(client, kr_address):
    """Return a function that GETs the checkout page and returns its form as the browser posts it."""

    def form(shop, **overrides) -> dict[str, str]:
        html = client.get(reverse("storefront:checkout", args=[shop.slug])).content.decode()
        data = {
            "idempotency_key": form_value(html, "idempotency_key"),
            "expected_total": form_value(html, "expected_total"),
            "email": "fan@example.com",
            "payment_provider": "testpay",
            **kr_address,
        }
        data.update(overrides)
        return data

    return form


@pytest.fixture
def deliver_callback():
    """Return a function that delivers the processor's signed verdict on an order's payment."""

    def deliver(order: Order, *, approved: bool) -> str:
        payment = order.payments.get()
        body = json.dumps(
            {
                "id": f"evt_storefront_{next(_events)}",
                "type": "charge.approved" if approved else "charge.declined",
                "created": int(time.time()),
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
        header = signature.sign(body, secret=settings.TESTPAY_SECRET, timestamp=int(time.time()))
        return payment_callback_handle(
            provider_code="testpay", body=body, headers={signature.SIGNATURE_HEADER: header}
        )

    return deliver
