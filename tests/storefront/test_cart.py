"""Adding to the cart from a product page and changing it on the cart page, with and without
htmx; every bad input is a message beside the field, never a server error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kinfolk.catalog.models import Product
from kinfolk.orders.models import CartLine
from kinfolk.storefront.cart_session import SESSION_KEY
from tests.storefront.conftest import HTMX

pytestmark = pytest.mark.django_db


def _lines(shop):
    return list(CartLine.objects.filter(cart__shop=shop).values_list("variant_id", "quantity"))


def test_adding_without_javascript_redirects_to_the_cart(client, shop, product, add_to_cart):
    variant = product.variants.get()

    response = add_to_cart(shop, variant, 2)

    assert response.status_code == 303
    assert response["Location"] == reverse("storefront:cart", args=[shop.slug])
    assert str(shop.pk) in client.session[SESSION_KEY]
    page = client.get(response["Location"])
    assert "Vinyl LP" in page.text and "₩70,000" in page.text


def test_adding_with_htmx_answers_the_form_and_the_new_cart_badge(shop, product, add_to_cart):
    response = add_to_cart(shop, product.variants.get(), 2, **HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Added 2 to your cart." in response.text
    assert 'id="cart-link"' in response.text and 'hx-swap-oob="true"' in response.text
    assert '<span class="badge" aria-hidden="true">2</span>' in response.text


def test_adding_more_than_in_stock_says_how_many_are_left(shop, product, add_to_cart):
    add_to_cart(shop, product.variants.get(), 4)

    response = add_to_cart(shop, product.variants.get(), 2, **HTMX)

    assert "Only 5 of Vinyl LP left." in response.text
    assert 'id="quantity-error"' in response.text
    assert 'value="2"' in response.text
    assert _lines(shop) == [(product.variants.get().pk, 4)]


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("two", "Enter a whole number"),
        ("", "Enter a whole number"),
        ("1.5", "Enter a whole number"),
        ("-3", "at least 1"),
        ("0", "at least 1"),
        ("99999999999999999999999999", "At most 99"),
    ],
)
def test_bad_quantities_are_refused_beside_the_field(
    client, shop, product, quantity, message, add_to_cart
):
    response = add_to_cart(shop, product.variants.get(), quantity)

    assert response.status_code == 400
    assert message in response.text
    assert f'value="{quantity}"' in response.text
    assert _lines(shop) == []


@pytest.mark.parametrize("variant", ["", "abc", "999999", "99999999999999999999999", "-1"])
def test_unknown_variants_are_refused(client, shop, product, variant):
    response = client.post(
        reverse("storefront:cart-add", args=[shop.slug]),
        {"product": product.slug, "variant": variant, "quantity": "1"},
    )

    assert response.status_code == 400
    assert "Choose one of the options." in response.text
    assert _lines(shop) == []


def test_another_shops_variant_cannot_be_added(client, shop, product, make_shop, make_product):
    other = make_product(make_shop("elsewhere"), name="Foreign thing")

    response = client.post(
        reverse("storefront:cart-add", args=[shop.slug]),
        {"product": product.slug, "variant": other.variants.get().pk, "quantity": "1"},
    )

    assert response.status_code == 400
    assert _lines(shop) == [] and not CartLine.objects.exists()


def test_only_a_variant_of_the_product_on_the_page_and_on_sale_can_be_added(
    client, shop, product, make_product, add_to_cart
):
    add_to_cart(shop, product.variants.get(), 1)  # the read is warm: reused from here on
    poster = make_product(shop, name="Poster", price=9000).variants.get()
    url = reverse("storefront:cart-add", args=[shop.slug])

    # Another product's variant, named with this product's page.
    response = client.post(url, {"product": product.slug, "variant": poster.pk, "quantity": "1"})
    assert response.status_code == 400
    Product.objects.filter(pk=poster.product_id).update(status=Product.Status.ARCHIVED)
    archived = {"product": poster.product.slug, "variant": poster.pk, "quantity": "1"}
    assert client.post(url, archived).status_code == 404
    assert [line.variant_id for line in CartLine.objects.all()] == [product.variants.get().pk]


def test_adding_with_missing_fields_or_unknown_product(client, shop, product):
    url = reverse("storefront:cart-add", args=[shop.slug])

    assert client.post(url, {}).status_code == 404
    assert client.post(url, {"product": product.slug}).status_code == 400
    assert client.get(url).status_code == 405


def test_changing_a_quantity_with_htmx_updates_line_and_totals(client, shop, product, add_to_cart):
    add_to_cart(shop, product.variants.get(), 1)
    line = CartLine.objects.get()

    response = client.post(
        reverse("storefront:cart-line", args=[shop.slug, line.pk]), {"quantity": "3"}, **HTMX
    )

    assert response.status_code == 200
    assert f'id="line-{line.pk}"' in response.text
    assert "₩105,000" in response.text  # the line and the subtotal
    assert 'id="cart-summary"' in response.text and "Subtotal (3 items)" in response.text
    assert _lines(shop) == [(product.variants.get().pk, 3)]


def test_more_than_in_stock_is_shown_beside_the_line_with_the_typed_value(
    client, shop, product, add_to_cart
):
    add_to_cart(shop, product.variants.get(), 1)
    line = CartLine.objects.get()

    response = client.post(
        reverse("storefront:cart-line", args=[shop.slug, line.pk]), {"quantity": "8"}, **HTMX
    )

    assert "Only 5 of Vinyl LP left." in response.text
    assert f'id="line-{line.pk}-error"' in response.text
    assert 'value="8"' in response.text
    assert _lines(shop) == [(product.variants.get().pk, 1)]


@pytest.mark.parametrize("typed", ["lots", "-2", "", "1e3"])
def test_a_bad_quantity_on_the_cart_page_without_javascript(
    client, shop, product, add_to_cart, typed
):
    add_to_cart(shop, product.variants.get(), 1)
    line = CartLine.objects.get()

    response = client.post(
        reverse("storefront:cart-line", args=[shop.slug, line.pk]), {"quantity": typed}
    )

    assert response.status_code == 400
    assert "<html" in response.text and 'class="field-error cart-line-error"' in response.text
    assert f'value="{typed}"' in response.text


def test_zero_or_remove_takes_the_line_out(client, shop, product, make_product, add_to_cart):
    add_to_cart(shop, product.variants.get(), 1)
    other = make_product(shop, name="Poster", price=5000)
    add_to_cart(shop, other.variants.get(), 1)
    first, second = CartLine.objects.order_by("id")

    zero = client.post(
        reverse("storefront:cart-line", args=[shop.slug, first.pk]), {"quantity": "0"}, **HTMX
    )
    removed = client.post(
        reverse("storefront:cart-line-remove", args=[shop.slug, second.pk]), **HTMX
    )

    assert f'id="line-{first.pk}"' not in zero.text and "Subtotal (1 item)" in zero.text
    assert "Your cart is empty." in removed.text
    assert _lines(shop) == []


def test_changing_a_line_of_someone_elses_cart_changes_nothing(
    client, shop, product, add_to_cart, django_user_model
):
    add_to_cart(shop, product.variants.get(), 1)
    line = CartLine.objects.get()
    client.cookies.clear()  # another visitor

    update = client.post(
        reverse("storefront:cart-line", args=[shop.slug, line.pk]), {"quantity": "3"}
    )
    remove = client.post(reverse("storefront:cart-line-remove", args=[shop.slug, line.pk]))

    assert update.status_code == 303 and remove.status_code == 303
    assert _lines(shop) == [(product.variants.get().pk, 1)]


def test_huge_line_ids_are_not_found(client, shop):
    response = client.post(f"/{shop.slug}/cart/lines/{'9' * 30}/", {"quantity": "1"})

    assert response.status_code == 404


def test_cart_page_flags_lines_that_sold_out_meanwhile(client, shop, product, add_to_cart):
    from kinfolk.catalog.services import variant_update

    variant = product.variants.get()
    add_to_cart(shop, variant, 3)
    variant_update(shop=shop, variant=variant, sku=variant.sku, price=variant.price, stock=1)

    response = client.get(reverse("storefront:cart", args=[shop.slug]))

    assert "Only 1 of Vinyl LP left." in response.text
    assert reverse("storefront:checkout", args=[shop.slug]) not in response.text
