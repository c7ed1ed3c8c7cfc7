"""Reads of customer share: the shop's standing paid orders with their items, turned into what
each fan owns (``kinfolk.crm.share``). The caller passes the catalogue in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from kinfolk.core import clock
from kinfolk.core.errors import NotFound
from kinfolk.crm.models import Customer, Interaction
from kinfolk.crm.share import (
    CatalogueProduct,
    CoPurchases,
    CustomerShare,
    PaidOrder,
    ShopShare,
    co_purchases,
    customer_share,
    paid_order,
    shop_share,
)
from kinfolk.crm.stage_rules import purchase_filter
from kinfolk.shops.models import Shop


@dataclass(frozen=True)
class PaidOrders:
    """A shop's standing paid orders: those that list their items, and how many do not."""

    counted: list[PaidOrder]
    without_items: dict[int, int]  # customer id -> orders without items

    @property
    def without_items_total(self) -> int:
        return sum(self.without_items.values())


def paid_orders(*, shop: Shop, now: dt.datetime | None = None) -> PaidOrders:
    """Return the shop's paid orders that stand at ``now`` (not refunded), in one query.

    Only the ``items`` key of each interaction's data is read, not the whole document.
    """
    now = now or clock.now()
    rows = (
        Interaction.objects.filter(shop=shop, occurred_at__lte=now)
        .filter(purchase_filter(shop=shop, now=now))
        .order_by()
        .values_list("customer_id", "occurred_at", "data__items")
    )
    counted, without_items = [], {}
    for customer_id, paid_at, items in rows.iterator(chunk_size=5000):
        order = paid_order(customer_id, paid_at, items)
        if order is not None:
            counted.append(order)
        else:
            without_items[customer_id] = without_items.get(customer_id, 0) + 1
    return PaidOrders(counted=counted, without_items=without_items)


def share_model(
    *, shop: Shop, catalogue: Iterable[CatalogueProduct], now: dt.datetime | None = None
) -> tuple[PaidOrders, CoPurchases]:
    """Return the shop's paid orders and the bought-together model built from them."""
    orders = paid_orders(shop=shop, now=now)
    return orders, co_purchases(orders.counted, catalogue)


def customer_share_for(
    *,
    shop: Shop,
    customer: Customer,
    catalogue: Iterable[CatalogueProduct],
    now: dt.datetime | None = None,
    gap_limit: int = 5,
) -> CustomerShare:
    """Return what ``customer`` owns of the shop's catalogue and their cross-sell gaps.

    The gaps need every fan's purchases, so the whole shop's orders are read (one query).
    """
    if customer.shop_id != shop.pk:
        raise NotFound(_("No such customer."))
    orders, co = share_model(shop=shop, catalogue=catalogue, now=now)
    mine = [order for order in orders.counted if order.customer_id == customer.pk]
    return customer_share(
        co=co,
        orders=mine,
        orders_without_items=orders.without_items.get(customer.pk, 0),
        gap_limit=gap_limit,
    )


def shop_share_for(
    *,
    shop: Shop,
    catalogue: Iterable[CatalogueProduct],
    now: dt.datetime | None = None,
    gap_limit: int = 10,
) -> ShopShare:
    """Return the shop's catalogue share distribution, category penetration and top gaps."""
    orders, co = share_model(shop=shop, catalogue=catalogue, now=now)
    return shop_share(
        co=co,
        orders_counted=len(orders.counted),
        orders_without_items=orders.without_items_total,
        gap_limit=gap_limit,
    )
