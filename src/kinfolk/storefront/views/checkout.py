"""Checkout on one page: e-mail, shipping address, payment method and the server's totals.

The form keeps its idempotency key across re-renders, so a double submit or a retry after an
error places at most one order; ``expected_total`` is the total the fan saw, so a price that
changed meanwhile is shown again before anything is charged.
"""

from __future__ import annotations

import logging
import re
import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kinfolk.catalog.models import Variant
from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput, KinfolkError, OutOfStock
from kinfolk.drops.models import Edition, Hold
from kinfolk.drops.selectors import editions_for_variants, holds_of_fan
from kinfolk.drops.services.checkout import (
    CartItem,
    HoldNeeded,
    checkout_holds_check,
    hold_attach_order,
)
from kinfolk.orders.emails import order_page_url
from kinfolk.orders.models import Cart, CartLine, Order
from kinfolk.orders.payments import enabled_providers
from kinfolk.orders.selectors import (
    Quote,
    cart_lines,
    cart_with_lines,
    checkout_discount_offers,
    quote_discount,
    quote_lines,
)
from kinfolk.orders.services.checkout import PaymentNotStarted, order_place
from kinfolk.referrals.services import referral_attribute
from kinfolk.referrals.web import referral_kwargs
from kinfolk.shops.models import Shop
from kinfolk.storefront import hold_session
from kinfolk.storefront.address_form import (
    MAX_LENGTH,
    address_field_order,
    address_from,
    address_spec,
    country_choices,
    country_options,
    region_options,
    region_options_html,
)
from kinfolk.storefront.cart_session import cart_token, forget_count, remember_count
from kinfolk.storefront.views.drops import hold_left_text
from kinfolk.storefront.views.shop_request import is_htmx, open_shop_or_404, see_other

logger = logging.getLogger(__name__)

FIELDS = (
    "email",
    "name",
    "country_code",
    "street_address",
    "city",
    "country_area",
    "postal_code",
    "payment_provider",
    "discount_code",
)
_KEY = re.compile(r"^[0-9a-f]{32}$")
_TOTAL = re.compile(r"^[0-9]{1,18}$")
# Read with each cart line: whether its variant is an edition, whose copy needs the fan's hold.
CART_RELATED = ("variant__edition",)
# Where a service's field names differ from this form's.
_FIELD_ALIASES = {"country": "country_code"}


def _initial_values(request: HttpRequest, shop: Shop, countries: list[tuple[str, str]]) -> dict:
    user = request.user
    codes = {code for code, _name in countries}
    providers = enabled_providers()
    values = dict.fromkeys(FIELDS, "")
    values.update(
        email=user.email if user.is_authenticated else "",
        name=user.name if user.is_authenticated else "",
        country_code=shop.country if shop.country in codes else "",
        payment_provider=providers[0].code if providers else "",
    )
    return values


def _posted_values(request: HttpRequest) -> dict:
    # NUL characters are dropped: no browser types them, and PostgreSQL stores none.
    values = {
        field: request.POST.get(field, "").replace("\x00", "").strip()[:MAX_LENGTH]
        for field in FIELDS
    }
    values["country_code"] = values["country_code"].upper()[:2]
    return values


def _quote(
    request: HttpRequest, shop: Shop, lines: list[CartLine], values: dict, errors: dict
) -> Quote:
    """Return the cart's quote with shipping to the chosen country when the shop ships there,
    and the typed discount code's discount."""
    country = values["country_code"]
    quote = None
    if country:
        try:
            quote = quote_lines(shop=shop, lines=lines, country=country)
        except InvalidInput as exc:
            errors.setdefault("country_code", exc.message)
    if quote is None:
        quote = quote_lines(shop=shop, lines=lines)
    if values["discount_code"]:
        try:
            quote_discount(
                shop=shop,
                quote=quote,
                code=values["discount_code"],
                email=values["email"],
                account=request.user,
            )
        except InvalidInput as exc:
            errors.setdefault("discount_code", exc.message)
    return quote


