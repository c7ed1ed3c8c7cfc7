"""Checkout on one page: errors beside the fields with everything typed kept, one order per
form however often it is sent, and the fan sent on to pay."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kinfolk.catalog.services import variant_update
from kinfolk.orders.models import CartLine, Order
from tests.storefront.conftest import HTMX, form_value

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_cart(shop, product, add_to_cart):
    add_to_cart(shop, product.variants.get(), 2)
    return product


def _checkout(client, shop, data, **extra):
    return client.post(reverse("storefront:checkout", args=[shop.slug]), data, **extra)


def test_an_empty_cart_goes_back_to_the_cart(client, shop):
    response = client.get(reverse("storefront:checkout", args=[shop.slug]))

    assert response.status_code == 303
    assert response["Location"] == reverse("storefront:cart", args=[shop.slug])


def test_the_form_carries_a_key_and_the_total_the_fan_sees(client, shop, in_cart):
    html = client.get(reverse("storefront:checkout", args=[shop.slug])).text

    assert len(form_value(html, "idempotency_key")) == 32
    # 2 × ₩35,000 with free domestic shipping (over ₩60,000), to the shop's own country.
    assert form_value(html, "expected_total") == "70000"
    assert '<option value="KR" selected>South Korea</option>' in html
    assert 'name="payment_provider" value="testpay" checked' in html


def test_countries_are_named_in_the_viewers_language(client, shop, in_cart):
    html = client.get(reverse("storefront:checkout", args=[shop.slug]), HTTP_ACCEPT_LANGUAGE="ko")

    assert '<option value="KR" selected>대한민국</option>' in html.text


def test_a_logged_in_fan_finds_their_address_filled_in(client, shop, in_cart, make_user):
    client.force_login(make_user("minji@example.com", name="Kim Minji"))

    html = client.get(reverse("storefront:checkout", args=[shop.slug])).text

    assert 'value="minji@example.com"' in html and 'value="Kim Minji"' in html


def test_a_bad_postal_code_is_shown_beside_it_with_everything_kept(
    client, shop, in_cart, checkout_form
):
    data = checkout_form(shop, postal_code="ABC", street_address="세종대로 110")

    response = _checkout(client, shop, data)

    html = response.text
    assert response.status_code == 400
    assert 'id="f-postal_code-error"' in html and "e.g. 03051" in html
    assert 'aria-describedby="f-postal_code-error"' in html
    assert 'value="ABC"' in html and 'value="세종대로 110"' in html
    assert 'value="fan@example.com"' in html
    assert form_value(html, "idempotency_key") == data["idempotency_key"]
    assert not Order.objects.exists()


def test_a_missing_email_and_address(client, shop, in_cart, checkout_form):
    data = checkout_form(shop, email="not-an-address", street_address="", name="")

    response = _checkout(client, shop, data)

    assert response.status_code == 400
    assert 'id="f-email-error"' in response.text
    assert 'id="f-street_address-error"' in response.text
    assert 'id="f-name-error"' in response.text


@pytest.mark.parametrize("expected", ["", "abc", "1e5", "-5", "9" * 40])
def test_a_mangled_expected_total_is_a_clear_message(
    client, shop, in_cart, checkout_form, expected
):
    response = _checkout(client, shop, checkout_form(shop, expected_total=expected))

    assert response.status_code == 400
    assert "The total has changed" in response.text
    assert form_value(response.text, "expected_total") == "70000"
    assert not Order.objects.exists()


def test_a_total_that_changed_is_shown_before_anything_is_charged(
    client, shop, in_cart, checkout_form
):
    response = _checkout(client, shop, checkout_form(shop, expected_total="1000"))

    assert response.status_code == 400
    assert "The total is now ₩70,000" in response.text
    assert not Order.objects.exists()


def test_an_unknown_payment_method_is_refused_beside_the_choice(
    client, shop, in_cart, checkout_form
):
    response = _checkout(client, shop, checkout_form(shop, payment_provider="bitcoin"))

    assert response.status_code == 400
    assert 'id="f-payment_provider-error"' in response.text


def test_a_card_payment_sends_the_fan_to_the_processor(client, shop, in_cart, checkout_form):
    response = _checkout(client, shop, checkout_form(shop))

    assert response.status_code == 303
    assert response["Location"].startswith("/testpay/pay/")
    order = Order.objects.get()
    assert order.total == 70000 and order.status == "awaiting_payment"
    assert order.language == "en"
    assert not CartLine.objects.exists()


def test_a_manual_payment_goes_to_the_order_page(client, shop, in_cart, checkout_form):
    response = _checkout(client, shop, checkout_form(shop, payment_provider="manual"))

    order = Order.objects.get()
    assert response.status_code == 303
    assert response["Location"].endswith(
        f"/{shop.slug}/orders/{order.number}/?t={order.access_token}"
    )


def test_sending_the_same_form_twice_places_one_order(client, shop, in_cart, checkout_form):
    data = checkout_form(shop)

    first = _checkout(client, shop, data)
    second = _checkout(client, shop, data)

    assert Order.objects.count() == 1
    assert second.status_code == 303 and second["Location"] == first["Location"]


def test_stock_that_ran_out_meanwhile_points_back_to_the_cart(client, shop, in_cart, checkout_form):
    data = checkout_form(shop)
    variant = in_cart.variants.get()
    variant_update(shop=shop, variant=variant, sku=variant.sku, price=variant.price, stock=1)

    response = _checkout(client, shop, data)

    assert response.status_code in {400, 409}
    assert "Only 1 of Vinyl LP left." in response.text
    assert "Review your cart" in response.text
    assert not Order.objects.exists()


def test_a_country_the_shop_does_not_ship_to(client, make_shop, make_product, add_to_cart):
    from kinfolk.shops.services import shipping_zone_create, shop_create

    shop = shop_create(
        slug="local-only",
        name="Local only",
        currency="KRW",
        time_zone="Asia/Seoul",
        country="KR",
        owner=make_shop().memberships.get().user,
    )
    shipping_zone_create(shop=shop, name="Domestic", countries=["KR"], rate=3000)
    product = make_product(shop)
    add_to_cart(shop, product.variants.get())
    html = client.get(reverse("storefront:checkout", args=[shop.slug])).text
    assert '<option value="US"' not in html

    response = _checkout(
        client,
        shop,
        {
            "email": "a@example.com",
            "country_code": "US",
            "expected_total": "23000",
            "idempotency_key": form_value(html, "idempotency_key"),
            "payment_provider": "manual",
        },
    )

    assert response.status_code == 400
    assert 'id="f-country_code-error"' in response.text


def test_changing_the_country_answers_its_fields_and_new_totals(
    client, shop, in_cart, checkout_form
):
    data = checkout_form(shop, country_code="US", street_address="1 Main St")

    response = client.post(reverse("storefront:checkout-address", args=[shop.slug]), data, **HTMX)

    html = response.text
    assert response.status_code == 200 and "<html" not in html
    assert 'id="address-fields"' in html
    assert ">ZIP code" in html and ">State" in html and '<option value="OH"' in html
    assert 'value="1 Main St"' in html
    assert 'id="checkout-totals" class="checkout-totals" hx-swap-oob="true"' in html
    assert "₩15,000" in html  # the rest-of-the-world rate
    assert 'name="expected_total" value="85000"' in html


def test_a_digital_only_cart_needs_no_address(client, shop, make_product, add_to_cart):
    ebook = make_product(shop, name="Liner notes (PDF)", price=5000, kind="digital", stock=None)
    add_to_cart(shop, ebook.variants.get())
    html = client.get(reverse("storefront:checkout", args=[shop.slug])).text
    assert 'id="f-street_address"' not in html

    response = _checkout(
        client,
        shop,
        {
            "email": "a@example.com",
            "expected_total": "5000",
            "payment_provider": "manual",
            "idempotency_key": form_value(html, "idempotency_key"),
        },
    )

    assert response.status_code == 303
    assert Order.objects.get().shipping_address == {}


def test_a_payment_that_cannot_start_keeps_the_order_and_can_be_retried(
    client, shop, in_cart, checkout_form, monkeypatch
):
    from kinfolk.orders.payments.testpay import TestpayProvider
    from kinfolk.testpay.models import Charge

    original = TestpayProvider.start

    def unreachable(self, **kwargs):
        raise ConnectionError("processor unreachable")

    monkeypatch.setattr(TestpayProvider, "start", unreachable)
    data = checkout_form(shop)
    response = _checkout(client, shop, data)

    assert response.status_code == 502
    order = Order.objects.get()
    assert order.status == "awaiting_payment"
    assert f"#{order.number}" in response.text and "Try the payment again" in response.text
    assert form_value(response.text, "idempotency_key") == data["idempotency_key"]

    monkeypatch.setattr(TestpayProvider, "start", original)
    retry = {
        "idempotency_key": form_value(response.text, "idempotency_key"),
        "expected_total": form_value(response.text, "expected_total"),
        "email": form_value(response.text, "email"),
        "payment_provider": form_value(response.text, "payment_provider"),
    }
    response = _checkout(client, shop, retry)

    assert response.status_code == 303
    assert response["Location"].startswith("/testpay/pay/")
    assert Order.objects.count() == 1 and Charge.objects.count() == 1


def _field_positions(html: str) -> list[str]:
    names = ("street_address", "city", "country_area", "postal_code")
    found = {name: html.find(f'name="{name}"') for name in names}
    return sorted((name for name in names if found[name] >= 0), key=found.get)


def test_address_fields_follow_the_order_the_post_writes_them(client, shop, in_cart):
    """Given a Korean address, a Korean reader gets province, city, street, then postal code
    (서울특별시 중구, 세종대로 110); an English reader gets the Latin order, street first."""
    url = reverse("storefront:checkout", args=[shop.slug])

    korean = client.get(url, HTTP_ACCEPT_LANGUAGE="ko").text
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").text

    assert _field_positions(korean) == ["country_area", "city", "street_address", "postal_code"]
    assert _field_positions(english) == ["street_address", "city", "country_area", "postal_code"]
