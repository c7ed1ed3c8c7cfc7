"""Cancelling card orders whose payment never arrived, so their stock returns to the shelf."""

from __future__ import annotations

import datetime as dt
import logging

from kinfolk.core import clock
from kinfolk.core.errors import InvalidTransition
from kinfolk.crm.models import Interaction
from kinfolk.orders.models import Order
from kinfolk.orders.notes import PAYMENT_TIMED_OUT_NOTE
from kinfolk.orders.services.lifecycle import order_cancel

logger = logging.getLogger(__name__)

# Card payments are decided within minutes and their callbacks retried for about ten; an order
# still unpaid after this long was abandoned on the card page. Manual payments (bank transfer,
# pay on pick-up) wait for the shop's staff instead.
CARD_PAYMENT_WINDOW = dt.timedelta(hours=2)
CARD_PROVIDERS = ("testpay",)


def orders_expire_unpaid(*, window: dt.timedelta = CARD_PAYMENT_WINDOW, limit: int = 500) -> int:
    """Cancel card orders awaiting payment for longer than ``window``; return how many."""
    cutoff = clock.now() - window
    stale = list(
        Order.objects.filter(
            status=Order.Status.AWAITING_PAYMENT,
            payment_provider__in=CARD_PROVIDERS,
            placed_at__lt=cutoff,
        )
        .select_related("shop")
        .order_by("placed_at")[:limit]
    )
    cancelled = 0
    for order in stale:
        try:
            order_cancel(
                shop=order.shop,
                order=order,
                reason=PAYMENT_TIMED_OUT_NOTE,
                source=Interaction.Source.SYSTEM,
            )
        except InvalidTransition:
            # Paid (or cancelled) between the query and the lock: nothing to do.
            continue
        cancelled += 1
    if cancelled:
        logger.info("cancelled %s unpaid card orders", cancelled)
    return cancelled
