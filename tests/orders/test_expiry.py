"""Abandoned card orders are cancelled after the payment window and their stock comes back."""

import datetime as dt

import pytest

from kinfolk.catalog.models import Variant
from kinfolk.core import clock
from kinfolk.orders.models import Order
from kinfolk.orders.services.cart import cart_add, cart_get_or_create
from kinfolk.orders.services.checkout import order_place
from kinfolk.orders.services.expiry import CARD_PAYMENT_WINDOW, orders_expire_unpaid
from kinfolk.orders.services.lifecycle import order_mark_paid


def _place(shop, variant, address, provider, key):
    cart = cart_get_or_create(shop=shop, token=None)
    cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=2)
    return order_place(
        shop=shop,
        cart=cart,
        email="fan@example.com",
        address=address,
        payment_provider=provider,
        idempotency_key=key,
        return_url_for=lambda o: "http://127.0.0.1/",
    ).order


@pytest.mark.django_db
def test_unpaid_card_order_is_cancelled_after_the_window_and_stock_returns(
    shop, make_product, kr_address
):
    variant = make_product(shop, stock=10).variants.get()
    start = clock.now()
    with clock.frozen(start) as advance:
        card = _place(shop, variant, kr_address, "testpay", "card")
        manual = _place(shop, variant, kr_address, "manual", "manual")
        paid = _place(shop, variant, kr_address, "testpay", "paid")
        order_mark_paid(shop=shop, order=paid)
        assert Variant.objects.get(pk=variant.pk).stock == 4

        advance(CARD_PAYMENT_WINDOW - dt.timedelta(minutes=1))
        assert orders_expire_unpaid() == 0

        advance(dt.timedelta(minutes=2))
        assert orders_expire_unpaid() == 1
        assert orders_expire_unpaid() == 0  # running again changes nothing

    assert Order.objects.get(pk=card.pk).status == Order.Status.CANCELLED
    assert Order.objects.get(pk=manual.pk).status == Order.Status.AWAITING_PAYMENT
    assert Order.objects.get(pk=paid.pk).status == Order.Status.PAID
    assert Variant.objects.get(pk=variant.pk).stock == 6  # only the abandoned order's 2 returned
