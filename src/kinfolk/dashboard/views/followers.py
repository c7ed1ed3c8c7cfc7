"""The shop's followers: who follows it, newest first, and the list as CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

from kinfolk.core import clock
from kinfolk.crm.selectors.follows import followers_for_shop
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.dashboard.views.customers import csv_safe
from kinfolk.shops.models import Shop

PER_PAGE = 50


@shop_view()
def follower_list(request: HttpRequest, shop: Shop) -> HttpResponse:
    """The shop's followers, newest first, 50 a page, with their count."""
    page = Paginator(followers_for_shop(shop=shop), PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "follows": list(page.object_list)}
    return dashboard_render(request, shop, "dashboard/followers.html", context, section="customers")


class _Echo:
    """A file that hands back what is written to it: csv.writer then yields each line."""

    def write(self, value: str) -> str:
        return value


@shop_view()
def followers_csv(request: HttpRequest, shop: Shop) -> StreamingHttpResponse:
    """Every follower as CSV (name, e-mail, since, from which page), streamed, with cells
    guarded against spreadsheet formulas."""
    header = [
        _("Name"),
        _("E-mail"),
        _("Following since (%(zone)s)") % {"zone": shop.time_zone},
        _("Followed from"),
    ]
    tz = shop.tzinfo

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield "\ufeff"  # lets spreadsheets read the file as UTF-8 (names in Hangul, accents)
        yield writer.writerow(header)
        for follow in followers_for_shop(shop=shop).iterator(chunk_size=1000):
            cells = [
                follow.customer.name,
                follow.customer.email,
                follow.followed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                follow.source,
            ]
            yield writer.writerow([csv_safe(cell) for cell in cells])

    today = clock.now().astimezone(tz).date().isoformat()
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{shop.slug}-followers-{today}.csv"'
    return response
