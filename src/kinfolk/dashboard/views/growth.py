"""The shop's view of awareness: downloads over time and per release, top sharers, who brought
whom, the viral coefficient, the channels that brought fans and followers over time."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kinfolk.core import clock
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.referrals import stats as referral_stats
from kinfolk.releases import stats as release_stats
from kinfolk.shops.models import Shop

PERIODS = (30, 90, 365)
DEFAULT_DAYS = 90


def period_of(shop: Shop, days: int, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Return the start of the shop's day ``days - 1`` days ago, and ``now``: the period of
    ``days`` calendar days ending today, in the shop's time zone."""
    today = now.astimezone(shop.tzinfo).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time.min, tzinfo=shop.tzinfo)
    return since.astimezone(dt.UTC), now


def _days(request: HttpRequest) -> int:
    value = request.GET.get("days", "")
    return int(value) if value in {str(days) for days in PERIODS} else DEFAULT_DAYS


def _line(label: str, days: list[dt.date], values: list[int]) -> dict:
    return {
        "type": "line",
        "labels": [date_format(day, "M j") for day in days],
        "series": [{"label": label, "data": values}],
    }


def _figures(shop: Shop, since: dt.datetime, until: dt.datetime) -> dict:
    tz = shop.tzinfo
    per_day = release_stats.downloads_per_day(shop=shop, since=since, until=until, tz=tz)
    per_release = release_stats.downloads_per_release(shop=shop, since=since, until=until)
    followers = referral_stats.followers_per_day(shop=shop, since=since, until=until, tz=tz)
    most = max((row.count for row in per_release), default=0)
    charts = {}
    downloads = sum(row.count for row in per_day)
    if downloads:
        charts["chart-downloads"] = _line(
            _("Downloads"), [row.day for row in per_day], [row.count for row in per_day]
        )
    if followers.now:
        charts["chart-followers"] = _line(
            _("Followers"), [day for day, _n in followers.days], [n for _d, n in followers.days]
        )
    return {
        "per_day": per_day,
        "downloads": downloads,
        "per_release": [
            {"row": row, "percent": round(100 * row.count / most) if most else 0}
            for row in per_release
        ],
        "sharers": referral_stats.top_sharers(shop=shop, since=since, until=until),
        "tree": referral_stats.referral_tree(shop=shop, since=since, until=until),
        "coefficient": referral_stats.viral_coefficient(shop=shop, since=since, until=until),
        "channels": referral_stats.channels(shop=shop, since=since, until=until),
        "followers": followers,
        "chart_data": {"currency": shop.currency, "charts": charts},
    }


@shop_view()
def growth(request: HttpRequest, shop: Shop) -> HttpResponse:
    """Growth over the last 30, 90 or 365 days (``?days=``)."""
    days = _days(request)
    since, until = period_of(shop, days, clock.now())
    context = {
        "days": days,
        "periods": PERIODS,
        "since": since,
        **_figures(shop, since, until),
    }
    return dashboard_render(request, shop, "dashboard/growth.html", context, section="growth")
