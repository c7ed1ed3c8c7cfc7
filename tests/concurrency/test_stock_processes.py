"""Stock is never oversold when many processes buy at once: each order takes stock with one
conditional write, and whoever comes too late gets a clear OutOfStock, never a database error."""

from __future__ import annotations

import multiprocessing
import queue
import random
from collections import Counter

import pytest
from django.db import connection

from kinfolk.catalog.models import Variant
from kinfolk.orders.models import Order, OrderLine, Payment
from kinfolk.orders.services.cart import cart_add, cart_get_or_create
from tests.concurrency.buyers import buy_all

PROCESSES = 6
pytestmark = pytest.mark.django_db(transaction=True)


def _run_buyers(shop, carts_per_process: list[list[str]]) -> list[str]:
    """Run one spawned process per list of cart tokens; return every buyer's outcome."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(carts_per_process))
    results = context.Queue()
    database_name = connection.settings_dict["NAME"]
    processes = [
        context.Process(target=buy_all, args=(database_name, shop.pk, tokens, barrier, results))
        for tokens in carts_per_process
    ]
    for process in processes:
        process.start()
    outcomes: list[str] = []
    try:
        for _ in processes:
            _pid, theirs = results.get(timeout=300)
            outcomes.extend(theirs)
    except queue.Empty:
        pytest.fail("a buyer process did not report within 300 s")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return outcomes


def _carts(shop, lines, count: int) -> list[str]:
    tokens = []
    for _ in range(count):
        cart = cart_get_or_create(shop=shop, token=None)
        # Lines in random order: stock must still be taken in one fixed order (no deadlock).
        for variant, quantity in random.sample(lines, len(lines)):
            cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=quantity)
        tokens.append(cart.token)
    return tokens


def _split(tokens: list[str], parts: int) -> list[list[str]]:
    return [tokens[i::parts] for i in range(parts)]


def _errors(outcomes: list[str]) -> list[str]:
    return [o for o in outcomes if not (o == "placed" or o.startswith("out_of_stock: "))]


def test_sixty_buyers_in_six_processes_share_twenty_items(shop, make_product):
    # Given 20 records and 60 fans with one in their cart, in six processes
    variant = make_product(shop, name="Numbered Edition", price=50000, stock=20).variants.get()
    tokens = _carts(shop, [(variant, 1)], PROCESSES * 10)

    # When they all check out at once
    outcomes = _run_buyers(shop, _split(tokens, PROCESSES))

    # Then exactly 20 orders exist, stock is 0, and the 40 others were told it sold out
    assert _errors(outcomes) == []
    counts = Counter(o if o == "placed" else "out_of_stock" for o in outcomes)
    assert counts == {"placed": 20, "out_of_stock": 40}
    assert {o for o in outcomes if o != "placed"} == {"out_of_stock: Numbered Edition is sold out."}
    assert Variant.objects.get(pk=variant.pk).stock == 0
    assert Order.objects.count() == 20 == Payment.objects.count()
    assert sum(OrderLine.objects.values_list("quantity", flat=True)) == 20


def test_carts_of_several_items_never_oversell_any_of_them(shop, make_product):
    # Given two products that every cart holds (2 + 1), enough for 7 orders at most
    vinyl = make_product(shop, name="Vinyl", price=30000, stock=15).variants.get()
    tee = make_product(shop, name="Tee", price=20000, stock=9).variants.get()
    tokens = _carts(shop, [(vinyl, 2), (tee, 1)], PROCESSES * 5)

    # When 30 buyers in six processes check out at once
    outcomes = _run_buyers(shop, _split(tokens, PROCESSES))

    # Then 7 orders are placed, nothing goes below zero and no order is half-taken
    assert _errors(outcomes) == []
    assert outcomes.count("placed") == 7 == Order.objects.count()
    assert Variant.objects.get(pk=vinyl.pk).stock == 1
    assert Variant.objects.get(pk=tee.pk).stock == 2
    for order in Order.objects.prefetch_related("lines"):
        assert sorted(line.quantity for line in order.lines.all()) == [1, 2]
