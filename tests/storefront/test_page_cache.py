"""The product page kept rendered between visits: what the visitor sees is never older than the
catalogue, and what is theirs alone (CSRF token, cart badge) is theirs."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from kinfolk.catalog.services import stock_take, variant_update
from kinfolk.orders.models import CartLine

pytestmark = pytest.mark.django_db


def _page(client, shop, product) -> str:
    response = client.get(reverse("storefront:product", args=[shop.slug, product.slug]))
    assert response.status_code == 200
    return response.text


def test_a_new_price_shows_right_after_the_change(client, shop, product):
    assert "₩35,000" in _page(client, shop, product)
    variant = product.variants.get()

    variant_update(shop=shop, variant=variant, sku=variant.sku, price=41000, stock=5)

    page = _page(client, shop, product)
    assert "₩41,000" in page and "₩35,000" not in page


def test_sold_out_shows_as_soon_as_the_stock_is_gone(client, shop, product):
    assert "Add to cart" in _page(client, shop, product)
    variant = product.variants.get()

    stock_take(shop=shop, items=[(variant.pk, 5)])

    page = _page(client, shop, product)
    assert "Sold out" in page and "Add to cart" not in page


def test_a_warm_page_costs_no_query(client, shop, product, django_assert_num_queries):
    _page(client, shop, product)
    with django_assert_num_queries(0):
        _page(client, shop, product)


def test_a_change_made_by_another_worker_shows_within_the_microcache_lifetime(
    client, shop, product, monkeypatch
):
    from kinfolk.catalog.models import Variant
    from kinfolk.storefront.views import catalog as catalog_views

    assert "₩35,000" in _page(client, shop, product)
    # Another worker process changes the price: this process's change counter does not see it.
    Variant.objects.filter(product=product).update(price=39000)
    assert "₩35,000" in _page(client, shop, product)

    later = catalog_views.time.monotonic() + catalog_views.MICROCACHE_SECONDS + 0.1
    monkeypatch.setattr(catalog_views.time, "monotonic", lambda: later)
    page = _page(client, shop, product)
    assert "₩39,000" in page and "₩35,000" not in page


def test_each_visitor_gets_their_own_token_and_cart_badge(client, shop, product, add_to_cart):
    add_to_cart(shop, product.variants.get(), 2)
    mine = _page(client, shop, product)
    other_client = Client()
    theirs = _page(other_client, shop, product)

    def token(html: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    assert "(2 items)" in mine and "(0 items)" in theirs
    assert token(mine) != token(theirs)
    # The token in the kept page works: a CSRF-checking client adds to the cart with it.
    strict = Client(enforce_csrf_checks=True)
    html = _page(strict, shop, product)
    response = strict.post(
        reverse("storefront:cart-add", args=[shop.slug]),
        {
            "product": product.slug,
            "variant": product.variants.get().pk,
            "quantity": 1,
            "csrfmiddlewaretoken": token(html),
        },
    )
    assert response.status_code == 303
    assert CartLine.objects.filter(quantity=1).count() == 1


def test_the_page_is_in_the_visitors_language(client, shop, product):
    assert "Add to cart" in _page(client, shop, product)
    client.cookies["django_language"] = "ko"
    page = _page(client, shop, product)
    assert "Add to cart" not in page and 'lang="ko"' in page
