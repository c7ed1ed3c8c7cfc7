"""The header's cart badge: a count kept in the visitor's session by the cart's own pages, right
after every change of the cart, so that other pages show it without counting the cart."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kinfolk.orders.models import CartLine

pytestmark = pytest.mark.django_db


def _badge(client, shop, product) -> str:
    response = client.get(reverse("storefront:product", args=[shop.slug, product.slug]))
    assert response.status_code == 200
    for label in ("(0 items)", "(1 item)", "(2 items)", "(3 items)", "(5 items)"):
        if label in response.text:
            return label
    raise AssertionError("no cart badge on the page")


def test_the_badge_follows_add_change_and_remove(client, shop, product, add_to_cart):
    variant = product.variants.get()
    assert _badge(client, shop, product) == "(0 items)"

    add_to_cart(shop, variant, 2)  # the redirect to the cart page is not followed
    assert _badge(client, shop, product) == "(2 items)"

    line = CartLine.objects.get()
    client.post(reverse("storefront:cart-line", args=[shop.slug, line.pk]), {"quantity": "3"})
    assert _badge(client, shop, product) == "(3 items)"

    client.post(reverse("storefront:cart-line-remove", args=[shop.slug, line.pk]))
    assert _badge(client, shop, product) == "(0 items)"


def test_the_badge_is_empty_once_the_order_is_placed(
    client, shop, product, add_to_cart, checkout_form
):
    add_to_cart(shop, product.variants.get(), 1)
    assert _badge(client, shop, product) == "(1 item)"

    response = client.post(reverse("storefront:checkout", args=[shop.slug]), checkout_form(shop))

    assert response.status_code == 303
    assert _badge(client, shop, product) == "(0 items)"


def test_the_cart_page_counts_the_cart_itself(client, shop, product, add_to_cart):
    add_to_cart(shop, product.variants.get(), 2)
    # Changed behind the session's back (another device of the same account, say).
    CartLine.objects.update(quantity=3)

    response = client.get(reverse("storefront:cart", args=[shop.slug]))

    assert "(3 items)" in response.text
    assert _badge(client, shop, product) == "(3 items)"


def test_a_warm_page_with_a_cart_costs_one_query(
    client, shop, product, add_to_cart, django_assert_max_num_queries
):
    add_to_cart(shop, product.variants.get(), 1)
    _badge(client, shop, product)  # shows the "added" message: not the kept page
    _badge(client, shop, product)  # renders the page to keep
    with django_assert_max_num_queries(1):
        assert _badge(client, shop, product) == "(1 item)"
