"""The cart: add from a product page, change a quantity, remove a line.

With htmx each action answers with the changed fragments (the line, the totals, the header's
badge); without JavaScript it is an ordinary POST followed by a redirect.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kinfolk.catalog.selectors import variant_get_buyable
from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.orders.models import Cart
from kinfolk.orders.selectors import cart_quote
from kinfolk.orders.services.cart import (
    cart_add,
    cart_get,
    cart_new,
    cart_remove,
    cart_set_quantity,
)
from kinfolk.shops.models import Shop
from kinfolk.storefront.cart_session import (
    badge_count,
    cart_token,
    remember_cart,
    remember_count,
)
from kinfolk.storefront.selectors import cart_rows
from kinfolk.storefront.views.catalog import product_form_context, product_or_404, render_product
from kinfolk.storefront.views.shop_request import (
    is_htmx,
    open_shop_or_404,
    parse_id,
    parse_quantity,
    see_other,
)

# Longest input kept and shown back; anything longer is not a quantity anyway.
_TYPED_MAX = 40


def _cart_context(
    request: HttpRequest,
    shop: Shop,
    cart: Cart | None,
    *,
    line_errors: dict[int, str] | None = None,
    typed: dict[int, str] | None = None,
) -> dict:
    quote = cart_quote(shop=shop, cart=cart)
    remember_count(request, shop, quote.count)
    rows = cart_rows(quote)
    for row in rows:
        row.error = (line_errors or {}).get(row.line.pk, "")
        row.typed = (typed or {}).get(row.line.pk, "")
    return {
        "shop": shop,
        "quote": quote,
        "rows": rows,
        "cart_count": quote.count,
        "can_check_out": bool(quote.lines) and not quote.problems,
    }


@require_GET
def cart_page(request: HttpRequest, shop: str) -> HttpResponse:
    """Show the cart's lines with server prices and its subtotal."""
    shop_obj = open_shop_or_404(shop)
    cart = cart_get(shop=shop_obj, token=cart_token(request, shop_obj))
    return render(request, "storefront/cart.html", _cart_context(request, shop_obj, cart))


@require_POST
def cart_add_view(request: HttpRequest, shop: str) -> HttpResponse:
    """Add the chosen variant and quantity to the visitor's cart in this shop."""
    shop_obj = open_shop_or_404(shop)
    slug = request.POST.get("product", "")[:200]
    values = {
        "variant": request.POST.get("variant", "")[:_TYPED_MAX],
        "quantity": request.POST.get("quantity", "")[:_TYPED_MAX],
    }
    errors: dict[str, str] = {}
    variant_id = parse_id(values["variant"])
    variant = None
    if variant_id is not None:
        # One query both finds the variant and proves it belongs to this product.
        try:
            variant = variant_get_buyable(shop=shop_obj, variant_id=variant_id, product_slug=slug)
        except NotFound:
            variant = None
    if variant is None:
        errors["variant"] = _("Choose one of the options.")
    quantity = parse_quantity(values["quantity"])
    if quantity is None:
        errors["quantity"] = _("Enter a whole number, e.g. 1.")
    elif quantity < 1:
        errors["quantity"] = _("Choose a quantity of at least 1.")
    if not errors:
        account = request.user if request.user.is_authenticated else None
        # A first add stores the new cart together with its line (see cart_new).
        cart = cart_get(shop=shop_obj, token=cart_token(request, shop_obj)) or cart_new(
            shop=shop_obj, account=account
        )
        try:
            line = cart_add(
                shop=shop_obj, cart=cart, variant_id=variant_id, quantity=quantity, variant=variant
            )
        except NotFound as exc:
            errors["variant"] = exc.message
        except InvalidInput as exc:
            field = exc.field if exc.field in {"variant", "price"} else "quantity"
            errors[field] = exc.message
        else:
            remember_cart(request, shop_obj, cart)
            remember_count(request, shop_obj, line.cart_count)

    if not errors and not is_htmx(request):
        messages.success(
            request, _("Added %(product)s to your cart.") % {"product": variant.product.name}
        )
        return see_other("storefront:cart", shop_obj.slug)
    # The form is shown again: it needs the whole product (an unknown one is a 404).
    product = product_or_404(shop_obj, slug)
    if is_htmx(request):
        context = product_form_context(
            product,
            values=values if errors else {"variant": values["variant"]},
            errors=errors,
            added=0 if errors else quantity,
        )
        context["shop"] = shop_obj
        context["cart_count"] = badge_count(request, shop_obj)
        return render(request, "storefront/_product_added.html", context)
    return render_product(request, shop_obj, product, status=400, values=values, errors=errors)


@require_POST
def cart_line_update(request: HttpRequest, shop: str, line_id: int) -> HttpResponse:
    """Set a line's quantity (0 removes it); an error is shown beside the line, input kept."""
    shop_obj = open_shop_or_404(shop)
    cart = cart_get(shop=shop_obj, token=cart_token(request, shop_obj))
    typed = request.POST.get("quantity", "")[:_TYPED_MAX]
    quantity = parse_quantity(typed)
    error = ""
    if cart is None:
        return _line_gone(request, shop_obj)
    if quantity is None:
        error = _("Enter a whole number, e.g. 1.")
    elif quantity < 0:
        error = _("Enter 0 or more; 0 removes the item.")
    else:
        try:
            cart_set_quantity(shop=shop_obj, cart=cart, line_id=line_id, quantity=quantity)
        except NotFound:
            return _line_gone(request, shop_obj)
        except InvalidInput as exc:
            error = exc.message
    return _line_response(request, shop_obj, cart, line_id, error=error, typed=typed)


@require_POST
def cart_line_remove(request: HttpRequest, shop: str, line_id: int) -> HttpResponse:
    """Remove a line from the cart."""
    shop_obj = open_shop_or_404(shop)
    cart = cart_get(shop=shop_obj, token=cart_token(request, shop_obj))
    if cart is not None:
        cart_remove(shop=shop_obj, cart=cart, line_id=line_id)
    return _line_response(request, shop_obj, cart, line_id)


def _line_response(
    request: HttpRequest,
    shop: Shop,
    cart: Cart | None,
    line_id: int,
    *,
    error: str = "",
    typed: str = "",
) -> HttpResponse:
    line_errors = {line_id: error} if error else {}
    context = _cart_context(
        request, shop, cart, line_errors=line_errors, typed={line_id: typed} if error else {}
    )
    if is_htmx(request):
        context["row"] = next((r for r in context["rows"] if r.line.pk == line_id), None)
        return render(request, "storefront/_cart_update.html", context)
    if error:
        return render(request, "storefront/cart.html", context, status=400)
    return see_other("storefront:cart", shop.slug)


def _line_gone(request: HttpRequest, shop: Shop) -> HttpResponse:
    message = _("This item is no longer in your cart.")
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        messages.info(request, message)
        return response
    messages.info(request, message)
    return see_other("storefront:cart", shop.slug)
