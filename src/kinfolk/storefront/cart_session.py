"""Which cart is the visitor's in each shop: ``{shop id: cart token}`` in their session."""

from __future__ import annotations

from django.http import HttpRequest

from kinfolk.orders.models import Cart
from kinfolk.shops.models import Shop

SESSION_KEY = "carts"


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
