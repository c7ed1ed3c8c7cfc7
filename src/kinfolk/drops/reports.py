"""What the maker reads about their drops: where each stands, how fast it sells, who owns which copy.

Selectors for the dashboard; each takes the shop (or an edition already scoped to it) and reads
only its rows. A held copy whose hold has lapsed counts as free, as everywhere in the ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import Trunc

from kinfolk.catalog.models import Product, Variant
from kinfolk.drops.models import Copy, Edition, WaitlistEntry
from kinfolk.drops.services.editions import edition_starts_at
from kinfolk.shops.models import Shop


class Phase(StrEnum):
    """Where a drop stands at one moment, as the maker sees it."""

    SCHEDULED = "scheduled"
    EARLY_ACCESS = "early_access"
    LIVE = "live"
    SOLD_OUT = "sold_out"
    CLOSED = "closed"


@dataclass(frozen=True)
class DropFigures:
    """An edition's copies by state at one moment, and its waitlist."""

    size: int
    sold: int
    held: int
    waiting: int = 0
    offered: int = 0
    first_sale: dt.datetime | None = None
    last_sale: dt.datetime | None = None

    @property
    def free(self) -> int:
        return self.size - self.sold - self.held

    @property
    def sold_percent(self) -> int:
        return round(100 * self.sold / self.size) if self.size else 0


def drop_phase(edition: Edition, figures: DropFigures, now: dt.datetime) -> Phase:
    """Return the drop's phase at ``now``: every copy sold wins over the calendar."""
    if figures.sold >= edition.size:
        return Phase.SOLD_OUT
    if edition.closes_at is not None and now >= edition.closes_at:
        return Phase.CLOSED
    if now >= edition.opens_at:
        return Phase.LIVE
    if now >= edition_starts_at(edition):
        return Phase.EARLY_ACCESS
    return Phase.SCHEDULED


def _copy_counts(now: dt.datetime) -> dict:
    return {
        "sold": Count("pk", filter=Q(state=Copy.State.SOLD)),
        "held": Count("pk", filter=Q(state=Copy.State.HELD, held_until__gt=now)),
    }


def editions_for_shop(*, shop: Shop, now: dt.datetime) -> list[tuple[Edition, DropFigures]]:
    """Return the shop's editions, latest opening first, each with its figures (two queries)."""
    editions = list(
        Edition.objects.filter(shop=shop)
        .select_related("product", "variant")
        .order_by("-opens_at", "-pk")
    )
    counts = {
        row["edition"]: row
        for row in Copy.objects.filter(shop=shop, state__in=[Copy.State.SOLD, Copy.State.HELD])
        .values("edition")
        .annotate(**_copy_counts(now))
    }
    empty = {"sold": 0, "held": 0}
    return [
        (
            edition,
            DropFigures(
                size=edition.size,
                sold=counts.get(edition.pk, empty)["sold"],
                held=counts.get(edition.pk, empty)["held"],
            ),
        )
        for edition in editions
    ]


def drop_figures(*, edition: Edition, now: dt.datetime) -> DropFigures:
    """Return the edition's copies by state, its first and last sale, and its waitlist (2 queries)."""
    copies = Copy.objects.filter(
        edition=edition, state__in=[Copy.State.SOLD, Copy.State.HELD]
    ).aggregate(
        **_copy_counts(now),
        first_sale=Min("sold_at"),
        last_sale=Max("sold_at"),
    )
    waitlist = WaitlistEntry.objects.filter(edition=edition).aggregate(
        waiting=Count("pk", filter=Q(status=WaitlistEntry.Status.WAITING)),
        offered=Count("pk", filter=Q(status=WaitlistEntry.Status.OFFERED)),
    )
    return DropFigures(size=edition.size, **copies, **waitlist)


@dataclass(frozen=True)
class SalesBucket:
    """The copies sold in one minute, hour or day (local time), and the total sold by its end."""

    start: dt.datetime
    sold: int
    total: int


def _bucket_kind(first: dt.datetime, last: dt.datetime) -> tuple[str, dt.timedelta]:
    """Return the bucket that draws the span in at most about 200 points."""
    span = last - first
    if span <= dt.timedelta(hours=3):
        return "minute", dt.timedelta(minutes=1)
    if span <= dt.timedelta(days=8):
        return "hour", dt.timedelta(hours=1)
    return "day", dt.timedelta(days=1)


def sell_through(
    *, edition: Edition, figures: DropFigures, tz: dt.tzinfo, until: dt.datetime
) -> tuple[str, list[SalesBucket]]:
    """Return the bucket kind and the sales per bucket from the first sale to ``until``.

    Buckets are the shop's local minutes, hours or days; quiet ones are filled in with no sales,
    so the buckets form an even time axis. One query (none before the first sale).
    """
    if figures.first_sale is None:
        return "minute", []
    last = max(figures.last_sale, min(until, figures.last_sale + dt.timedelta(days=365)))
    kind, step = _bucket_kind(figures.first_sale, last)
    per_bucket = dict(
        Copy.objects.filter(edition=edition, state=Copy.State.SOLD)
        .annotate(bucket=Trunc("sold_at", kind, tzinfo=tz))
        .values("bucket")
        .annotate(sold=Count("pk"))
        .values_list("bucket", "sold")
    )
    sales = {bucket.astimezone(dt.UTC): sold for bucket, sold in per_bucket.items()}
    first = min(sales)
    buckets, total, start = [], 0, first
    end = _truncate(last, kind, tz)
    while start <= end and len(buckets) < 1000:
        sold = sales.get(start, 0)
        total += sold
        buckets.append(SalesBucket(start=start, sold=sold, total=total))
        start = _next_bucket(start, step, kind, tz)
    return kind, buckets


def _truncate(moment: dt.datetime, kind: str, tz: dt.tzinfo) -> dt.datetime:
    local = moment.astimezone(tz)
    if kind == "minute":
        local = local.replace(second=0, microsecond=0)
    elif kind == "hour":
        local = local.replace(minute=0, second=0, microsecond=0)
    else:
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(dt.UTC)


def _next_bucket(start: dt.datetime, step: dt.timedelta, kind: str, tz: dt.tzinfo) -> dt.datetime:
    """Return the next bucket's start: a local day is not always 24 hours (summer time)."""
    if kind != "day":
        return start + step
    local = start.astimezone(tz)
    next_day = (local + dt.timedelta(days=1, hours=12)).replace(hour=0, minute=0)
    return _truncate(next_day, "day", tz)


def owners(*, edition: Edition) -> QuerySet[Copy]:
    """Return the edition's sold copies by number, each with its order and customer."""
    return (
        Copy.objects.filter(edition=edition, state=Copy.State.SOLD)
        .select_related("order__customer")
        .order_by("number")
    )


def variants_for_new_drop(*, shop: Shop) -> QuerySet[Variant]:
    """Return the shop's variants that may become an edition: of a product that has none, not
    archived; with their product."""
    return (
        Variant.objects.filter(shop=shop, product__edition__isnull=True)
        .exclude(product__status=Product.Status.ARCHIVED)
        .select_related("product")
        .order_by("product__name", "pk")
    )
