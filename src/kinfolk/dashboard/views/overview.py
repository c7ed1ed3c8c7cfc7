"""The dashboard's front pages: the maker's shops and one shop's day at a glance."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_safe

from kinfolk.dashboard import selectors
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.shops.models import Shop
from kinfolk.shops.selectors import shops_for_staff


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """List the shops the visitor works in; go straight to the shop when there is only one."""
    shops = list(shops_for_staff(user=request.user))
    if len(shops) == 1:
        return redirect("dashboard:overview", shop=shops[0].slug)
    return dashboard_render(request, None, "dashboard/home.html", {"shops": shops})


@shop_view()
def overview(request: HttpRequest, shop: Shop) -> HttpResponse:
    """Today's orders and revenue, the work waiting, the last week's revenue, the latest orders."""
    days = selectors.revenue_by_day(shop=shop)
    context = {
        "figures": selectors.overview_figures(shop=shop),
        "days": days,
        "week_revenue": sum(day.revenue for day in days),
        "recent_orders": selectors.orders_recent(shop=shop),
    }
    return dashboard_render(request, shop, "dashboard/overview.html", context, section="overview")
