"""Reads of releases for the maker's pages: the list with prices and counts, a release's files,
and downloads over time and per release. Every function takes the shop first, counts in the
database and never returns another shop's rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate

from kinfolk.catalog.models import Variant
from kinfolk.releases.models import Download, Release, ReleaseFile
from kinfolk.shops.models import Shop


def _count_of(queryset) -> Coalesce:
    """Return a subquery expression counting ``queryset``'s rows per outer release."""
    counted = queryset.order_by().values("release_id").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def releases_for_dashboard(*, shop: Shop):
    """Return the shop's releases, newest first, product loaded, each with ``price`` (the
    variant's: the fixed price or the minimum), ``file_count`` and ``download_count``."""
    price = (
        Variant.objects.filter(product_id=OuterRef("product_id"))
        .order_by("position", "pk")
        .values("price")[:1]
    )
    return (
        Release.objects.filter(shop=shop)
        .select_related("product")
        .annotate(
            price=Subquery(price),
            file_count=_count_of(ReleaseFile.objects.filter(release_id=OuterRef("pk"))),
            download_count=_count_of(Download.objects.filter(release_id=OuterRef("pk"))),
        )
        .order_by("-created_at", "-pk")
    )


def release_price(*, shop: Shop, release: Release) -> int:
    """Return the release's price in minor units: the fixed price or the minimum (0 if unset)."""
    price = (
        Variant.objects.filter(shop=shop, product_id=release.product_id)
        .order_by("position", "pk")
        .values_list("price", flat=True)
        .first()
    )
    return price or 0


def release_files(*, shop: Shop, release: Release) -> list[ReleaseFile]:
    """Return the release's files in the order fans see them."""
    return list(ReleaseFile.objects.filter(shop=shop, release=release).order_by("position", "pk"))


def release_download_count(*, shop: Shop, release: Release) -> int:
    return Download.objects.filter(shop=shop, release=release).count()


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    count: int


def downloads_per_day(
    *, shop: Shop, since: dt.datetime, until: dt.datetime, tz: ZoneInfo
) -> list[DayCount]:
    """Return the shop's downloads of each day (in ``tz``) from ``since`` to ``until``, days
    without downloads included with 0."""
    counted = dict(
        Download.objects.filter(shop=shop, downloaded_at__gte=since, downloaded_at__lt=until)
        .annotate(day=TruncDate("downloaded_at", tzinfo=tz))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    first, last = since.astimezone(tz).date(), until.astimezone(tz).date()
    days = (last - first).days + 1
    return [
        DayCount(day, counted.get(day, 0))
        for day in (first + dt.timedelta(days=n) for n in range(days))
    ]


@dataclass(frozen=True)
class ReleaseCount:
    release_id: int
    name: str
    count: int


def downloads_per_release(
    *, shop: Shop, since: dt.datetime, until: dt.datetime
) -> list[ReleaseCount]:
    """Return each release's downloads from ``since`` to ``until``, most downloaded first
    (releases without any left out)."""
    rows = (
        Download.objects.filter(shop=shop, downloaded_at__gte=since, downloaded_at__lt=until)
        .order_by()
        .values("release_id", "release__product__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "release__product__name")
    )
    return [
        ReleaseCount(row["release_id"], row["release__product__name"], row["n"]) for row in rows
    ]
