"""The fan's word of mouth: in every shop they are a customer of, their share link, the visits
and friends it brought, their progress to each reward, and the rewards they got."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from kinfolk.referrals.selectors import sharing_for_account
from kinfolk.referrals.services import share_link_get_or_create
from kinfolk.referrals.web import share_buttons


@login_required
@require_GET
def sharing_home(request: HttpRequest) -> HttpResponse:
    """List the fan's shops with their share link, figures, reward progress and rewards."""
    rows = sharing_for_account(account=request.user)
    for row in rows:
        if row.link is None:
            # First look: the fan's link is made now (one per shop, kept).
            row.link = share_link_get_or_create(shop=row.shop, customer=row.customer)
        shop_url = settings.BASE_URL + reverse("storefront:shop", args=[row.shop.slug])
        row.url = f"{shop_url}?via={row.link.code}"
        row.share = {
            "key": f"-{row.shop.pk}",
            "url": row.url,
            "personal": True,
            "title": row.shop.name,
            "buttons": share_buttons(row.url, row.shop.name),
            "sharing_url": "",
        }
    return render(request, "storefront/sharing.html", {"rows": rows})
