"""Whatever staff type into the catalogue forms, the answer is a page with the error beside the
field, never a server error, and nothing out of range is stored. Runs on PostgreSQL in CI too,
whose integer and text columns refuse what SQLite quietly takes."""

from __future__ import annotations

import pytest
from django.urls import reverse
from tests.dashboard.factories import new_product, new_shop, new_user

from kinfolk.catalog.models import Product, Variant

pytestmark = pytest.mark.django_db

HUGE_PRICES = ["99999999999999999999", "99999999999999999.99", "1e999999", "10000000000.01"]
HUGE_STOCKS = ["9999999999999999999999999", "99999999999", "2147483648"]
NUL = "bad\x00value"


@pytest.fixture
def usd_shop(client):
    owner = new_user()
    shop = new_shop(slug="garage-synths", owner=owner, currency="USD")
    client.force_login(owner)
    return shop


def _new_product(**overrides) -> dict[str, str]:
    return {
        "name": "Patch cable",
        "slug": "",
        "kind": "physical",
        "status": "active",
        "description": "",
        "price": "12.50",
        "stock": "3",
        "sku": "",
        "variant_name": "",
        **overrides,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [("price", value) for value in HUGE_PRICES]
    + [("stock", value) for value in HUGE_STOCKS]
    + [(field, NUL) for field in ("name", "slug", "description", "sku", "variant_name")],
)
def test_hostile_new_product_input_is_refused_beside_the_field(client, usd_shop, field, value):
    url = reverse("dashboard:product_new", kwargs={"shop": usd_shop.slug})

    response = client.post(url, _new_product(**{field: value}))

    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.text
    assert not Product.objects.filter(shop=usd_shop).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("price", value) for value in HUGE_PRICES]
    + [("stock", value) for value in HUGE_STOCKS]
    + [(field, NUL) for field in ("sku", "name")],
)
def test_hostile_variant_input_is_refused_beside_the_field(client, usd_shop, field, value):
    product = new_product(usd_shop, name="Pedal", price=3000, stock=5)
    variant = product.variants.get()
    prefix = f"v{variant.pk}"
    data = {
        f"{prefix}-sku": variant.sku,
        f"{prefix}-name": "",
        f"{prefix}-price": "30",
        f"{prefix}-stock": "5",
        f"{prefix}-stock_seen": "5",
        f"{prefix}-{field}": value,
    }
    url = reverse(
        "dashboard:variant_edit",
        kwargs={"shop": usd_shop.slug, "product_id": product.pk, "variant_id": variant.pk},
    )

    response = client.post(url, data)

    assert response.status_code == 400
    assert f'id="id_{prefix}-{field}_error"' in response.text
    stored = Variant.objects.get(pk=variant.pk)
    assert (stored.price, stored.stock, stored.sku) == (3000, 5, variant.sku)


def test_the_largest_price_and_stock_are_stored(client, usd_shop):
    url = reverse("dashboard:product_new", kwargs={"shop": usd_shop.slug})

    response = client.post(url, _new_product(price="10000000000.00", stock="2147483647"))

    assert response.status_code == 302
    variant = Variant.objects.get(product__shop=usd_shop)
    assert (variant.price, variant.stock) == (10**12, 2_147_483_647)
