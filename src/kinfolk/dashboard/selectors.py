"""Reads the maker's dashboard needs: today's figures, revenue by day, status counts, search.

Each takes the shop first and only ever counts that shop's rows. "Today" and "a day" are the
shop's calendar days in its own time zone, not UTC's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from kinfolk.catalog.models import Product
from kinfolk.core import clock
from kinfolk.orders.models import Order
from kinfolk.orders.selectors import orders_for_shop
from kinfolk.shops.models import Shop

# Orders whose money the shop has: they count as revenue.
REVENUE_STATUSES = (
    Order.Status.PAID,
    Order.Status.PARTIALLY_SHIPPED,
    Order.Status.SHIPPED,
    Order.Status.DELIVERED,
)
# Orders with parcels still to send.
TO_SHIP_STATUSES = (Order.Status.PAID, Order.Status.PARTIALLY_SHIPPED)
RECENT_ORDERS = 8
CHART_DAYS = 7


@dataclass(frozen=True)
class Overview:
    """The figures at the top of the overview page (amounts in minor units of the shop's currency)."""

    orders_today: int
    revenue_today: int
    awaiting_payment: int
    to_ship: int


@dataclass(frozen=True)
class DayRevenue:
    """One bar of the revenue chart; ``share`` is its height in percent of the best day."""

    day: dt.date
    revenue: int
    orders: int
    share: int


def shop_today(*, shop: Shop) -> dt.date:
    """Return today's date in the shop's time zone."""
    return clock.now().astimezone(shop.tzinfo).date()


def day_start(*, shop: Shop, day: dt.date) -> dt.datetime:
    """Return the aware instant at which ``day`` begins in the shop's time zone."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=shop.tzinfo)


def overview_figures(*, shop: Shop) -> Overview:
    """Return today's order count and revenue and the work waiting, in one query."""
    today = shop_today(shop=shop)
    start = day_start(shop=shop, day=today)
    end = day_start(shop=shop, day=today + dt.timedelta(days=1))
    placed_today = Q(placed_at__gte=start, placed_at__lt=end)
    figures = Order.objects.filter(shop=shop).aggregate(
        orders_today=Count("pk", filter=placed_today),
        revenue_today=Sum("total", filter=placed_today & Q(status__in=REVENUE_STATUSES)),
        awaiting_payment=Count("pk", filter=Q(status=Order.Status.AWAITING_PAYMENT)),
        to_ship=Count("pk", filter=Q(status__in=TO_SHIP_STATUSES) & ~Q(shipping_country="")),
    )
    return Overview(
        orders_today=figures["orders_today"] or 0,
        revenue_today=figures["revenue_today"] or 0,
        awaiting_payment=figures["awaiting_payment"] or 0,
        to_ship=figures["to_ship"] or 0,
    )


def revenue_by_day(*, shop: Shop, days: int = CHART_DAYS) -> list[DayRevenue]:
    """Return the revenue of each of the last ``days`` shop days, oldest first, in one query."""
    today = shop_today(shop=shop)
    first = today - dt.timedelta(days=days - 1)
    rows = (
        Order.objects.filter(
            shop=shop,
            status__in=REVENUE_STATUSES,
            placed_at__gte=day_start(shop=shop, day=first),
            placed_at__lt=day_start(shop=shop, day=today + dt.timedelta(days=1)),
        )
        .annotate(day=TruncDate("placed_at", tzinfo=shop.tzinfo))
        .values("day")
        .annotate(revenue=Sum("total"), orders=Count("pk"))
        .order_by()
    )
    by_day = {row["day"]: row for row in rows}
    best = max((row["revenue"] for row in by_day.values()), default=0)
    series = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        row = by_day.get(day, {"revenue": 0, "orders": 0})
        share = round(row["revenue"] * 100 / best) if best else 0
        series.append(
            DayRevenue(day=day, revenue=row["revenue"], orders=row["orders"], share=share)
        )
    return series


def orders_recent(*, shop: Shop, limit: int = RECENT_ORDERS) -> list[Order]:
    """Return the shop's latest orders, customer loaded."""
    return list(orders_for_shop(shop=shop)[:limit])


def _search(qs: QuerySet[Order], query: str) -> QuerySet[Order]:
    query = query.strip()
    if not query:
        return qs
    number = query.lstrip("#").strip().upper()
    return qs.filter(
        Q(number__istartswith=number)
        | Q(email__icontains=query)
        | Q(customer__name__icontains=query)
    )


def orders_search(*, shop: Shop, status: str = "", query: str = "") -> QuerySet[Order]:
    """Return the shop's orders with ``status`` matching ``query`` (number, e-mail or name)."""
    return _search(orders_for_shop(shop=shop, status=status or None), query)


def order_status_counts(*, shop: Shop, query: str = "") -> dict[str, int]:
    """Return how many orders match ``query`` in each status, plus ``""`` for all, in one query."""
    rows = (
        _search(Order.objects.filter(shop=shop), query)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {status: 0 for status in Order.Status.values}
    for row in rows:
        counts[row["status"]] = row["n"]
    counts[""] = sum(counts.values())
    return counts


def product_status_counts(*, shop: Shop) -> dict[str, int]:
    """Return how many products the shop has in each status, plus ``""`` for all, in one query."""
    rows = Product.objects.filter(shop=shop).values("status").annotate(n=Count("pk")).order_by()
    counts = {status: 0 for status in Product.Status.values}
    for row in rows:
        counts[row["status"]] = row["n"]
    counts[""] = sum(counts.values())
    return counts
