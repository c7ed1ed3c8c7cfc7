"""The catalogue pages: list, create, edit, variants and images, errors next to their fields."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from tests.dashboard.factories import new_product, new_shop, new_user
from tests.storefront.conftest import form_value

from kinfolk.catalog.models import Product, ProductImage, Variant
from kinfolk.catalog.services import stock_take, variant_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def krw_shop(client):
    owner = new_user()
    shop = new_shop(slug="hanok-pottery", owner=owner, currency="KRW", time_zone="Asia/Seoul")
    client.force_login(owner)
    return shop


@pytest.fixture
def usd_shop(client):
    owner = new_user()
    shop = new_shop(slug="garage-synths", owner=owner, currency="USD")
    client.force_login(owner)
    return shop


def edit_url(shop, product, name: str = "product_edit", **extra) -> str:
    return reverse(
        f"dashboard:{name}", kwargs={"shop": shop.slug, "product_id": product.pk, **extra}
    )


def test_the_list_shows_every_status_and_filters(client, usd_shop):
    draft = new_product(usd_shop, name="Prototype", status=Product.Status.DRAFT, price=9900)
    live = new_product(usd_shop, name="Synth kit", price=12000, stock=None)
    url = reverse("dashboard:products", kwargs={"shop": usd_shop.slug})
    page = client.get(url).content.decode()
    assert "Prototype" in page and "Synth kit" in page
    assert "$99.00" in page and "unlimited" in page
    drafts = client.get(url, {"status": "draft"}).content.decode()
    assert draft.name in drafts and live.name not in drafts


def test_a_new_product_takes_its_price_in_major_units(client, usd_shop):
    response = client.post(
        reverse("dashboard:product_new", kwargs={"shop": usd_shop.slug}),
        {
            "name": "Patch cable",
            "slug": "",
            "kind": "physical",
            "status": "active",
            "description": "**Gold** plated",
            "price": "12.50",
            "stock": "",
            "sku": "",
            "variant_name": "",
        },
    )
    assert response.status_code == 302
    product = Product.objects.get(shop=usd_shop, name="Patch cable")
    variant = product.variants.get()
    assert variant.price == 1250
    assert variant.stock is None  # empty stock means unlimited
    assert "<strong>Gold</strong>" in product.description_html
    assert response["Location"] == edit_url(usd_shop, product)


def test_a_decimal_krw_price_is_refused_and_what_was_typed_is_kept(client, krw_shop):
    response = client.post(
        reverse("dashboard:product_new", kwargs={"shop": krw_shop.slug}),
        {
            "name": "달항아리 moon jar",
            "slug": "moon-jar",
            "kind": "physical",
            "status": "draft",
            "description": "Made by hand",
            "price": "15000.50",
            "stock": "3",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "KRW prices are whole numbers, without decimals" in page
    assert 'value="15000.50"' in page and 'value="달항아리 moon jar"' in page
    assert "Made by hand" in page
    assert not Product.objects.filter(shop=krw_shop).exists()


def test_editing_a_variant_with_a_krw_decimal_price_shows_the_error_beside_it(client, krw_shop):
    product = new_product(krw_shop, name="Tea bowl", price=15000, stock=4)
    variant = product.variants.get()
    response = client.post(
        edit_url(krw_shop, product, "variant_edit", variant_id=variant.pk),
        {
            f"v{variant.pk}-sku": "BOWL-1",
            f"v{variant.pk}-name": "Celadon",
            f"v{variant.pk}-price": "15000.5",
            f"v{variant.pk}-stock": "4",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "KRW prices are whole numbers" in page
    assert 'value="15000.5"' in page and 'value="Celadon"' in page
    variant.refresh_from_db()
    assert (variant.price, variant.name) == (15000, "")


def test_a_variant_edit_saves_price_and_stock(client, krw_shop):
    product = new_product(krw_shop, name="Tea bowl", price=15000, stock=4)
    variant = product.variants.get()
    page = client.get(edit_url(krw_shop, product)).content.decode()
    assert 'value="15000"' in page  # shown in major units
    response = client.post(
        edit_url(krw_shop, product, "variant_edit", variant_id=variant.pk),
        {
            f"v{variant.pk}-sku": "BOWL-1",
            f"v{variant.pk}-name": "",
            f"v{variant.pk}-price": "18,000",
            f"v{variant.pk}-stock": "",
            f"v{variant.pk}-stock_seen": form_value(page, f"v{variant.pk}-stock_seen"),
        },
    )
    assert response.status_code == 302
    variant.refresh_from_db()
    assert (variant.sku, variant.price, variant.stock) == ("BOWL-1", 18000, None)


def test_adding_a_variant_and_a_duplicate_sku_is_refused_beside_the_field(client, usd_shop):
    product = new_product(usd_shop, name="Pedal")
    existing = product.variants.get()
    url = edit_url(usd_shop, product, "variant_new")
    response = client.post(
        url, {"new-sku": existing.sku, "new-name": "Blue", "new-price": "30", "new-stock": "2"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Another variant already uses this SKU." in page
    assert 'value="Blue"' in page
    assert (
        client.post(
            url, {"new-sku": "PEDAL-BLUE", "new-name": "Blue", "new-price": "30", "new-stock": "2"}
        ).status_code
        == 302
    )
    blue = Variant.objects.get(shop=usd_shop, sku="PEDAL-BLUE")
    assert (blue.product_id, blue.price, blue.stock) == (product.pk, 3000, 2)


def test_product_details_are_saved_and_errors_keep_the_input(client, usd_shop):
    other = new_product(usd_shop, name="Other thing")
    product = new_product(usd_shop, name="Drone frame")
    url = edit_url(usd_shop, product)
    fields = {
        "name": "Drone frame v2",
        "slug": other.slug,
        "kind": "made_to_order",
        "status": "archived",
        "description": "New",
    }
    response = client.post(url, fields)
    assert response.status_code == 400
    page = response.content.decode()
    assert "already" in page  # another product has this address
    assert 'value="Drone frame v2"' in page
    product.refresh_from_db()
    assert product.name == "Drone frame"
    response = client.post(url, {**fields, "slug": "drone-frame-v2"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.slug, product.kind, product.status) == (
        "Drone frame v2",
        "drone-frame-v2",
        "made_to_order",
        "archived",
    )


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_uploading_an_image_and_refusing_a_file_that_is_not_one(
    client, usd_shop, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    product = new_product(usd_shop, name="Drone")
    url = edit_url(usd_shop, product, "product_image_add")
    fake = SimpleUploadedFile("photo.png", b"not really a picture", content_type="image/png")
    response = client.post(url, {"image": fake, "alt": "Front"})
    assert response.status_code == 400
    assert "This file is not an image we can read." in response.content.decode()
    real = SimpleUploadedFile("photo.png", _png(), content_type="image/png")
    assert client.post(url, {"image": real, "alt": "Front"}).status_code == 302
    image = ProductImage.objects.get(product=product)
    assert (image.width, image.height, image.alt) == (8, 6, "Front")
    assert image.image.url in client.get(edit_url(usd_shop, product)).content.decode()


@pytest.mark.parametrize("products", [2, 20])
def test_the_list_runs_the_same_number_of_queries_whatever_its_length(
    client, usd_shop, products, django_assert_max_num_queries
):
    for n in range(products):
        product = new_product(usd_shop, name=f"Product {n}")
        variant_create(shop=usd_shop, product=product, sku=f"extra-{n}", name="L", price=100)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("dashboard:products", kwargs={"shop": usd_shop.slug}))
    assert response.content.decode().count("dashboard/garage-synths/products/") >= products


def _input_value(html: str, name: str) -> str:
    """Return the value of the input ``name`` in ``html`` ("" when it has none)."""
    match = re.search(rf'<input [^>]*name="{name}"[^>]*>', html)
    assert match, f"no input {name!r}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def _variant_post(page: str, variant, **typed) -> dict[str, str]:
    """Return the variant's form as the page showed it, with ``typed`` fields changed."""
    prefix = f"v{variant.pk}"
    names = ("sku", "name", "price", "stock", "stock_seen")
    data = {f"{prefix}-{name}": _input_value(page, f"{prefix}-{name}") for name in names}
    data.update({f"{prefix}-{name}": value for name, value in typed.items()})
    return data


