"""The hot reads and inserts of a purchase (the cart with its lines, an order's lines, the payment
a callback names; the order, its event and payment) are compiled once per process and then run
with new values: what they return and store must be what the ORM's queryset and ``save()``
return and store, in the same number of queries, for the right shop only."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext

from kinfolk.core import clock
from kinfolk.core.prepared import PreparedQuery, insert, update
from kinfolk.orders.models import Cart, CartLine, Order, OrderEvent
from kinfolk.orders.selectors import cart_lines, cart_with_lines, order_lines_for

pytestmark = pytest.mark.django_db


def _orm_lines(cart: Cart) -> list[CartLine]:
    return list(
        CartLine.objects.filter(cart=cart).select_related("variant__product").order_by("id")
    )


def test_the_cart_is_read_the_same_the_second_time_in_one_query(
    shop, product, make_product, fill_cart, django_assert_num_queries
):
    poster = make_product(shop, name="Poster", price=9000, stock=None).variants.get()
    cart = fill_cart(shop, (product.variants.get(), 2), (poster, 1))
    cart_with_lines(shop=shop, token=cart.token, images=False)  # compiled here

    with django_assert_num_queries(1):
        found, lines = cart_with_lines(shop=shop, token=cart.token, images=False)
        seen = [(line.cart.pk, line.variant.product.name, line.quantity) for line in lines]

    assert found == cart
    assert [line.pk for line in lines] == [line.pk for line in _orm_lines(cart)]
    assert seen == [(cart.pk, product.name, 2), (cart.pk, "Poster", 1)]
    assert lines[0].variant.price == product.variants.get().price
    assert lines[0].cart.created_at == Cart.objects.get(pk=cart.pk).created_at  # aware datetime


def test_images_come_with_the_lines_in_one_more_query(
    shop, product, fill_cart, django_assert_num_queries
):
    cart = fill_cart(shop, (product.variants.get(), 1))
    cart_lines(shop=shop, cart=cart)

    with django_assert_num_queries(2):
        lines = cart_lines(shop=shop, cart=cart)
        images = list(lines[0].variant.product.images.all())

    assert images == list(product.images.order_by("position", "id"))


def test_another_shop_s_token_finds_no_cart(shop, product, make_shop, fill_cart):
    cart = fill_cart(shop, (product.variants.get(), 1))
    other = make_shop(slug="other-shop")
    cart_with_lines(shop=shop, token=cart.token)

    assert cart_with_lines(shop=other, token=cart.token) == (None, [])
    assert cart_lines(shop=other, cart=cart) == []


def test_a_one_to_one_relation_read_with_the_lines_is_known_without_a_query(
    shop, product, fill_cart, django_assert_num_queries
):
    cart = fill_cart(shop, (product.variants.get(), 1))
    related = ("variant__edition",)
    cart_with_lines(shop=shop, token=cart.token, images=False, related=related)

    with django_assert_num_queries(1):
        _cart, lines = cart_with_lines(shop=shop, token=cart.token, images=False, related=related)
        assert getattr(lines[0].variant, "edition", None) is None


def test_an_order_s_lines_are_read_with_their_products(shop, product, buy):
    placed = buy(shop, (product.variants.get(), 2))
    order_lines_for(order_id=placed.order.pk, event="paid")

    with CaptureQueriesContext(connection) as queries:
        lines = order_lines_for(order_id=placed.order.pk, event="paid")
        names = [line.variant.product.name for line in lines]

    assert len(queries) == 1
    assert names == [product.name]
    assert [line.pk for line in lines] == [line.pk for line in placed.order.lines.all()]


def test_a_value_the_orm_would_turn_into_other_sql_is_never_reused(shop, make_user):
    fan = make_user()
    mine = Cart.objects.create(shop=shop, account=fan)
    nobody_s = Cart.objects.create(shop=shop)
    read = PreparedQuery(lambda account_id: Cart.objects.filter(account_id=account_id))

    assert read.objects(fan.pk) == [mine]
    # None is IS NULL to the ORM, never "= NULL": the queryset runs as it is.
    assert read.objects(None) == [nobody_s]
    assert read.objects(fan.pk) == [mine]


def test_a_queryset_with_other_parameters_runs_as_a_queryset(shop, make_shop):
    other = make_shop(slug="other-shop")
    Cart.objects.create(shop=shop)
    # The shop's id is a parameter the values do not name: nothing is kept.
    read = PreparedQuery(lambda _unused: Cart.objects.filter(shop_id=other.pk))

    assert read.objects(shop.pk) == []
    assert read._compiled is None


def _order(shop, customer, **fields) -> Order:
    values = {
        "shop": shop,
        "number": "A1B2C3D4",
        "customer": customer,
        "email": customer.email,
        "currency": shop.currency,
        "subtotal": 35000,
        "shipping": 3000,
        "total": 38000,
        "shipping_address": {"name": "김민지", "city": "중구", "country_code": "KR"},
        "shipping_country": "KR",
        "payment_provider": "testpay",
        "idempotency_key": "k" * 32,
        "placed_at": clock.now(),
    }
    return Order(**{**values, **fields})


def test_an_inserted_order_is_stored_as_save_stores_it(shop, product, buy):
    customer = buy(shop, (product.variants.get(), 1)).order.customer
    insert(_order(shop, customer, number="WARM0001", idempotency_key="w" * 32))  # compiled

    order = insert(_order(shop, customer))

    assert order.pk and not order._state.adding and order._state.db == "default"
    stored = Order.objects.get(pk=order.pk)
    for field in Order._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(order, field.attname), field.name
    assert stored.access_token and stored.status == Order.Status.AWAITING_PAYMENT
    assert stored.shipping_address["name"] == "김민지"


def test_an_insert_the_database_refuses_raises_integrity_error(shop, product, buy):
    customer = buy(shop, (product.variants.get(), 1)).order.customer
    insert(_order(shop, customer))

    with pytest.raises(IntegrityError), transaction.atomic():
        insert(_order(shop, customer, idempotency_key="x" * 32))  # the same number again
    assert Order.objects.filter(shop=shop, number="A1B2C3D4").count() == 1


def test_a_value_that_is_an_expression_is_saved_the_ordinary_way(shop, product, buy):
    order = buy(shop, (product.variants.get(), 1)).order
    insert(OrderEvent(order=order, to_status="paid", created_at=clock.now()))

    event = insert(OrderEvent(order=order, to_status="paid", created_at=Now()))

    assert OrderEvent.objects.get(pk=event.pk).created_at is not None


def test_an_update_writes_only_the_fields_named(shop, product, buy):
    first = buy(shop, (product.variants.get(), 1)).order
    second = buy(shop, (product.variants.get(), 1), email="other@example.com").order
    paid_at = clock.now()
    first.status, first.paid_at, first.email = Order.Status.PAID, paid_at, "changed@example.com"
    update(first, ["status", "paid_at"])
    second.status, second.paid_at = Order.Status.PAID, paid_at

    with CaptureQueriesContext(connection) as queries:
        update(second, ["status", "paid_at"])

    assert len(queries) == 1 and queries[0]["sql"].startswith("UPDATE")
    stored = Order.objects.get(pk=first.pk)
    assert (stored.status, stored.paid_at, stored.email) == ("paid", paid_at, "fan@example.com")
    assert Order.objects.get(pk=second.pk).status == "paid"


def test_an_update_of_a_row_that_is_gone_raises_as_save_does(shop, product, buy):
    order = buy(shop, (product.variants.get(), 1)).order
    order.email = "first@example.com"
    update(order, ["email"])  # compiled
    gone = Order.objects.get(pk=order.pk)
    Order.objects.filter(pk=order.pk).delete()

    with pytest.raises(DatabaseError):
        update(gone, ["email"])


def test_an_update_to_none_is_written_as_null(shop, product, buy):
    order = buy(shop, (product.variants.get(), 1)).order
    order.paid_at = clock.now()
    update(order, ["paid_at"])

    order.paid_at = None
    update(order, ["paid_at"])

    assert Order.objects.get(pk=order.pk).paid_at is None
