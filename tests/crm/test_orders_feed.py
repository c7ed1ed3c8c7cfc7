"""Real orders move the fan's stage and scores: paid orders count, cancelled and refunded ones
do not."""

from __future__ import annotations

import pytest

from kinfolk.core import clock
from kinfolk.crm.models import CustomerScore, Stage
from kinfolk.crm.selectors import customer_stage_history
from kinfolk.crm.services import rfm_recompute
from kinfolk.orders.services.lifecycle import order_cancel, order_mark_paid, order_refund
from tests.crm.conftest import START, days
from tests.orders.conftest import buy, fill_cart, place  # noqa: F401 (fixtures)

# Order events update the stage in the worker after commit: real commits, and the queue drained.
pytestmark = pytest.mark.django_db(transaction=True)


def test_orders_paid_refunded_and_cancelled_move_the_stage(
    shop,
    product,
    buy,  # noqa: F811
    run_tasks,
):
    vinyl = product.variants.get()
    with clock.frozen(START) as advance:
        first = buy(shop, (vinyl, 1)).order
        run_tasks()
        first.customer.refresh_from_db()
        assert first.customer.stage == Stage.AWARENESS
        order_mark_paid(shop=shop, order=first)
        run_tasks()
        advance(days(30))
        second = buy(shop, (vinyl, 1)).order
        order_mark_paid(shop=shop, order=second)
        run_tasks()
        second.customer.refresh_from_db()
        assert second.customer.stage == Stage.RELATIONSHIP

        unpaid = buy(shop, (vinyl, 1)).order
        order_cancel(shop=shop, order=unpaid)
        advance(days(1))
        order_refund(shop=shop, order=second)
        run_tasks()
        customer = second.customer
        customer.refresh_from_db()
        assert customer.stage == Stage.IDENTIFICATION

        history = customer_stage_history(shop=shop, customer=customer)
        assert [(c.to_stage, c.rule) for c in history] == [
            ("identification", "purchase"),
            ("relationship", "repeat_purchase"),
            ("identification", "purchase"),
        ]
        rfm_recompute(shop=shop)
    score = CustomerScore.objects.get(customer=customer)
    assert (score.frequency, score.monetary) == (1, first.total)
