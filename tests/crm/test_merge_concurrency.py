"""Merges of overlapping pairs running at once, each in its own thread and database connection
with real transactions, end consistent: no row lost, none left pointing at a merged record, no
deadlock, and a merge that came too late says so clearly."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from kinfolk.core.errors import Conflict
from kinfolk.crm.models import Customer, CustomerMerge, Interaction
from kinfolk.crm.services import interaction_record
from kinfolk.crm.services.merges import customer_merge
from kinfolk.orders.models import Order
from kinfolk.shops.models import Shop
from tests.crm.test_privacy import place

pytestmark = pytest.mark.django_db(transaction=True)


def _merge_at_once(shop_id: int, pairs: list[tuple[int, int]]) -> tuple[list, list]:
    """Run one merge per (source id, target id) pair, each in a thread, released together."""
    barrier = threading.Barrier(len(pairs))
    done, errors = [], []

    def merge(source_id: int, target_id: int) -> None:
        try:
            shop = Shop.objects.get(pk=shop_id)
            source = Customer.objects.get(pk=source_id)
            target = Customer.objects.get(pk=target_id)
            barrier.wait(timeout=10)
            done.append(customer_merge(shop=shop, source=source, target=target))
        except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=merge, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a merge never finished"
    return done, errors


@pytest.mark.parametrize(
    "pattern",
    [
        [(0, 1), (1, 2), (2, 0)],  # a ring: each record is the source of one merge, kept by another
        [(0, 1), (1, 0)],  # the same pair both ways
        [(0, 2), (1, 2)],  # two records into one
    ],
)
def test_merges_of_overlapping_pairs_at_once_end_consistent(shop, make_product, pattern):
    """Given three records, each with an order and a note, when merges of overlapping pairs
    run at the same moment, then every order and every note still exists and belongs to a
    record that exists, the records left are exactly those no successful merge removed, and
    every merge that failed did so with a clear Conflict."""
    variant = make_product(shop, price=1000, stock=100).variants.get()
    ids, notes = [], []
    for n in range(3):
        order = place(shop, variant, email=f"fan{n}@example.com", name=f"Fan Number{n}")
        ids.append(order.customer_id)
        notes.append(
            interaction_record(
                shop=shop,
                customer=order.customer,
                kind=Interaction.Kind.NOTE,
                data={"text": f"note {n}"},
            ).pk
        )
    orders = set(Order.objects.filter(shop=shop).values_list("pk", flat=True))

    done, errors = _merge_at_once(shop.pk, [(ids[a], ids[b]) for a, b in pattern])

    assert all(isinstance(error, Conflict) for error in errors), errors
    assert all(error.message for error in errors)
    assert len(done) + len(errors) == len(pattern) and done
    merged_away = {merge.merged_customer_id for merge in done}
    left = set(Customer.objects.filter(shop=shop).values_list("pk", flat=True))
    assert left == set(ids) - merged_away
    assert set(Order.objects.filter(shop=shop).values_list("pk", flat=True)) == orders
    assert set(Order.objects.filter(shop=shop).values_list("customer_id", flat=True)) <= left
    assert Interaction.objects.filter(pk__in=notes).count() == len(notes)
    assert set(Interaction.objects.filter(shop=shop).values_list("customer_id", flat=True)) <= left
    assert set(CustomerMerge.objects.filter(shop=shop).values_list("kept_id", flat=True)) <= left
