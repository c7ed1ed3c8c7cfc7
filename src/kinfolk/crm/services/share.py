"""Writes of customer share: the shop's bought-together model and shop-wide figures
(``kinfolk.crm.share``), computed in batch and stored as the shop's ``crm.ShareSnapshot``, so that
no page reads every order of the shop.

**When.** Every night (``crm.tasks.shop_shares_refresh``), and in the demo once its history is
made. A shop without a model yet (a new one) gets it on the first visit to a share page when it
has at most ``SMALL_SHOP_ORDERS`` paid orders (half a second or so); a bigger one waits for the
night, and its pages say so.

**The catalogue.** Share is measured against the catalogue, which the CRM may not import
(dependencies point one way: catalog → crm). Pages pass it in. For the batch, the catalogue app
registers, from its ``AppConfig.ready()``, a provider ``provider(shop=shop)`` → every product of
the shop in any status as ``CatalogueProduct`` (``share_catalogue_register``), as apps register
their personal-data handlers with ``kinfolk.crm.personal_data``: the nightly task then refreshes
every shop without knowing where products live. A second registration replaces the first.

**Reading.** The orders are read once, in chunks, outside any transaction (SQLite transactions
start IMMEDIATE and would hold the write lock through the read); ``OrderTally`` keeps 16 bytes
per item line and no object per order. Only the write of the one row is atomic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.db import transaction

from kinfolk.core import clock
from kinfolk.crm.models import Interaction, ShareSnapshot
from kinfolk.crm.selectors.share import paid_order_rows, share_snapshot_of
from kinfolk.crm.share import CatalogueProduct, OrderTally, model_data, shop_share
from kinfolk.shops.models import Shop

# At most this many paid orders, a shop's missing model is computed while its page waits.
SMALL_SHOP_ORDERS = 20_000

CatalogueProvider = Callable[..., Iterable[CatalogueProduct]]  # provider(shop=shop)
_catalogue_provider: CatalogueProvider | None = None


def share_catalogue_register(provider: CatalogueProvider | None) -> CatalogueProvider | None:
    """Register the function that returns a shop's catalogue for the batch refresh (None
    removes it); return the one it replaces."""
    global _catalogue_provider
    previous, _catalogue_provider = _catalogue_provider, provider
    return previous


def share_catalogue_of(*, shop: Shop) -> list[CatalogueProduct] | None:
    """Return the shop's catalogue from the registered provider; None when none is registered."""
    return None if _catalogue_provider is None else list(_catalogue_provider(shop=shop))


def share_snapshot_refresh(
    *, shop: Shop, catalogue: Iterable[CatalogueProduct], now: dt.datetime | None = None
) -> ShareSnapshot:
    """Compute the shop's model from its paid orders standing at ``now`` and ``catalogue``
    (every product, any status), store it in place of the previous one and return it."""
    now = now or clock.now()
    tally, without_items = OrderTally(), 0
    for _customer_id, order in paid_order_rows(shop=shop, now=now):
        if order is None:
            without_items += 1
        else:
            tally.add(order)
    co = tally.model(catalogue)
    # The top gaps are not stored: they are worked out from the stored pairs when read.
    figures = shop_share(
        co=co, orders_counted=tally.orders, orders_without_items=without_items, gap_limit=0
    )
    return _store(
        shop=shop,
        computed_at=now,
        orders_counted=tally.orders,
        orders_without_items=without_items,
        data=model_data(co, figures),
    )


@transaction.atomic
def _store(
    *, shop: Shop, computed_at: dt.datetime, orders_counted: int, orders_without_items: int, data
) -> ShareSnapshot:
    snapshot, _created = ShareSnapshot.objects.update_or_create(
        shop=shop,
        defaults={
            "computed_at": computed_at,
            "orders_counted": orders_counted,
            "orders_without_items": orders_without_items,
            "data": data,
        },
    )
    return snapshot


def shop_share_refresh(*, shop: Shop, now: dt.datetime | None = None) -> ShareSnapshot | None:
    """Refresh the shop's model against the registered catalogue provider's catalogue; return
    None (and change nothing) when no provider is registered."""
    catalogue = share_catalogue_of(shop=shop)
    if catalogue is None:
        return None
    return share_snapshot_refresh(shop=shop, catalogue=catalogue, now=now)


def share_snapshot_ensure(
    *,
    shop: Shop,
    catalogue: Callable[[], Iterable[CatalogueProduct]],
    now: dt.datetime | None = None,
) -> ShareSnapshot | None:
    """Return the shop's stored model; when it has none yet, compute it now if the shop has at
    most ``SMALL_SHOP_ORDERS`` paid orders (``catalogue()`` is called only then), else return
    None: the nightly refresh brings it."""
    snapshot = share_snapshot_of(shop=shop)
    if snapshot is not None:
        return snapshot
    # Counting stops past the limit: a large shop pays for a bounded index scan, not a count.
    paid = (
        Interaction.objects.filter(shop=shop, kind=Interaction.Kind.ORDER_PAID)
        .order_by()
        .values("pk")[: SMALL_SHOP_ORDERS + 1]
    )
    if paid.count() > SMALL_SHOP_ORDERS:
        return None
    return share_snapshot_refresh(shop=shop, catalogue=catalogue(), now=now)
