"""The order page: the confirmation after checkout and the fan's view of the order later on."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kinfolk.core.addresses import address_format
from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.orders.models import Order
from kinfolk.orders.payments import get_provider
from kinfolk.orders.selectors import order_get_for_fan
from kinfolk.orders.services.cart import cart_get_or_create, cart_refill_from_order
from kinfolk.shops.models import Shop
from kinfolk.storefront.cart_session import cart_token, forget_count, remember_cart
from kinfolk.storefront.selectors import (
    order_declined,
    order_payment_url,
    shop_for_order_page,
)
from kinfolk.storefront.views.shop_request import open_shop_or_404, see_other, shop_context

# Providers whose confirmation arrives by itself within seconds, worth waiting for on the page.
_POLLED_PROVIDERS = {"testpay"}


def _order_or_404(request: HttpRequest, shop_slug: str, number: str) -> tuple[Shop, Order]:
    shop = shop_for_order_page(slug=shop_slug)
    if shop is None:
        raise Http404("No such shop.")
    try:
        order = order_get_for_fan(
            shop=shop,
            number=number[:12],
            account=request.user,
            token=request.GET.get("t", "")[:64],
        )
    except NotFound:
        raise Http404("No such order.") from None
    return shop, order


def _status_context(request: HttpRequest, order: Order) -> dict:
    try:
        provider = get_provider(order.payment_provider)
    except InvalidInput:
        provider = None  # A provider switched off since: the order page still shows.
    awaiting = order.status == Order.Status.AWAITING_PAYMENT
    polling = awaiting and order.payment_provider in _POLLED_PROVIDERS
    return {
        "order": order,
        "provider": provider,
        "awaiting": awaiting,
        "polling": polling,
        "pay_url": order_payment_url(order) if polling else "",
        "declined": order_declined(order),
        "token": request.GET.get("t", "")[:64],
        "paid": order.status
        in {
            Order.Status.PAID,
            Order.Status.PARTIALLY_SHIPPED,
            Order.Status.SHIPPED,
            Order.Status.DELIVERED,
        },
    }


@require_GET
def order_page(request: HttpRequest, shop: str, number: str) -> HttpResponse:
    """Show the order's status, lines, totals, address and parcels."""
    shop_obj, order = _order_or_404(request, shop, number)
    context = shop_context(request, shop_obj)
    context.update(_status_context(request, order))
    address = order.shipping_address or {}
    context.update(
        lines=list(order.lines.all()),
        shipments=list(order.shipments.all()),
        address_lines=address_format(address).splitlines() if address else [],
    )
    return render(request, "storefront/order.html", context)


@require_GET
def order_status(request: HttpRequest, shop: str, number: str) -> HttpResponse:
    """Return the order's status block alone, polled by the order page while payment is pending.

    ``?s=<status>`` is the status the page shows: while it is still right the answer is 204 (htmx
    leaves the page alone, and screen readers are not told the same thing every second).
    """
    _shop, order = _order_or_404(request, shop, number)
    if request.GET.get("s") == order.status:
        return HttpResponse(status=204)
    return render(request, "storefront/_order_status.html", _status_context(request, order))


@require_POST
def order_retry(request: HttpRequest, shop: str, number: str) -> HttpResponse:
    """Put a declined order's items back in the cart so that the fan can try again."""
    shop_obj = open_shop_or_404(shop)
    _shop, order = _order_or_404(request, shop, number)
    if not order_declined(order):
        return see_other("storefront:cart", shop_obj.slug)
    account = request.user if request.user.is_authenticated else None
    cart = cart_get_or_create(shop=shop_obj, token=cart_token(request, shop_obj), account=account)
    remember_cart(request, shop_obj, cart)
    problems = cart_refill_from_order(shop=shop_obj, cart=cart, order=order)
    forget_count(request, shop_obj)  # the cart page it goes to counts it afresh
    if problems:
        messages.warning(request, " ".join(problems))
    else:
        messages.success(request, _("Your items are back in your cart."))
    return see_other("storefront:cart", shop_obj.slug)
