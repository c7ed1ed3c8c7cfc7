"""The platform's home, a shop's product grid and a product page, as a visitor sees them."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from kinfolk.catalog.services import product_image_add, product_update, variant_create

pytestmark = pytest.mark.django_db


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, "PNG")
    return SimpleUploadedFile("cover.png", buffer.getvalue(), content_type="image/png")


def test_home_lists_open_shops_only(client, make_shop):
    make_shop("open-one", name="Open Records")
    closed = make_shop("closed-one", name="Closed Records")
    closed.is_active = False
    closed.save()

    response = client.get(reverse("storefront:home"))

    assert response.status_code == 200
    assert "Open Records" in response.text
    assert "Closed Records" not in response.text


def test_shop_page_shows_active_products_with_from_price_and_sold_out_badge(
    client, shop, make_product
):
    shirt = make_product(shop, name="Tour shirt", price=25000, stock=3)
    variant_create(shop=shop, product=shirt, sku="shirt-xl", name="XL", price=28000, stock=1)
    make_product(shop, name="Old poster", price=9000, stock=0)
    make_product(shop, name="Secret demo", price=1000, status="draft")

    response = client.get(reverse("storefront:shop", args=[shop.slug]))

    assert response.status_code == 200
    assert "Tour shirt" in response.text
    assert "from ₩25,000" in response.text
    assert "Old poster" in response.text and "Sold out" in response.text
    assert "Secret demo" not in response.text


def test_shop_page_queries_do_not_grow_with_products(
    client, shop, make_product, add_to_cart, django_assert_max_num_queries
):
    first = make_product(shop, stock=5)
    add_to_cart(shop, first.variants.get())
    for _ in range(2):
        make_product(shop)
    with django_assert_max_num_queries(6) as few:
        client.get(reverse("storefront:shop", args=[shop.slug]))
    for _ in range(12):
        product = make_product(shop)
        product_image_add(shop=shop, product=product, upload=_png())
        variant_create(shop=shop, product=product, sku=f"{product.slug}-b", price=1, stock=1)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("storefront:shop", args=[shop.slug]))
    assert response.text.count('class="product-card"') == 15


def test_unknown_or_closed_shop_is_a_friendly_404(client, shop):
    assert client.get("/no-such-shop/").status_code == 404
    shop.is_active = False
    shop.save()

    response = client.get(reverse("storefront:shop", args=[shop.slug]))

    assert response.status_code == 404
    assert "find that page" in response.text
    assert 'href="/"' in response.text


def test_product_page_shows_sanitised_description_and_open_graph_tags(client, shop, make_product):
    product = make_product(
        shop, name="Night Drive LP", price=35000, description="Pressed on **blue** vinyl."
    )
    product_update(
        shop=shop, product=product, description="Pressed on **blue** vinyl.<script>x()</script>"
    )
    product_image_add(shop=shop, product=product, upload=_png(), alt="The sleeve")

    response = client.get(reverse("storefront:product", args=[shop.slug, product.slug]))

    html = response.text
    assert response.status_code == 200
    assert "<strong>blue</strong>" in html
    assert "<script>x()" not in html
    assert '<meta property="og:type" content="product">' in html
    assert '<meta property="og:title" content="Night Drive LP · ' in html
    assert '<meta property="product:price:amount" content="35000">' in html
    assert '<meta property="product:price:currency" content="KRW">' in html
    assert '<meta property="og:image" content="http://testserver/media/products/' in html
    assert (
        f'<meta property="og:url" content="http://testserver/{shop.slug}/p/{product.slug}/">'
        in html
    )
    assert '<meta name="twitter:card" content="summary_large_image">' in html


def test_product_price_is_formatted_in_the_viewers_language(client, make_shop, make_product):
    shop = make_shop("usd-shop", currency="USD", time_zone="America/New_York", country="US")
    product = make_product(shop, name="Zine", price=1250)
    url = reverse("storefront:product", args=[shop.slug, product.slug])

    assert "$12.50" in client.get(url).text
    assert "US$12.50" in client.get(url, HTTP_ACCEPT_LANGUAGE="ko").text
    assert '<meta property="product:price:amount" content="12.50">' in client.get(url).text


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_a_product_not_on_sale_is_404(client, shop, make_product, status):
    product = make_product(shop, status=status)

    response = client.get(reverse("storefront:product", args=[shop.slug, product.slug]))

    assert response.status_code == 404


def test_unknown_product_is_404(client, shop):
    assert client.get(reverse("storefront:product", args=[shop.slug, "nope"])).status_code == 404


def test_a_product_with_a_korean_name_opens(client, shop, make_product):
    product = make_product(shop, name="달항아리 머그")

    response = client.get(reverse("storefront:product", args=[shop.slug, product.slug]))

    assert response.status_code == 200
    assert "달항아리 머그" in response.text


def test_header_has_cart_account_and_language_switch(client, shop, product, add_to_cart):
    add_to_cart(shop, product.variants.get(), 2)

    html = client.get(reverse("storefront:product", args=[shop.slug, product.slug])).text

    assert 'id="cart-link"' in html and '<span class="badge" aria-hidden="true">2</span>' in html
    assert reverse("accounts:login") in html
    assert 'action="/i18n/setlang/"' in html
    assert f'name="next" value="/{shop.slug}/p/{product.slug}/"' in html
    assert "한국어" in html


def test_the_500_page_renders_without_the_database(rf, django_assert_num_queries):
    from kinfolk.core.views import server_error

    with django_assert_num_queries(0):
        response = server_error(rf.get("/"))

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
