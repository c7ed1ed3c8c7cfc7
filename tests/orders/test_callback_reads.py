"""A payment callback reads the payment, its order and the order's lines before its write
transaction, so that the transaction holds only the writes; inside, that read serves only while
what it decides on is unchanged, and anything changed meanwhile is read again."""

from __future__ import annotations

import pytest
from django.db import transaction

from kinfolk.crm.models import Interaction
from kinfolk.orders.models import Order, Payment
from kinfolk.orders.selectors import order_lines_kept
from kinfolk.orders.services.lifecycle import order_cancel
from kinfolk.orders.services.payments import _lock

pytestmark = pytest.mark.django_db


def _read_before(payment: Payment) -> Payment:
    # As the callback reads it before its transaction.
    return Payment.objects.select_related("shop", "order__customer").get(pk=payment.pk)


def test_an_order_cancelled_after_the_read_is_seen_cancelled(shop, product, buy):
    placed = buy(shop, (product.variants.get(), 1))
    stale = _read_before(placed.payment)
    # Meanwhile, the shop cancels the order (and so declines its payment).
    order_cancel(shop=shop, order=placed.order, reason="Out of print")

    with transaction.atomic():
        order, payment = _lock(stale, None)

    assert (order.status, payment.status) == (Order.Status.CANCELLED, Payment.Status.DECLINED)


def test_an_unchanged_read_is_used_locked_with_its_lines(shop, product, buy):
    placed = buy(shop, (product.variants.get(), 1))
    read = _read_before(placed.payment)

    with transaction.atomic():
        order, payment = _lock(read, list(placed.order.lines.all()))

    assert order.locked_for_update
    assert (order.status, payment.status) == ("awaiting_payment", "pending")
    assert [line.sku for line in order_lines_kept(order)] == [product.variants.get().sku]


def test_a_paid_order_s_timeline_names_what_was_bought(shop, product, buy, deliver_callback):
    placed = buy(shop, (product.variants.get(), 2))
    placed.payment.refresh_from_db()

    outcome = deliver_callback(placed.payment)

    assert outcome == "approved"
    paid = Interaction.objects.get(customer=placed.order.customer, kind="order_paid")
    assert [(item["name"], item["quantity"]) for item in paid.data["items"]] == [(product.name, 2)]
