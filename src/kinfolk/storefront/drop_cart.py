"""An edition's copy in the visitor's cart: one, put there when the fan holds it, taken out when
they give it back. The hold, not the cart, decides whether the fan gets a copy."""

from __future__ import annotations

from django.http import HttpRequest

from kinfolk.drops.models import Edition
from kinfolk.orders.selectors import cart_lines
from kinfolk.orders.services.cart import (
    cart_add,
    cart_get,
    cart_get_or_create,
    cart_remove,
    cart_set_quantity,
)
from kinfolk.shops.models import Shop
from kinfolk.storefront.cart_session import cart_token, forget_count, remember_cart


def put_edition_in_cart(request: HttpRequest, shop: Shop, edition: Edition) -> None:
    """Make the visitor's cart in ``shop`` hold exactly one copy of the edition."""
    account = request.user if request.user.is_authenticated else None
    cart = cart_get_or_create(shop=shop, token=cart_token(request, shop), account=account)
    remember_cart(request, shop, cart)
    line = next(
        (
            line
            for line in cart_lines(shop=shop, cart=cart, images=False)
            if line.variant_id == edition.variant_id
        ),
        None,
    )
    if line is None:
        cart_add(shop=shop, cart=cart, variant_id=edition.variant_id, quantity=1)
    elif line.quantity != 1:
        cart_set_quantity(shop=shop, cart=cart, line_id=line.pk, quantity=1)
    forget_count(request, shop)  # the checkout it leads to counts the cart afresh


def take_edition_out_of_cart(request: HttpRequest, shop: Shop, edition: Edition) -> None:
    """Remove the edition from the visitor's cart in ``shop``, if it is there."""
    cart = cart_get(shop=shop, token=cart_token(request, shop))
    for line in cart_lines(shop=shop, cart=cart, images=False):
        if line.variant_id == edition.variant_id:
            cart_remove(shop=shop, cart=cart, line_id=line.pk)
    forget_count(request, shop)
