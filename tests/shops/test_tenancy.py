"""Selectors take the shop first and never hand one shop's rows to another."""

import pytest
from django.contrib.auth.models import AnonymousUser

from kinfolk.catalog.selectors import (
    product_get_active,
    product_get_for_staff,
    products_active,
    products_for_staff,
    variant_get_buyable,
)
from kinfolk.core.errors import NotFound
from kinfolk.orders.selectors import (
    order_get_for_fan,
    order_get_for_shop,
    orders_for_account,
    orders_for_shop,
)
from kinfolk.shops.selectors import access_shop, shops_for_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def north(buy_in):
    return buy_in("north")


@pytest.fixture
def south(buy_in):
    return buy_in("south")


@pytest.fixture
def buy_in(make_shop, make_product, kr_address):
    from kinfolk.orders.services.cart import cart_add, cart_get_or_create
    from kinfolk.orders.services.checkout import order_place

    def make(slug):
        shop = make_shop(slug)
        product = make_product(shop, name="Shared Name")
        cart = cart_get_or_create(shop=shop, token=None)
        cart_add(shop=shop, cart=cart, variant_id=product.variants.get().pk)
        order = order_place(
            shop=shop,
            cart=cart,
            email="fan@example.com",
            address=kr_address,
            payment_provider="manual",
            idempotency_key=f"{slug}-1",
            return_url_for=lambda order: "http://127.0.0.1/",
        ).order
        return shop, product, order

    return make


def test_a_shop_s_order_lookup_never_finds_another_shop_s_order(north, south):
    (north_shop, _, north_order), (south_shop, _, _south_order) = north, south
    assert order_get_for_shop(shop=north_shop, number=north_order.number) == north_order
    with pytest.raises(NotFound):
        order_get_for_shop(shop=south_shop, number=north_order.number)
    assert list(orders_for_shop(shop=north_shop)) == [north_order]


def test_the_same_order_number_in_two_shops_stays_apart(north, south):
    (north_shop, _, north_order), (south_shop, _, south_order) = north, south
    from kinfolk.orders.models import Order

    Order.objects.filter(pk=south_order.pk).update(number=north_order.number)
    assert order_get_for_shop(shop=north_shop, number=north_order.number).pk == north_order.pk
    assert order_get_for_shop(shop=south_shop, number=north_order.number).pk == south_order.pk


def test_a_fan_sees_an_order_with_its_token_and_not_otherwise(north, south):
    (north_shop, _, order), (south_shop, _, _) = north, south
    assert (
        order_get_for_fan(shop=north_shop, number=order.number, token=order.access_token) == order
    )
    for token in ("", "wrong", order.access_token[:-1], order.access_token + "x"):
        with pytest.raises(NotFound):
            order_get_for_fan(shop=north_shop, number=order.number, token=token)
    with pytest.raises(NotFound):
        order_get_for_fan(shop=south_shop, number=order.number, token=order.access_token)


def test_a_fan_sees_their_own_orders_by_account(make_user, shop, product, buy_as):
    fan, stranger = make_user("fan@example.com"), make_user("stranger@example.com")
    order = buy_as(shop, product, fan)
    assert order_get_for_fan(shop=shop, number=order.number, account=fan) == order
    with pytest.raises(NotFound):
        order_get_for_fan(shop=shop, number=order.number, account=stranger)
    assert list(orders_for_account(account=fan)) == [order]
    assert list(orders_for_account(account=stranger)) == []


@pytest.fixture
def buy_as(kr_address):
    from kinfolk.orders.services.cart import cart_add, cart_get_or_create
    from kinfolk.orders.services.checkout import order_place

    def buy(shop, product, account):
        cart = cart_get_or_create(shop=shop, token=None)
        cart_add(shop=shop, cart=cart, variant_id=product.variants.get().pk)
        return order_place(
            shop=shop,
            cart=cart,
            email=account.email,
            address=kr_address,
            payment_provider="manual",
            idempotency_key="as-1",
            account=account,
            return_url_for=lambda order: "http://127.0.0.1/",
        ).order

    return buy


def test_staff_product_lookups_stay_in_their_shop(north, south):
    (north_shop, north_product, _), (_south_shop, south_product, _) = north, south
    assert product_get_for_staff(shop=north_shop, product_id=north_product.pk) == north_product
    with pytest.raises(NotFound):
        product_get_for_staff(shop=north_shop, product_id=south_product.pk)
    assert list(products_for_staff(shop=north_shop)) == [north_product]


def test_storefront_product_lookups_stay_in_their_shop(north, south):
    (north_shop, north_product, _), (_, south_product, _) = north, south
    assert product_get_active(shop=north_shop, slug="shared-name") == north_product
    assert list(products_active(shop=north_shop)) == [north_product]
    with pytest.raises(NotFound):
        variant_get_buyable(shop=north_shop, variant_id=south_product.variants.get().pk)


def test_staff_reach_only_the_shops_they_belong_to(north, south, make_user):
    (north_shop, _, _), (_south_shop, _, _) = north, south
    owner = north_shop.memberships.get().user
    assert access_shop(user=owner, slug="north") == north_shop
    with pytest.raises(NotFound):
        access_shop(user=owner, slug="south")
    with pytest.raises(NotFound):
        access_shop(user=owner, slug="nowhere")
    assert list(shops_for_staff(user=owner)) == [north_shop]
    assert list(shops_for_staff(user=make_user())) == []
    with pytest.raises(NotFound):
        access_shop(user=AnonymousUser(), slug="north")
    assert list(shops_for_staff(user=AnonymousUser())) == []