def _cart_holds(
    request: HttpRequest, shop: Shop, lines: list[CartLine], *, email: str | None = None
) -> list[Hold]:
    """Return the fan's holds that the cart's edition lines are bought through.

    Only holds this session took (or claimed from an offer e-mail) or the fan's account took
    count: a hold token seen anywhere else pays for nothing. Raises HoldNeeded or InvalidInput
    (see ``checkout_holds_check``).
    """
    items = [CartItem(variant_id=line.variant_id, quantity=line.quantity) for line in lines]
    editions = _editions(shop, lines)
    if not editions:
        return []
    holds = holds_of_fan(
        shop=shop,
        editions=list(editions.values()),
        tokens=hold_session.held_tokens(request),
        account=request.user,
    )
    return checkout_holds_check(items=items, editions=editions, holds=holds, email=email)


def _editions(shop: Shop, lines: list[CartLine]) -> dict[int, Edition]:
    """Return the editions the lines' variants are sold as, by variant id (products loaded):
    from the lines when they were read with them (``CART_RELATED``), else read here."""
    if not all(Variant.edition.is_cached(line.variant) for line in lines):
        return editions_for_variants(shop=shop, variant_ids=[line.variant_id for line in lines])
    editions = {}
    for line in lines:
        edition = getattr(line.variant, "edition", None)
        if edition is None or edition.shop_id != shop.pk:
            continue
        if edition.product_id == line.variant.product_id:
            edition.product = line.variant.product
        editions[line.variant_id] = edition
    return editions


def _cart(request: HttpRequest, shop: Shop) -> tuple[Cart | None, list[CartLine]]:
    """Return the visitor's cart in ``shop`` and its lines, with what checkout needs of them."""
    return cart_with_lines(
        shop=shop, token=cart_token(request, shop), images=False, related=CART_RELATED
    )


def _drop_link(shop: Shop, exc: KinfolkError) -> str:
    edition = getattr(exc, "edition", None)
    if edition is None:
        return ""
    return reverse("storefront:drop", args=[shop.slug, edition.product.slug])


def _hold_context(request: HttpRequest, shop: Shop, quote: Quote) -> dict:
    """Return the timers of the fan's holds on the cart's editions, or the problem with them."""
    now = clock.now()
    try:
        holds = _cart_holds(request, shop, quote.lines)
    except KinfolkError as exc:
        return {
            "hold_timers": [],
            "hold_problem": exc.message,
            "drop_link": _drop_link(shop, exc),
            "hold_cart_link": exc.code == "one_copy",
        }
    timers = [{"hold": hold, "left": hold_left_text(hold, now)} for hold in holds]
    return {
        "hold_timers": timers,
        "hold_problem": "",
        "drop_link": "",
        "hold_cart_link": False,
        "server_now": now.isoformat(),
    }


def _attach_holds(shop: Shop, holds: list[Hold], order: Order) -> None:
    """Note on each hold that ``order`` pays for it (paying then sells its copy)."""
    for hold in holds:
        try:
            hold_attach_order(shop=shop, token=hold.token, order=order)
        except KinfolkError:
            # Paying still finds the fan's hold by the order's address; nothing is lost.
            logger.warning("hold %s not attached to order %s", hold.pk, order.number)


