"""Customer share: what one fan owns of the catalogue and what they have not bought yet (a
fragment the customer page loads with htmx, or a page of its own), and the shop's overview.

The CRM computes from the timeline alone; the catalogue it measures against is read here and
passed in. Both pages read the shop's stored model (refreshed every night); a small shop without
one yet gets it computed on the first visit.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from kinfolk.catalog.selectors import catalogue_for_crm
from kinfolk.crm.models import Customer
from kinfolk.crm.selectors.share import customer_share_for, shop_share_for
from kinfolk.crm.services.share import share_snapshot_ensure
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.shops.models import Shop

SECTION = "customers"


def wants_fragment(request: HttpRequest) -> bool:
    """Return whether htmx asked for a piece of a page (a boosted link wants a whole page)."""
    return (
        request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"
    )


@shop_view()
def customer_share(request: HttpRequest, shop: Shop, customer: Customer) -> HttpResponse:
    """One fan's products and categories, their share of the catalogue and their gaps."""
    catalogue = catalogue_for_crm(shop=shop)
    snapshot = share_snapshot_ensure(shop=shop, catalogue=lambda: catalogue)
    report = customer_share_for(
        shop=shop, customer=customer, catalogue=catalogue, snapshot=snapshot
    )
    context = {
        "shop": shop,
        "customer": customer,
        "share": report.share,
        "model_at": report.computed_at,
    }
    if wants_fragment(request):
        response = render(request, "dashboard/_customer_share.html", context)
    else:
        response = dashboard_render(
            request, shop, "dashboard/share_customer.html", context, section=SECTION
        )
    # The same address answers a fragment or a page: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


@shop_view()
def share_overview(request: HttpRequest, shop: Shop) -> HttpResponse:
    """How much of the catalogue fans own, each category's reach, and the top cross-sell gaps."""
    # The catalogue is read only when a small shop's first model is computed.
    snapshot = share_snapshot_ensure(shop=shop, catalogue=lambda: catalogue_for_crm(shop=shop))
    report = shop_share_for(shop=shop, snapshot=snapshot)
    context = {"share": report.share, "model_at": report.computed_at}
    return dashboard_render(
        request, shop, "dashboard/share_overview.html", context, section=SECTION
    )