def test_a_price_edit_does_not_give_back_stock_sold_meanwhile(client, krw_shop):
    # Given staff who opened the variant while 4 were in stock
    product = new_product(krw_shop, name="Tea bowl", price=15000, stock=4)
    variant = product.variants.get()
    page = client.get(edit_url(krw_shop, product)).content.decode()
    # When an order takes 3 before they save a new price
    stock_take(shop=krw_shop, items=[(variant.pk, 3)])
    response = client.post(
        edit_url(krw_shop, product, "variant_edit", variant_id=variant.pk),
        _variant_post(page, variant, price="18000"),
    )

    # Then the price is saved and the stock stays what the order left
    assert response.status_code == 302
    variant.refresh_from_db()
    assert (variant.price, variant.stock) == (18000, 1)


def test_a_stock_edit_over_stock_sold_meanwhile_is_refused_and_shows_the_new_figure(
    client, krw_shop
):
    # Given staff who opened the variant while 4 were in stock and type 10
    product = new_product(krw_shop, name="Tea bowl", price=15000, stock=4)
    variant = product.variants.get()
    page = client.get(edit_url(krw_shop, product)).content.decode()
    stock_take(shop=krw_shop, items=[(variant.pk, 3)])
    url = edit_url(krw_shop, product, "variant_edit", variant_id=variant.pk)

    response = client.post(url, _variant_post(page, variant, stock="10", price="18000"))

    # Then nothing is saved, the message names the new stock, and what was typed stays
    assert response.status_code == 400
    page = response.content.decode()
    assert "Stock changed to 1 while you were editing" in page
    assert _input_value(page, f"v{variant.pk}-stock") == "10"
    variant.refresh_from_db()
    assert (variant.price, variant.stock) == (15000, 1)
    # And saving again, knowingly, applies it
    assert client.post(url, _variant_post(page, variant)).status_code == 302
    variant.refresh_from_db()
    assert (variant.price, variant.stock) == (18000, 10)