def _context(
    request: HttpRequest,
    shop: Shop,
    lines: list[CartLine],
    *,
    values: dict,
    key: str,
    errors: dict | None = None,
    top_error: str = "",
    cart_link: bool = False,
    countries: list[tuple[str, str]] | None = None,
) -> dict:
    """Return the checkout page's context for the cart's ``lines`` (see ``_cart``)."""
    errors = dict(errors or {})
    if countries is None:
        countries = country_choices(shop=shop)
    if values["country_code"] and values["country_code"] not in dict(countries):
        errors.setdefault("country_code", _("Choose a country from the list."))
        values = {**values, "country_code": ""}
    quote = _quote(request, shop, lines, values, errors)
    remember_count(request, shop, quote.count)
    spec = address_spec(values["country_code"])
    regions = region_options(spec)
    drop = _hold_context(request, shop, quote)
    if quote.problems and not top_error:
        # Shown before the fan confirms (a price changed, an item sold out), with the way to
        # the cart where it is put right.
        top_error, cart_link = " ".join(quote.problems), True
    if drop["hold_problem"] and not top_error:
        top_error = drop["hold_problem"]
        cart_link = cart_link or drop["hold_cart_link"]
    return {
        **drop,
        "shop": shop,
        "cart_count": quote.count,
        "quote": quote,
        # What the summary shows of each line (no images: checkout reads none).
        "rows": [{"line": line, "total": line.price_each * line.quantity} for line in quote.lines],
        "values": values,
        "errors": errors,
        "top_error": top_error,
        "cart_link": cart_link,
        "idempotency_key": key,
        "countries": countries,
        "country_options": country_options(countries, values["country_code"]),
        "spec": spec,
        "regions": regions,
        "region_options": region_options_html(regions, values["country_area"]),
        "field_order": address_field_order(spec),
        "optional_fields": {
            field: field not in spec.required for field in ("city", "country_area", "postal_code")
        },
        "providers": enabled_providers(),
        "expected_total": quote.total.amount,
        "discount_offers": [
            offer
            for offer in checkout_discount_offers(shop=shop, account=request.user)
            if quote.discount is None or offer.code != quote.discount.code
        ],
    }


@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, shop: str) -> HttpResponse:
    """Show the checkout form; on POST place the order and send the fan on to pay."""
    shop_obj = open_shop_or_404(shop)
    if request.method == "GET":
        _cart_obj, lines = _cart(request, shop_obj)
        if not lines:
            return _empty_cart(request, shop_obj)
        countries = country_choices(shop=shop_obj)
        context = _context(
            request,
            shop_obj,
            lines,
            values=_initial_values(request, shop_obj, countries),
            key=uuid.uuid4().hex,
            countries=countries,
        )
        if context["hold_timers"] and not context["values"]["email"]:
            context["values"]["email"] = context["hold_timers"][0]["hold"].email
        # The form's fields before anyone typed (a visitor, nothing filled in) are the same for
        # every visitor of the shop: the page keeps them a minute (never anyone's own input).
        context["fields_cacheable"] = (
            not request.user.is_authenticated
            and not context["errors"]
            and not any(context["values"][field] for field in ("email", "name"))
        )
        return render(request, "storefront/checkout.html", context)

    values = _posted_values(request)
    key = request.POST.get("idempotency_key", "")
    key = key if _KEY.match(key) else uuid.uuid4().hex
    # Read once, without images: the holds and the order are judged on these lines (the order's
    # transaction checks that the cart still holds them).
    cart, lines = _cart(request, shop_obj)
    if cart is None:
        return _empty_cart(request, shop_obj)

    offered = request.POST.get("use_discount", "").strip()
    if offered:
        values["discount_code"] = offered[:MAX_LENGTH]
    if offered or request.POST.get("action") == "apply_discount":
        # "Apply" only shows the new totals; the fan confirms the order afterwards.
        return _rerender(request, shop_obj, cart, values=values, key=key, status=200)
    raw_total = request.POST.get("expected_total", "").strip()
    if not _TOTAL.match(raw_total):
        message = _("The total has changed. Check your order below and confirm again.")
        return _rerender(request, shop_obj, cart, values=values, key=key, top_error=message)
    try:
        holds = _cart_holds(request, shop_obj, lines, email=values["email"])
    except HoldNeeded as exc:
        return _rerender(
            request, shop_obj, cart, values=values, key=key, top_error=exc.message, status=409
        )
    except InvalidInput as exc:
        errors, top_error = _split_errors(exc)
        return _rerender(
            request, shop_obj, cart, values=values, key=key, errors=errors, top_error=top_error
        )
    try:
        placed = order_place(
            shop=shop_obj,
            cart=cart,
            email=values["email"],
            address=address_from(values),
            payment_provider=values["payment_provider"],
            idempotency_key=key,
            expected_total=int(raw_total),
            return_url_for=order_page_url,
            account=request.user,
            language=request.LANGUAGE_CODE,
            discount_code=values["discount_code"],
            lines=lines,
        )
    except PaymentNotStarted as exc:
        # The order exists; the same key submitted again starts its payment (see order_place).
        _attach_holds(shop_obj, holds, exc.placed.order)
        forget_count(request, shop_obj)
        context = {
            "shop": shop_obj,
            "cart_count": 0,
            "message": exc.message,
            "order": exc.placed.order,
            "order_url": order_page_url(exc.placed.order),
            "values": values,
            "idempotency_key": key,
            "expected_total": raw_total,
        }
        return render(request, "storefront/payment_retry.html", context, status=exc.status)
    except OutOfStock as exc:
        return _rerender(
            request,
            shop_obj,
            cart,
            values=values,
            key=key,
            top_error=exc.message,
            cart_link=True,
            status=409,
        )
    except InvalidInput as exc:
        if exc.code == "empty_cart":
            return _empty_cart(request, shop_obj)
        errors, top_error = _split_errors(exc)
        return _rerender(
            request,
            shop_obj,
            cart,
            values=values,
            key=key,
            errors=errors,
            top_error=top_error,
            cart_link=exc.code == "cart_changed",
        )
    except KinfolkError as exc:
        return _rerender(
            request,
            shop_obj,
            cart,
            values=values,
            key=key,
            top_error=exc.message,
            status=exc.status,
        )
    _attach_holds(shop_obj, holds, placed.order)
    if placed.created:
        _attribute(request, shop_obj, placed.order)
        remember_count(request, shop_obj, 0)  # the new order took the whole cart
    else:
        forget_count(request, shop_obj)  # an earlier submit's order: count the cart afresh
    return see_other(placed.redirect_url)


