"""The referrals' part when an order is paid, cancelled or refunded (registered with
``kinfolk.orders.extensions``)."""

from __future__ import annotations

import logging

from kinfolk.core.errors import KinfolkError
from kinfolk.orders import extensions

logger = logging.getLogger(__name__)


def credit_paid_order(*, shop, order) -> None:
    """Credit the paid order to the fan who brought its buyer, if anyone did.

    A refusal of our own (a rule the data breaks) must not undo the payment: it is logged and
    the order stays paid. Database errors propagate: the processor's retry may cure them.
    """
    from kinfolk.referrals.services import referral_order_paid

    try:
        referral_order_paid(shop=shop, order=order)
    except KinfolkError:
        logger.exception("order %s of shop %s not credited to a referrer", order.number, shop.pk)


def free_reward_code(*, shop, order) -> None:
    """Give back the reward code of an order that is cancelled (unpaid, or expired) or refunded:
    the fan did not get what it paid for, so the code is theirs to use again."""
    from kinfolk.referrals.discounts import reward_discount_release

    reward_discount_release(shop=shop, order=order)


def register_order_handlers() -> None:
    """Register the paid-order credit and the return of reward codes (from
    ``ReferralsConfig.ready``)."""
    extensions.register(
        "referrals", paid=credit_paid_order, cancelled=free_reward_code, refunded=free_reward_code
    )
