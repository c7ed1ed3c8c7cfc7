"""The order page: only for its fan, the status polled while the card processor decides, the
confirmation once paid, and a declined card said plainly."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kinfolk.orders.models import CartLine, Order
from kinfolk.orders.services.lifecycle import order_cancel, order_mark_paid, order_ship

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(client, shop, product, add_to_cart, checkout_form):
    add_to_cart(shop, product.variants.get(), 2)
    client.post(reverse("storefront:checkout", args=[shop.slug]), checkout_form(shop))
    return Order.objects.get()


def _page(client, order, token=None, **extra):
    url = reverse("storefront:order", args=[order.shop.slug, order.number])
    return client.get(url, {"t": order.access_token if token is None else token}, **extra)


def _status(client, order, shown):
    url = reverse("storefront:order-status", args=[order.shop.slug, order.number])
    return client.get(url, {"t": order.access_token, "s": shown})


def test_the_order_page_needs_its_token_or_its_account(client, order, make_user):
    client.cookies.clear()
    assert _page(client, order, token="").status_code == 404
    assert _page(client, order, token="wrong").status_code == 404
    assert _page(client, order).status_code == 200

    client.force_login(make_user())
    assert _page(client, order, token="").status_code == 404


def test_an_unknown_order_is_404(client, shop):
    url = reverse("storefront:order", args=[shop.slug, "NOPE2345"])
    assert client.get(url, {"t": "x"}).status_code == 404


def test_while_the_card_is_checked_the_status_polls_itself(client, order):
    html = _page(client, order).text

    assert f"Order #{order.number}" in html
    assert 'hx-trigger="every 1s"' in html
    assert "Waiting for the card processor" in html
    assert "Vinyl LP" in html and "₩70,000" in html
    assert "04524" in html  # the address, formatted for Korea


def test_polling_is_silent_until_the_status_changes(client, order, deliver_callback):
    assert _status(client, order, "awaiting_payment").status_code == 204

    assert deliver_callback(order, approved=True) == "approved"
    response = _status(client, order, "awaiting_payment")

    assert response.status_code == 200
    assert f"Thank you! Order #{order.number}" in response.text
    assert "hx-trigger" not in response.text


def test_a_paid_order_is_the_confirmation_page(client, order, deliver_callback):
    deliver_callback(order, approved=True)

    html = _page(client, order).text

    assert f"Thank you! Order #{order.number}" in html
    assert "Your payment was received." in html
    assert "hx-trigger" not in html


def test_a_declined_card_says_nothing_was_charged_and_can_go_back_to_the_cart(
    client, order, shop, deliver_callback
):
    deliver_callback(order, approved=False)

    html = _page(client, order).text
    assert "Your card was declined; nothing was charged." in html
    assert f'href="/{shop.slug}/"' in html

    retry = client.post(
        reverse("storefront:order-retry", args=[shop.slug, order.number])
        + f"?t={order.access_token}"
    )
    assert retry.status_code == 303
    assert list(CartLine.objects.values_list("quantity", flat=True)) == [2]


def test_an_order_cancelled_by_the_shop_is_not_called_declined(client, order, shop):
    order_cancel(shop=shop, order=order, reason="Customer asked")

    html = _page(client, order).text

    assert "This order was cancelled" in html
    assert "declined" not in html.lower()


def test_shipments_show_carrier_and_tracking_number(client, order, shop):
    order_mark_paid(shop=shop, order=order)
    order_ship(shop=shop, order=order, carrier="CJ Logistics", tracking_number="6543 2100 7788")

    html = _page(client, order).text

    assert "CJ Logistics" in html and "6543 2100 7788" in html
    assert "Your order is on its way." in html


def test_a_manual_payment_shows_the_instructions(client, shop, product, add_to_cart, checkout_form):
    add_to_cart(shop, product.variants.get(), 1)
    client.post(
        reverse("storefront:checkout", args=[shop.slug]),
        checkout_form(shop, payment_provider="manual"),
    )
    order = Order.objects.get()

    html = _page(client, order).text

    assert "Use your order number as the payment reference." in html
    assert "hx-trigger" not in html
