"""Notices visits through a share link (``?via=CODE``) and keeps the first touch in a cookie."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from kinfolk.core import clock
from kinfolk.referrals.first_touch import (
    FirstTouch,
    channel_of,
    cookie_name,
    is_crawler,
    is_share_code,
    touch_dump,
    touch_read,
)
from kinfolk.referrals.models import ShareLink
from kinfolk.referrals.services import share_visit_record, window_days_of

# First path segments that are never a shop (see kinfolk.urls and the storefront's URLs).
NOT_SHOPS = frozenset(
    {"accounts", "admin", "dashboard", "i18n", "health", "testpay", "verify", "static", "media"}
)
SHARE_PARAMS = ("via", "ch")
# What a path may start with that a browser reads as another host (``//host``, ``/\host``, with
# tabs or line breaks in between, which browsers drop).
_LEADING = re.compile(r"^[/\\\x00-\x20]+")


class ShareVisitMiddleware:
    """On a shop page's GET with ``via=CODE`` of one of that shop's share links: record the
    visit (not a crawler's, not the sharer's own), keep the first touch in the shop's cookie
    when the visitor has none valid, and redirect to the same address without ``via``/``ch``.

    Requests without ``via`` pass straight through, without a query.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "GET" or "via" not in request.GET:
            return self.get_response(request)
        clean = _without_share_params(request)
        code = request.GET.get("via", "")
        slug = request.path_info.strip("/").split("/", 1)[0]
        if not is_share_code(code) or not slug or slug in NOT_SHOPS:
            return HttpResponseRedirect(clean)
        link = (
            ShareLink.objects.filter(code=code, shop__slug=slug)
            .select_related("shop__referral_settings", "customer")
            .first()
        )
        response = HttpResponseRedirect(clean)
        if link is None or is_crawler(request) or _is_sharer(request, link):
            return response
        shop = link.shop
        window_days = window_days_of(shop)
        touch = touch_read(request, shop_id=shop.pk, window_days=window_days)
        channel = channel_of(request)
        if touch is None:
            touch = FirstTouch(code=link.code, at=clock.now(), channel=channel)
            response.set_cookie(
                cookie_name(shop.pk),
                touch_dump(touch),
                max_age=window_days * 86400,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        share_visit_record(
            shop=shop, link=link, channel=channel, path=request.path, visitor=touch.visitor
        )
        return response


def _is_sharer(request: HttpRequest, link: ShareLink) -> bool:
    """Return whether the logged-in visitor owns the link (trying it out is not a visit)."""
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and link.customer.account_id == user.pk)


def _without_share_params(request: HttpRequest) -> str:
    """Return the request's path and query without the share parameters, as a path of this
    site: leading slashes and backslashes become one ``/`` (never a scheme-relative address)."""
    kept = [
        (key, value)
        for key, values in request.GET.lists()
        if key not in SHARE_PARAMS
        for value in values
    ]
    query = urlencode(kept)
    path = "/" + _LEADING.sub("", request.path)
    return path + (f"?{query}" if query else "")
