"""The cart takes only what the shop sells, in quantities the stock allows."""

import pytest

from kinfolk.catalog.services import product_update, variant_update
from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.orders.models import Cart, CartLine
from kinfolk.orders.selectors import cart_quote
from kinfolk.orders.services.cart import (
    cart_add,
    cart_clear,
    cart_get,
    cart_get_or_create,
    cart_new,
    cart_remove,
    cart_set_quantity,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cart(shop):
    return cart_get_or_create(shop=shop, token=None)


@pytest.fixture
def variant(product):
    return product.variants.get()


def _quantities(cart) -> dict[int, int]:
    return dict(CartLine.objects.filter(cart=cart).values_list("variant_id", "quantity"))


def test_a_cart_is_found_again_by_its_token_only_in_its_shop(shop, make_shop, cart):
    assert cart_get_or_create(shop=shop, token=cart.token) == cart
    assert cart_get(shop=make_shop(), token=cart.token) is None
    assert cart_get(shop=shop, token="") is None
    assert cart_get_or_create(shop=shop, token="unknown") != cart


def test_a_new_cart_is_stored_with_its_first_line_and_not_at_all_when_refused(shop, variant):
    cart = cart_new(shop=shop)
    with pytest.raises(InvalidInput):
        cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=6)  # 5 in stock
    assert not Cart.objects.filter(shop=shop).exists()

    line = cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=2)

    assert cart_get(shop=shop, token=cart.token) == cart
    assert _quantities(cart) == {variant.pk: 2} and line.cart_count == 2


def test_each_add_tells_how_many_items_the_whole_cart_holds(shop, cart, variant, make_product):
    poster = make_product(shop, name="Poster", price=9000, stock=None).variants.get()
    assert cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=2).cart_count == 2
    assert cart_add(shop=shop, cart=cart, variant_id=poster.pk, quantity=3).cart_count == 5
    assert cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=1).cart_count == 6


def test_adding_twice_adds_up(shop, cart, variant):
    cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=2)
    cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=1)
    assert _quantities(cart) == {variant.pk: 3}
    quote = cart_quote(shop=shop, cart=cart)
    assert quote.subtotal.amount == 3 * 35000 and quote.count == 3


def test_adding_more_than_the_stock_is_refused_and_the_cart_is_unchanged(shop, cart, variant):
    cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=4)
    with pytest.raises(InvalidInput) as info:
        cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=2)
    assert info.value.message == "Only 5 of Vinyl LP left."
    assert info.value.field == "quantity" and info.value.code == "out_of_stock"
    assert _quantities(cart) == {variant.pk: 4}


def test_a_sold_out_item_cannot_be_added(shop, cart, make_product):
    variant = make_product(shop, name="Lathe Cut", stock=0).variants.get()
    with pytest.raises(InvalidInput, match="Lathe Cut is sold out."):
        cart_add(shop=shop, cart=cart, variant_id=variant.pk)
    assert _quantities(cart) == {}


@pytest.mark.parametrize("quantity", [0, -1, -50])
def test_adding_zero_or_a_negative_quantity_is_refused(shop, cart, variant, quantity):
    cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=2)
    with pytest.raises(InvalidInput) as info:
        cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=quantity)
    assert info.value.field == "quantity"
    assert _quantities(cart) == {variant.pk: 2}


def test_there_is_a_ceiling_per_order_even_with_unlimited_stock(shop, cart, make_product):
    variant = make_product(shop, kind="made_to_order", stock=None).variants.get()
    cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=99)
    with pytest.raises(InvalidInput, match="At most 99"):
        cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=1)


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_a_product_not_on_sale_cannot_be_added(shop, cart, product, variant, status):
    product_update(shop=shop, product=product, status=status)
    with pytest.raises(NotFound):
        cart_add(shop=shop, cart=cart, variant_id=variant.pk)


def test_another_shop_s_variant_cannot_be_added(shop, cart, make_shop, make_product):
    foreign = make_product(make_shop(), name="Foreign Tee").variants.get()
    with pytest.raises(NotFound):
        cart_add(shop=shop, cart=cart, variant_id=foreign.pk)
    assert _quantities(cart) == {}


def test_a_cart_is_used_only_in_its_own_shop(make_shop, cart, variant):
    with pytest.raises(NotFound):
        cart_add(shop=make_shop(), cart=cart, variant_id=variant.pk)


def test_changing_a_quantity_respects_the_stock(shop, cart, variant):
    line = cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=1)
    cart_set_quantity(shop=shop, cart=cart, line_id=line.pk, quantity=5)
    assert _quantities(cart) == {variant.pk: 5}
    with pytest.raises(InvalidInput, match="Only 5"):
        cart_set_quantity(shop=shop, cart=cart, line_id=line.pk, quantity=6)
    with pytest.raises(InvalidInput, match="at least 1"):
        cart_set_quantity(shop=shop, cart=cart, line_id=line.pk, quantity=-2)
    assert _quantities(cart) == {variant.pk: 5}


def test_setting_zero_removes_the_line(shop, cart, variant):
    line = cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=1)
    assert cart_set_quantity(shop=shop, cart=cart, line_id=line.pk, quantity=0) is None
    assert _quantities(cart) == {}


def test_changing_a_line_of_another_cart_is_not_found(shop, cart, variant):
    other = cart_get_or_create(shop=shop, token=None)
    line = cart_add(shop=shop, cart=other, variant_id=variant.pk, quantity=1)
    with pytest.raises(NotFound):
        cart_set_quantity(shop=shop, cart=cart, line_id=line.pk, quantity=2)
    cart_remove(shop=shop, cart=cart, line_id=line.pk)
    assert _quantities(other) == {variant.pk: 1}


def test_removing_is_idempotent(shop, cart, variant):
    line = cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=1)
    cart_remove(shop=shop, cart=cart, line_id=line.pk)
    cart_remove(shop=shop, cart=cart, line_id=line.pk)
    assert _quantities(cart) == {}


def test_clearing_empties_the_cart(shop, cart, variant, make_product):
    cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=1)
    cart_add(shop=shop, cart=cart, variant_id=make_product(shop).variants.get().pk, quantity=1)
    cart_clear(shop=shop, cart=cart)
    assert _quantities(cart) == {}


def test_the_quote_flags_lines_the_catalogue_no_longer_backs(shop, cart, variant, product):
    cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=3)
    variant_update(shop=shop, variant=variant, sku=variant.sku, price=variant.price, stock=2)
    assert cart_quote(shop=shop, cart=cart).problems == ["Only 2 of Vinyl LP left."]
    product_update(shop=shop, product=product, status="archived")
    assert cart_quote(shop=shop, cart=cart).problems == ["Vinyl LP is no longer available."]


def test_the_quote_of_another_shop_s_cart_is_empty(make_shop, cart, shop, variant):
    cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=1)
    quote = cart_quote(shop=make_shop(), cart=cart)
    assert quote.lines == [] and quote.subtotal.amount == 0
