"""A checkout submitted twice with the same key places one order, also when both arrive at once."""

import threading
import uuid

import pytest
from django.db import connections

from kinfolk.catalog.models import Variant
from kinfolk.orders.models import Order, Payment
from kinfolk.testpay.models import Charge


@pytest.mark.django_db
def test_the_same_key_twice_returns_the_first_order(shop, product, fill_cart, place):
    variant = product.variants.get()
    cart = fill_cart(shop, (variant, 2))
    first = place(shop, cart, idempotency_key="checkout-1")
    again = place(shop, cart, idempotency_key="checkout-1")
    assert first.created and not again.created
    assert again.order.pk == first.order.pk
    assert again.redirect_url == first.redirect_url
    assert Order.objects.count() == 1 and Payment.objects.count() == 1
    assert Variant.objects.get(pk=variant.pk).stock == 3


@pytest.mark.django_db
def test_a_retry_after_the_cart_was_emptied_still_answers_with_the_order(
    shop, product, fill_cart, place
):
    cart = fill_cart(shop, (product.variants.get(), 1))
    first = place(shop, cart, idempotency_key="k")
    # The cart is empty now; the retry must not say so, it must find the order.
    assert place(shop, cart, idempotency_key="k").order == first.order


@pytest.mark.django_db
def test_keys_are_per_shop(shop, make_shop, make_product, product, fill_cart, place):
    other = make_shop()
    mine = place(shop, fill_cart(shop, (product.variants.get(), 1)), idempotency_key="same")
    theirs = place(
        other, fill_cart(other, (make_product(other).variants.get(), 1)), idempotency_key="same"
    )
    assert mine.order.pk != theirs.order.pk and theirs.created


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_two_threads_racing_with_the_same_key_place_one_order(
    shop, product, fill_cart, place, round_
):
    # Given one cart and a double-clicked submit arriving on two connections at once
    variant = product.variants.get()
    cart = fill_cart(shop, (variant, 2))
    key = uuid.uuid4().hex
    barrier = threading.Barrier(2)
    results, errors = [], []

    def submit():
        try:
            barrier.wait(timeout=10)
            results.append(place(shop, cart, idempotency_key=key))
        except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then both get the same order, created once, and stock is taken once
    assert errors == []
    assert len(results) == 2
    assert {placed.order.pk for placed in results} == {Order.objects.get().pk}
    assert sorted(placed.created for placed in results) == [False, True]
    assert Payment.objects.count() == 1 and Charge.objects.count() == 1
    assert Variant.objects.get(pk=variant.pk).stock == 3