def _attribute(request: HttpRequest, shop: Shop, order: Order) -> None:
    """Note who brought the buyer (their first-touch cookie), so that paying credits that fan."""
    touch = referral_kwargs(request, shop=shop)
    if not touch:
        return
    try:
        referral_attribute(shop=shop, customer=order.customer, **touch)
    except KinfolkError:
        logger.warning("order %s not attributed to a share link", order.number, exc_info=True)


def _split_errors(exc: InvalidInput) -> tuple[dict[str, str], str]:
    """Return the errors shown beside fields and the message shown above the form."""
    errors, top = {}, []
    for field, message in exc.errors.items():
        field = _FIELD_ALIASES.get(field, field)
        if field in FIELDS:
            errors[field] = message
        else:
            top.append(message)
    if not errors and not top:
        top.append(exc.message)
    return errors, " ".join(top)


def _rerender(
    request: HttpRequest,
    shop: Shop,
    cart: Cart,
    *,
    values: dict,
    key: str,
    status: int = 400,
    **problems,
) -> HttpResponse:
    lines = cart_lines(shop=shop, cart=cart, images=False, related=CART_RELATED)
    if not lines:
        return _empty_cart(request, shop)
    context = _context(request, shop, lines, values=values, key=key, **problems)
    return render(request, "storefront/checkout.html", context, status=status)


def _empty_cart(request: HttpRequest, shop: Shop) -> HttpResponse:
    messages.info(request, _("Your cart is empty. Add something before checking out."))
    return see_other("storefront:cart", shop.slug)


@require_POST
def checkout_address(request: HttpRequest, shop: str) -> HttpResponse:
    """Answer a change of country: that country's address fields and the new totals (htmx)."""
    shop_obj = open_shop_or_404(shop)
    if not is_htmx(request):
        return see_other("storefront:checkout", shop_obj.slug)
    _cart_obj, lines = _cart(request, shop_obj)
    key = request.POST.get("idempotency_key", "")
    context = _context(
        request,
        shop_obj,
        lines,
        values=_posted_values(request),
        key=key if _KEY.match(key) else uuid.uuid4().hex,
    )
    return render(request, "storefront/_checkout_address.html", context)
