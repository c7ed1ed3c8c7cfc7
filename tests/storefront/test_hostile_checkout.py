"""Whatever a fan (or a script) posts to the checkout, the answer is the form with the error
beside the field or the order placed, never a server error, and nothing stored holds a NUL or a
value longer than its column. Runs on PostgreSQL in CI too, which refuses what SQLite takes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kinfolk.crm.models import Customer
from kinfolk.orders.models import Order
from kinfolk.storefront.views.shop_request import parse_id, parse_quantity

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.fixture
def in_cart(shop, product, add_to_cart):
    add_to_cart(shop, product.variants.get(), 1)
    return product


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "김" * 151},
        {"name": "N" * 200},
        {"name": "N" * 5000},
        {"name": f"Kim{NUL}Minji"},
        {"name": NUL},
        {"street_address": f"세종대로{NUL} 110"},
        {"street_address": "S" * 5000},
        {"city": "C" * 150},
        {"postal_code": "0" * 150},
        {"country_area": NUL * 3},
        {"country_code": f"K{NUL}"},
        {"email": f"fan{NUL}@example.com"},
        {"email": "f" * 190 + "@example.com"},
        {"idempotency_key": f"key{NUL}"},
        {"expected_total": "9" * 18},
        {"expected_total": "١٢"},
        {"payment_provider": f"testpay{NUL}"},
    ],
    ids=lambda overrides: ",".join(f"{k}={v[:12]!r}" for k, v in overrides.items()),
)
def test_hostile_checkout_input_never_fails_the_page(
    client, shop, in_cart, checkout_form, overrides
):
    data = checkout_form(shop, **overrides)

    response = client.post(reverse("storefront:checkout", args=[shop.slug]), data)

    assert response.status_code in (303, 400, 409)
    for order in Order.objects.all():
        assert NUL not in str(order.shipping_address) and NUL not in order.email
        assert len(order.shipping_address.get("name", "")) <= 150
    for customer in Customer.objects.all():
        assert NUL not in customer.name and len(customer.name) <= 150


def test_a_name_too_long_for_the_records_is_shown_beside_it_with_everything_kept(
    client, shop, in_cart, checkout_form
):
    data = checkout_form(shop, name="N" * 151)

    response = client.post(reverse("storefront:checkout", args=[shop.slug]), data)

    assert response.status_code == 400
    assert 'id="f-name-error"' in response.text and "at most 150 characters" in response.text
    assert 'value="세종대로 110"' in response.text
    assert not Order.objects.exists()


@pytest.mark.parametrize("value", ["١٢", "１２", "+12", "1" * 19])
def test_only_ascii_digits_of_a_64_bit_column_make_an_id(value):
    assert parse_id(value) is None
    assert parse_id("12") == 12


def test_only_ascii_digits_make_a_quantity():
    assert parse_quantity("١٢") is None and parse_quantity("12") == 12
