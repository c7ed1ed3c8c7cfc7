"""Paid releases: the fan's amount goes into the cart (at least the price, more allowed, bad
amounts refused clearly); paying the order puts the release in the library, refunding it
withdraws the links; the order page shows the downloads."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from tests.releases.conftest import SONG

from kinfolk.orders.models import CartLine
from kinfolk.orders.services import cart as carts
from kinfolk.orders.services.checkout import order_place
from kinfolk.orders.services.lifecycle import order_mark_paid, order_refund
from kinfolk.releases.models import Grant

pytestmark = pytest.mark.django_db


def _buy(client, shop, release, amount: str):
    url = reverse("storefront:release-buy", args=[shop.slug, release.product.slug])
    return client.post(url, {"amount": amount})


@pytest.fixture
def pwyw(make_release):
    return make_release("Pay Song", pricing="pwyw", price=3000, suggested_price=5000)


def test_the_page_shows_the_pay_what_you_want_price_and_suggestion(client, shop, pwyw):
    html = client.get(f"/{shop.slug}/releases/{pwyw.product.slug}/").content.decode()
    assert "Pay what you want · at least ₩3,000" in html
    assert 'value="5000"' in html


def test_more_than_the_minimum_goes_into_the_cart_at_the_fans_amount(client, shop, pwyw):
    response = _buy(client, shop, pwyw, "7,000")
    assert response.status_code == 303
    line = CartLine.objects.get()
    assert (line.unit_price, line.quantity) == (7000, 1)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("2999", "Pay at least"),
        ("", "Enter an amount"),
        ("abc", "Enter an amount such as"),
        ("-5", "Enter an amount of 0 or more"),
        ("1e999999", "at most"),
        ("9" * 40, "at most"),
        ("12.5", "decimal places"),
        ("NaN", "Enter an amount such as"),
    ],
)
def test_bad_amounts_are_refused_clearly_and_kept(client, shop, pwyw, amount, message):
    response = _buy(client, shop, pwyw, amount)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert not CartLine.objects.exists()


def test_a_pay_what_you_want_release_from_zero_is_free_for_zero(client, shop, make_release):
    release = make_release("Zero Song", pricing="pwyw", price=0)
    response = _buy(client, shop, release, "0")
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()  # the gate, not the cart
    assert not CartLine.objects.exists()
    assert _buy(client, shop, release, "1000").status_code == 303


def _order_for(shop, release, email="buyer@example.com", unit_price=None):
    cart = carts.cart_get_or_create(shop=shop, token=None)
    variant = release.product.variants.get()
    carts.cart_add(shop=shop, cart=cart, variant_id=variant.pk, unit_price=unit_price)
    return order_place(
        shop=shop,
        cart=cart,
        email=email,
        address=None,
        payment_provider="manual",
        idempotency_key=uuid.uuid4().hex,
        return_url_for=lambda order: "http://testserver/",
    ).order


def test_paying_gives_a_grant_once_and_refunding_withdraws_it(client, shop, make_release):
    # Given an order of a fixed-price release awaiting payment
    release = make_release("Bought Song", pricing="fixed", price=5000)
    order = _order_for(shop, release)
    assert not Grant.objects.exists()
    # When it is marked paid
    order_mark_paid(shop=shop, order=order)
    # Then the buyer has one grant from the order, and the order page links the file
    grant = Grant.objects.get()
    assert (grant.source, grant.order_id, grant.customer.email) == (
        "order",
        order.pk,
        "buyer@example.com",
    )
    page = client.get(
        reverse("storefront:order", args=[shop.slug, order.number]) + f"?t={order.access_token}"
    )
    html = page.content.decode()
    assert "Downloads" in html and "01 - Night Drive.wav" in html
    token = html.split("/downloads/")[1].split("/")[0]
    url = reverse("storefront:release-download", args=[shop.slug, token])
    assert b"".join(client.get(url).streaming_content) == SONG
    # When the order is refunded
    order.refresh_from_db()
    order_refund(shop=shop, order=order)
    # Then the grant is withdrawn, its links answer with a clear page, the order page hides them
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    response = client.get(url)
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


def test_an_unpaid_order_gives_nothing(shop, make_release):
    release = make_release("Unpaid Song", pricing="fixed", price=5000)
    _order_for(shop, release)
    assert not Grant.objects.exists()


def test_pay_what_you_want_from_zero_without_a_gate_downloads_for_zero(client, shop, make_release):
    """Given a pay-what-you-want release from 0 without an e-mail gate, when a visitor opens
    its page, names 0 in its amount form and follows the link on the page that answers, then
    the song downloads (no cart, no grant, one anonymous download counted)."""
    from kinfolk.releases.models import Download

    release = make_release("Zero Open", pricing="pwyw", price=0, email_gate=False)
    page = client.get(reverse("storefront:release", args=[shop.slug, release.product.slug]))
    buy_url = reverse("storefront:release-buy", args=[shop.slug, release.product.slug])
    assert f'action="{buy_url}"' in page.content.decode()
    response = client.post(buy_url, {"amount": "0"})
    assert response.status_code == 200
    html = response.content.decode()
    token = html.split("/downloads/")[1].split("/")[0]
    download = client.get(reverse("storefront:release-download", args=[shop.slug, token]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == SONG
    assert not CartLine.objects.exists() and not Grant.objects.exists()
    assert Download.objects.filter(release=release, grant__isnull=True).count() == 1
    # The same link stops working once the minimum is raised
    release.product.variants.update(price=1000)
    assert (
        client.get(reverse("storefront:release-download", args=[shop.slug, token])).status_code
        == 404
    )


def _paid_order_of(shop, releases, email):
    cart = carts.cart_get_or_create(shop=shop, token=None)
    for release in releases:
        variant = release.product.variants.get()
        carts.cart_add(shop=shop, cart=cart, variant_id=variant.pk, unit_price=None)
    order = order_place(
        shop=shop,
        cart=cart,
        email=email,
        address=None,
        payment_provider="manual",
        idempotency_key=uuid.uuid4().hex,
        return_url_for=lambda order: "http://testserver/",
    ).order
    order_mark_paid(shop=shop, order=order)
    order.refresh_from_db()
    return order


def test_the_order_page_lists_downloads_in_a_fixed_number_of_queries(
    client, shop, make_release, django_assert_max_num_queries
):
    """Given a paid order of one release and another of four (files downloaded), when each
    order page is shown, then both take the same number of queries and list every file."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kinfolk.releases.services import download_take

    def queries_for(order) -> tuple[int, str]:
        url = reverse("storefront:order", args=[shop.slug, order.number])
        with CaptureQueriesContext(connection) as captured:
            html = client.get(f"{url}?t={order.access_token}").content.decode()
        return len(captured), html

    small = _paid_order_of(shop, [make_release("Solo", pricing="fixed", price=1000)], "a@x.com")
    big = _paid_order_of(
        shop,
        [make_release(f"Song {n}", pricing="fixed", price=1000) for n in range(4)],
        "b@x.com",
    )
    for grant in Grant.objects.filter(order=big):
        download_take(shop=shop, grant=grant, file=grant.release.files.get())
    one, _html = queries_for(small)
    four, html = queries_for(big)
    assert one == four
    assert html.count("/downloads/") >= 4
    with django_assert_max_num_queries(one):
        queries_for(big)
