"""A whole purchase costs a fixed, small number of statements, and its write transactions hold
few: on SQLite each transaction holds the whole database's one write lock, so every statement
in it is time every other buyer waits (benchmarks/storefront.py measures the rush).

These tests run with real transactions (not the test's own), so that BEGIN and COMMIT show.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kinfolk.orders.models import Order
from kinfolk.shops.selectors import forget_open_shops, forget_shipping_zones

pytestmark = pytest.mark.django_db(transaction=True)

# Statements a step may take at most, and at most inside its write transactions (BEGIN and
# COMMIT included). Lower them when a change saves one; never raise them without a reason.
ADD_NEW_CART = (5, 4)  # variant; BEGIN, cart, line, COMMIT
ADD_TO_CART = (7, 5)  # variant, cart; BEGIN, cart's row, lines, line, COMMIT
CHECKOUT_PAGE = (1, 0)  # the cart with its lines
PLACE_ORDER = (19, 13)  # see test_placing_an_order
CALLBACK = (12, 9)  # see test_the_payment_callback


def _row_locks() -> int:
    """Return the statements a database with row locks adds to a transaction (PostgreSQL locks
    the cart, or the order before the payment; SQLite's transactions hold the whole database)."""
    return 1 if connection.features.has_select_for_update else 0


def _writes(queries: list[dict]) -> list[list[str]]:
    """Return the statements of each transaction, BEGIN to COMMIT."""
    transactions, current = [], None
    for query in queries:
        sql = query["sql"]
        if sql.startswith("BEGIN"):
            current = [sql]
        elif current is not None:
            current.append(sql)
            if sql == "COMMIT":
                transactions.append(current)
                current = None
    return transactions


def _step(call) -> tuple[object, list[dict]]:
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, captured.captured_queries


def _check(queries: list[dict], limits: tuple[int, int]) -> None:
    total, in_transactions = limits
    statements = [q["sql"] for q in queries]
    assert len(statements) <= total, "\n".join(statements)
    longest = max((len(t) for t in _writes(queries)), default=0)
    assert longest <= in_transactions, "\n".join(statements)


@pytest.fixture(autouse=True)
def _cold_caches():
    # Each process keeps open shops and shipping zones a few seconds: a test starts without.
    forget_open_shops()
    forget_shipping_zones()


@pytest.fixture
def warm(client, shop):
    """Visit the shop once so that its per-process caches (shop, zones) are warm, as in a rush."""
    client.get(reverse("storefront:cart", args=[shop.slug]))
    return client


def test_adding_to_a_new_cart_is_one_short_transaction(warm, shop, product, add_to_cart):
    variant = product.variants.get()

    response, queries = _step(lambda: add_to_cart(shop, variant, 1))

    assert response.status_code == 303
    _check(queries, ADD_NEW_CART)


def test_adding_to_a_cart_counts_it_without_a_query_of_its_own(
    warm, shop, product, make_product, add_to_cart
):
    add_to_cart(shop, product.variants.get(), 1)
    poster = make_product(shop, name="Poster", price=9000, stock=None).variants.get()

    response, queries = _step(lambda: add_to_cart(shop, poster, 2))

    assert response.status_code == 303
    _check(queries, ADD_TO_CART)
    assert not [q for q in queries if "SUM(" in q["sql"]]
    assert warm.session["cart_counts"][str(shop.pk)][1] == 3


def test_the_checkout_page_reads_the_cart_once(warm, shop, product, add_to_cart):
    add_to_cart(shop, product.variants.get(), 1)
    warm.get(reverse("storefront:checkout", args=[shop.slug]))  # zones and fragments warm

    response, queries = _step(lambda: warm.get(reverse("storefront:checkout", args=[shop.slug])))

    assert response.status_code == 200
    _check(queries, CHECKOUT_PAGE)


def test_placing_an_order(warm, shop, product, add_to_cart, checkout_form):
    add_to_cart(shop, product.variants.get(), 1)
    data = checkout_form(shop, email="first-time@example.com")

    response, queries = _step(
        lambda: warm.post(reverse("storefront:checkout", args=[shop.slug]), data)
    )

    assert response.status_code == 303
    # Before: the cart with its lines, the customer. The order's transaction: the cart's lines
    # again, the customer (a savepoint around it), the order, its lines, the stock, its event,
    # its payment, the fan's timeline, the emptied cart. After: the processor's charge and the
    # payment's reference, in one transaction of their own (the test processor needs no network).
    _check(queries, (PLACE_ORDER[0] + _row_locks(), PLACE_ORDER[1] + _row_locks()))
    order_transaction = _writes(queries)[0]
    assert not [sql for sql in order_transaction if "crm_customer" in sql and "SELECT" in sql]


def test_the_payment_callback(warm, shop, product, add_to_cart, checkout_form, deliver_callback):
    add_to_cart(shop, product.variants.get(), 1)
    warm.post(reverse("storefront:checkout", args=[shop.slug]), checkout_form(shop))
    order = Order.objects.get(shop=shop)

    outcome, queries = _step(lambda: deliver_callback(order, approved=True))

    assert outcome == "approved"
    # Before: the payment, the order's lines with what the paid handlers read of them. The
    # transaction: the payment with its order, the status event, the order, the payment, the
    # referral check, the timeline, the callback itself.
    _check(queries, (CALLBACK[0] + _row_locks(), CALLBACK[1] + _row_locks()))
    paid = _writes(queries)[0]
    assert not [sql for sql in paid if "orders_orderline" in sql]
    assert not [sql for sql in paid if "SAVEPOINT" in sql]
