"""A download in the cart: one per order at the price the fan chose last, never for nothing, and
checked again against the release's current price before it is sold."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kinfolk.catalog.services import product_update
from kinfolk.core.errors import InvalidInput
from kinfolk.orders.models import CartLine, Order
from kinfolk.orders.selectors import cart_quote
from kinfolk.orders.services.cart import cart_add, cart_get_or_create, cart_set_quantity
from kinfolk.releases.services.setup import release_create, release_update
from tests.referrals.conftest import BROWSER

pytestmark = pytest.mark.django_db


def _release(shop, *, pricing="fixed", price=5000, **extra):
    return release_create(
        shop=shop, name="Night Drive", pricing=pricing, price=price, status="active", **extra
    )


def _update(shop, release, *, pricing, price):
    return release_update(
        shop=shop,
        release=release,
        name=release.product.name,
        pricing=pricing,
        price=price,
        email_gate=release.email_gate,
        download_limit=release.download_limit,
        link_hours=release.link_hours,
        status="active",
    )


def _variant(release):
    return release.product.variants.get()


@pytest.fixture
def cart(shop):
    return cart_get_or_create(shop=shop, token=None)


def test_buying_a_release_twice_keeps_one_at_the_last_price(client, shop):
    # Given a pay-what-you-want release from 3,000 won
    release = _release(shop, pricing="pwyw", price=3000)
    url = reverse("storefront:release-buy", args=[shop.slug, release.product.slug])

    # When the fan submits 5,000 and then (a double submit, a change of mind) 7,000
    client.post(url, {"amount": "5000"}, HTTP_USER_AGENT=BROWSER)
    client.post(url, {"amount": "7000"}, HTTP_USER_AGENT=BROWSER)

    # Then the cart holds one copy at 7,000
    line = CartLine.objects.get()
    assert (line.quantity, line.unit_price) == (1, 7000)


def test_adding_a_download_again_replaces_its_price(shop, cart):
    release = _release(shop, pricing="pwyw", price=3000)
    cart_add(shop=shop, cart=cart, variant_id=_variant(release).pk, unit_price=9000)
    cart_add(shop=shop, cart=cart, variant_id=_variant(release).pk)
    line = CartLine.objects.get()
    assert (line.quantity, line.unit_price, line.price_each) == (1, None, 3000)


def test_more_than_one_download_is_refused_clearly(shop, cart):
    # Given a download in the cart
    variant = _variant(_release(shop))
    line = cart_add(shop=shop, cart=cart, variant_id=variant.pk)

    # When the fan asks for two, by adding or by changing the quantity
    for attempt in (
        lambda: cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=2),
        lambda: cart_set_quantity(shop=shop, cart=cart, line_id=line.pk, quantity=2),
    ):
        with pytest.raises(InvalidInput) as refused:
            attempt()
        # Then it is refused with a reason, and the line keeps one
        assert refused.value.field == "quantity"
        assert "is a download: one is all you need" in refused.value.message
    assert CartLine.objects.get().quantity == 1


@pytest.mark.parametrize(("pricing", "price", "unit_price"), [("free", None, None), ("pwyw", 0, 0)])
def test_a_download_for_nothing_cannot_go_in_the_cart(
    client, shop, cart, pricing, price, unit_price
):
    # Given a free release, or a pay-what-you-want one from 0 chosen at 0
    release = _release(shop, pricing=pricing, price=price)

    # When it is added to the cart directly
    with pytest.raises(InvalidInput) as refused:
        cart_add(shop=shop, cart=cart, variant_id=_variant(release).pk, unit_price=unit_price)

    # Then it is refused: the fan gets it from its page (and its e-mail gate)
    assert refused.value.field == "price"
    assert refused.value.message == "This is free: get it from its page."
    assert not CartLine.objects.exists()


def test_the_generic_cart_form_cannot_add_a_free_release(client, shop):
    release = _release(shop, pricing="free", price=None)
    response = client.post(
        reverse("storefront:cart-add", args=[shop.slug]),
        {"product": release.product.slug, "variant": _variant(release).pk, "quantity": "1"},
    )
    assert response.status_code == 400
    assert "This is free: get it from its page." in response.content.decode()
    assert not CartLine.objects.exists()


def test_the_cart_page_marks_a_line_whose_chosen_price_no_longer_holds(client, shop):
    """Given a download in a visitor's cart at 5,000 won, when the shop raises the minimum to
    8,000, then the cart page marks that very line with the reason."""
    release = _release(shop, pricing="pwyw", price=3000)
    client.post(
        reverse("storefront:release-buy", args=[shop.slug, release.product.slug]),
        {"amount": "5000"},
    )
    _update(shop, release, pricing="pwyw", price=8000)

    page = client.get(reverse("storefront:cart", args=[shop.slug])).content.decode()

    assert "The price of Night Drive changed: choose your amount again." in page


def test_a_raised_minimum_stops_an_old_amount_at_checkout(shop, cart, place):
    # Given a download in the cart at the fan's 5,000 won (minimum 3,000)
    release = _release(shop, pricing="pwyw", price=3000)
    cart_add(shop=shop, cart=cart, variant_id=_variant(release).pk, unit_price=5000)

    # When the shop raises the minimum to 8,000
    _update(shop, release, pricing="pwyw", price=8000)

    # Then the cart reports it, and checkout refuses the order with the same words
    message = "The price of Night Drive changed: choose your amount again."
    assert cart_quote(shop=shop, cart=cart).problems == [message]
    with pytest.raises(InvalidInput) as refused:
        place(shop, cart, address=None)
    assert refused.value.code == "cart_changed" and message in refused.value.message
    assert not Order.objects.exists()


def test_a_release_made_free_stops_a_line_that_would_cost_nothing(shop, cart, place):
    # Given a fixed-price release in the cart at its price
    release = _release(shop, pricing="fixed", price=5000)
    cart_add(shop=shop, cart=cart, variant_id=_variant(release).pk)

    # When the shop makes it free
    _update(shop, release, pricing="free", price=None)

    # Then checkout refuses it: it is to be had from its page
    with pytest.raises(InvalidInput) as refused:
        place(shop, cart, address=None)
    assert "Night Drive is free now: get it from its page." in refused.value.message
    assert not Order.objects.exists()


def test_a_chosen_price_on_a_product_no_longer_digital_is_a_problem(shop, cart, place):
    # Given a download in the cart at the fan's own amount
    release = _release(shop, pricing="pwyw", price=3000)
    cart_add(shop=shop, cart=cart, variant_id=_variant(release).pk, unit_price=4000)

    # When its product becomes a physical one
    product_update(shop=shop, product=release.product, kind="physical")

    # Then the amount the fan chose no longer holds
    with pytest.raises(InvalidInput) as refused:
        place(shop, cart)
    assert "The price of Night Drive changed" in refused.value.message


def test_the_checkout_page_shows_a_changed_price_before_the_fan_confirms(client, shop):
    # Given a fan's cart with an amount below the release's new minimum
    release = _release(shop, pricing="pwyw", price=3000)
    url = reverse("storefront:release-buy", args=[shop.slug, release.product.slug])
    client.post(url, {"amount": "5000"}, HTTP_USER_AGENT=BROWSER)
    _update(shop, release, pricing="pwyw", price=8000)

    # When they open checkout
    response = client.get(reverse("storefront:checkout", args=[shop.slug]))

    # Then the page says what changed and leads back to the cart
    page = response.content.decode()
    assert "The price of Night Drive changed: choose your amount again." in page
    assert reverse("storefront:cart", args=[shop.slug]) in page
