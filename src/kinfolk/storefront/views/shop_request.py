"""What every page inside a shop needs: the open shop, the visitor's cart count, input parsing."""

from __future__ import annotations

import re
from functools import lru_cache

from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.utils import translation

from kinfolk.core.errors import NotFound
from kinfolk.shops.models import Shop
from kinfolk.shops.selectors import shop_get_open
from kinfolk.storefront.cart_session import badge_count

# Larger ids than a 64-bit column holds are "no such row", not a database error. ASCII digits
# only: \d also takes other scripts' digits ("١٢"), which int() would quietly accept.
_ID = re.compile(r"^[0-9]{1,18}$")
_INT = re.compile(r"^[+-]?[0-9]+$")
# A quantity with more digits than this is "too many" without building a huge integer.
_MAX_DIGITS = 9


def is_htmx(request: HttpRequest) -> bool:
    """Return whether htmx sent the request (the answer is a fragment, not a page)."""
    return request.headers.get("HX-Request") == "true"


def open_shop_or_404(slug: str) -> Shop:
    """Return the open shop ``slug`` or raise Http404."""
    try:
        return shop_get_open(slug=slug)
    except NotFound:
        raise Http404("No such shop.") from None


def shop_context(request: HttpRequest, shop: Shop) -> dict:
    """Return the template context the shop's header needs."""
    return {"shop": shop, "cart_count": badge_count(request, shop)}


def parse_id(value: str | None) -> int | None:
    """Return ``value`` as a row id, or None when it cannot be one."""
    value = (value or "").strip()
    return int(value) if _ID.match(value) else None


def parse_quantity(value: str | None) -> int | None:
    """Return ``value`` as a whole number (huge values become 10⁹), or None when it is not one."""
    value = (value or "").strip()
    if not _INT.match(value):
        return None
    negative = value.startswith("-")
    digits = value.lstrip("+-").lstrip("0") or "0"
    number = 10**_MAX_DIGITS if len(digits) > _MAX_DIGITS else int(digits)
    return -number if negative else number


def see_other(to: str, *args) -> HttpResponseRedirect:
    """Return a 303 redirect (after a POST, the browser GETs the next page)."""
    return HttpResponseRedirect(resolve_url(to, *args), status=303)


def cart_link_html(shop_slug: str, count: int) -> str:
    """Return the header's cart link of a shop for a cart of ``count`` items, in the active
    language: what pages kept for every visitor put in their cart slot."""
    return _cart_link(shop_slug, count, translation.get_language())


@lru_cache(maxsize=1024)
def _cart_link(shop_slug: str, count: int, language: str) -> str:
    # Kept per process: the link depends on nothing else (``language`` is the active one).
    return render_to_string(
        "storefront/_cart_link.html", {"shop": {"slug": shop_slug}, "cart_count": count}
    )
