"""Which cart is the visitor's in each shop: ``{shop id: cart token}`` in their session.

Beside it the session keeps a hint of how many items that cart holds, for the badge in every
storefront page's header, so that showing the badge costs no query. The cart views refresh the hint
whenever they change the cart or read it whole (cart page, checkout, order placed); the hint is
tied to the cart's token, so a replaced cart never shows another cart's count. The cart page and
checkout themselves always read the database.
"""

from __future__ import annotations

from django.http import HttpRequest

from kinfolk.orders.models import Cart
from kinfolk.shops.models import Shop
from kinfolk.storefront.selectors import cart_count

SESSION_KEY = "carts"
COUNT_KEY = "cart_counts"  # {shop id: [cart token, item count]}


def cart_token(request: HttpRequest, shop: Shop) -> str | None:
    """Return the token of the visitor's cart in ``shop``, if they have one."""
    carts = request.session.get(SESSION_KEY)
    if not isinstance(carts, dict):
        return None
    token = carts.get(str(shop.pk))
    return token if isinstance(token, str) else None


def remember_cart(request: HttpRequest, shop: Shop, cart: Cart) -> None:
    """Keep ``cart`` as the visitor's cart in ``shop``."""
    carts = request.session.get(SESSION_KEY)
    carts = dict(carts) if isinstance(carts, dict) else {}
    if carts.get(str(shop.pk)) != cart.token:
        carts[str(shop.pk)] = cart.token
        request.session[SESSION_KEY] = carts


def remember_count(request: HttpRequest, shop: Shop, count: int) -> None:
    """Note that the visitor's cart in ``shop`` now holds ``count`` items (for the badge)."""
    token = cart_token(request, shop)
    if token is None:
        return
    counts = request.session.get(COUNT_KEY)
    counts = dict(counts) if isinstance(counts, dict) else {}
    if counts.get(str(shop.pk)) != [token, count]:
        counts[str(shop.pk)] = [token, count]
        request.session[COUNT_KEY] = counts


def badge_count(request: HttpRequest, shop: Shop) -> int:
    """Return how many items the visitor's cart in ``shop`` holds, as the header's badge shows
    it: the session's hint when it has one for this cart, else counted (and then remembered)."""
    token = cart_token(request, shop)
    if token is None:
        return 0
    counts = request.session.get(COUNT_KEY)
    hint = counts.get(str(shop.pk)) if isinstance(counts, dict) else None
    if (
        isinstance(hint, list)
        and len(hint) == 2
        and hint[0] == token
        and isinstance(hint[1], int)
        and hint[1] >= 0
    ):
        return hint[1]
    count = cart_count(shop=shop, token=token)
    remember_count(request, shop, count)
    return count


def forget_count(request: HttpRequest, shop: Shop) -> None:
    """Drop the badge hint for ``shop``: the next page counts the cart afresh."""
    counts = request.session.get(COUNT_KEY)
    if isinstance(counts, dict) and str(shop.pk) in counts:
        counts = dict(counts)
        del counts[str(shop.pk)]
        request.session[COUNT_KEY] = counts
