"""Reads of customer share (``kinfolk.crm.share``): the shop's stored model
(``crm.ShareSnapshot``, written by ``kinfolk.crm.services.share``) and one fan's own paid orders.

A fan's page reads the model and that fan's orders (one query on the (shop, customer) index),
never the other fans' orders; the shop's page reads the model alone. The caller passes the
catalogue in, since the CRM never reads it itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

from kinfolk.core import clock
from kinfolk.core.errors import NotFound
from kinfolk.crm.models import Customer, Interaction, ShareSnapshot
from kinfolk.crm.share import (
    LAYOUT_VERSION,
    CatalogueProduct,
    CustomerShare,
    PaidOrder,
    ShopShare,
    StoredModel,
    customer_share_without_model,
    paid_order,
)
from kinfolk.crm.stage_rules import purchase_filter
from kinfolk.shops.models import Shop

READ_CHUNK = 5000


def paid_order_rows(
    *, shop: Shop, now: dt.datetime | None = None, customer: Customer | None = None
) -> Iterator[tuple[int, PaidOrder | None]]:
    """Yield ``(customer id, order)`` for each of the shop's paid orders that stand at ``now``
    (not refunded by then), ``order`` None when it lists no item naming a product; only
    ``customer``'s when given.

    One query, read in chunks; only the ``items`` key of each interaction's data is read.
    """
    now = now or clock.now()
    rows = Interaction.objects.filter(shop=shop, occurred_at__lte=now)
    if customer is not None:
        rows = rows.filter(customer=customer)
    rows = (
        rows.filter(purchase_filter(shop=shop, now=now, customer=customer))
        .order_by()
        .values_list("customer_id", "occurred_at", "data__items")
    )
    for customer_id, paid_at, items in rows.iterator(chunk_size=READ_CHUNK):
        yield customer_id, paid_order(customer_id, paid_at, items)


@dataclass(frozen=True)
class PaidOrders:
    """Paid orders that list their items, and how many do not, per customer."""

    counted: list[PaidOrder]
    without_items: dict[int, int]  # customer id -> orders without items

    @property
    def without_items_total(self) -> int:
        return sum(self.without_items.values())


def paid_orders(
    *, shop: Shop, now: dt.datetime | None = None, customer: Customer | None = None
) -> PaidOrders:
    """Return the shop's (or ``customer``'s) standing paid orders in memory, in one query.

    Whole shops are for small computations and comparisons only: the pages read the stored
    model and a fan's own orders.
    """
    counted, without_items = [], {}
    for customer_id, order in paid_order_rows(shop=shop, now=now, customer=customer):
        if order is not None:
            counted.append(order)
        else:
            without_items[customer_id] = without_items.get(customer_id, 0) + 1
    return PaidOrders(counted=counted, without_items=without_items)


def share_snapshot_of(*, shop: Shop) -> ShareSnapshot | None:
    """Return the shop's stored model when there is one of the current layout, else None."""
    snapshot = ShareSnapshot.objects.filter(shop=shop).first()
    # An older layout reads as no model: the next refresh replaces it.
    if snapshot is None or not isinstance(snapshot.data, dict):
        return None
    return snapshot if snapshot.data.get("version") == LAYOUT_VERSION else None


def _model_of(snapshot: ShareSnapshot) -> StoredModel | None:
    try:
        return StoredModel(snapshot.data)
    except (ValueError, KeyError, TypeError):
        # A damaged document reads as no model: the next refresh replaces it.
        return None


def _model_for(shop: Shop, snapshot: ShareSnapshot | None) -> StoredModel | None:
    if snapshot is None:
        return None
    if snapshot.shop_id != shop.pk:
        raise ValueError(f"shop {shop.pk} was given the share model of shop {snapshot.shop_id}")
    return _model_of(snapshot)


@dataclass(frozen=True)
class CustomerShareReport:
    """A fan's share and when the shop's model behind their gaps was computed (None: not yet,
    and there are no gaps)."""

    share: CustomerShare
    computed_at: dt.datetime | None


@dataclass(frozen=True)
class ShopShareReport:
    """The shop's figures as of ``computed_at``; both None while the shop has no model yet."""

    share: ShopShare | None
    computed_at: dt.datetime | None


def customer_share_for(
    *,
    shop: Shop,
    customer: Customer,
    catalogue: Iterable[CatalogueProduct],
    snapshot: ShareSnapshot | None,
    now: dt.datetime | None = None,
    gap_limit: int = 5,
) -> CustomerShareReport:
    """Return what ``customer`` owns of the shop's catalogue and their cross-sell gaps.

    Their products, categories and share come from their own orders as they stand at ``now``
    and the catalogue as given; only the gaps' counts come from ``snapshot``, the shop's stored
    model (``share_snapshot_of``); without one there are no gaps.
    """
    if customer.shop_id != shop.pk:
        raise NotFound(_("No such customer."))
    model = _model_for(shop, snapshot)
    orders = paid_orders(shop=shop, now=now, customer=customer)
    without_items = orders.without_items.get(customer.pk, 0)
    if model is None:
        share = customer_share_without_model(
            catalogue=catalogue, orders=orders.counted, orders_without_items=without_items
        )
        return CustomerShareReport(share=share, computed_at=None)
    share = model.customer_share(
        catalogue=catalogue,
        orders=orders.counted,
        orders_without_items=without_items,
        gap_limit=gap_limit,
    )
    return CustomerShareReport(share=share, computed_at=snapshot.computed_at)


def shop_share_for(
    *, shop: Shop, snapshot: ShareSnapshot | None, gap_limit: int = 10
) -> ShopShareReport:
    """Return the shop's catalogue share distribution, category penetration and top gaps as of
    its stored model ``snapshot`` (``share_snapshot_of``), without reading any order."""
    model = _model_for(shop, snapshot)
    if model is None:
        return ShopShareReport(share=None, computed_at=None)
    share = model.shop_share(
        orders_counted=snapshot.orders_counted,
        orders_without_items=snapshot.orders_without_items,
        gap_limit=gap_limit,
    )
    return ShopShareReport(share=share, computed_at=snapshot.computed_at)
