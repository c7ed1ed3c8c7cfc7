"""Browsing: the platform's list of shops, a shop's products, one product."""

from __future__ import annotations

import hashlib
import time

from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.views.decorators.http import require_GET

from kinfolk.catalog.changes import catalog_generation
from kinfolk.catalog.models import Product
from kinfolk.catalog.selectors import product_get_active
from kinfolk.core.errors import NotFound
from kinfolk.core.money import Money
from kinfolk.drops.models import Edition
from kinfolk.referrals.web import remembered_customer_id, share_context
from kinfolk.releases.models import Release
from kinfolk.shops.models import Shop
from kinfolk.shops.selectors import shops_open
from kinfolk.storefront.cart_session import badge_count
from kinfolk.storefront.selectors import (
    product_cards,
    product_page_state,
    product_price_range,
)
from kinfolk.storefront.views.shop_request import cart_link_html, open_shop_or_404, shop_context


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """List the shops open to fans."""
    return render(request, "storefront/home.html", {"shops": list(shops_open())})


@require_GET
def shop_page(request: HttpRequest, shop: str) -> HttpResponse:
    """Show the shop's header and its grid of products on sale."""
    shop_obj = open_shop_or_404(shop)
    context = shop_context(request, shop_obj)
    context["cards"] = product_cards(shop=shop_obj)
    path = reverse("storefront:shop", args=[shop_obj.slug])
    context["og"] = {
        "title": shop_obj.name,
        "site_name": shop_obj.name,
        "description": Truncator(" ".join(shop_obj.description.split()) or shop_obj.name).chars(
            200
        ),
        "url": request.build_absolute_uri(path),
        "image": request.build_absolute_uri(shop_obj.logo.url) if shop_obj.logo else "",
        "image_alt": shop_obj.name,
    }
    context.update(share_context(request, shop=shop_obj, path=path, title=shop_obj.name))
    return render(request, "storefront/shop.html", context)


def product_or_404(shop: Shop, slug: str) -> Product:
    """Return the shop's active product ``slug`` or raise Http404."""
    try:
        return product_get_active(shop=shop, slug=slug)
    except NotFound:
        raise Http404("No such product.") from None


def product_form_context(
    product: Product,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    added: int = 0,
) -> dict:
    """Return the context of the add-to-cart form (also rendered alone for htmx)."""
    variants = list(product.variants.all())
    buyable = [variant for variant in variants if variant.in_stock]
    values = dict(values or {})
    if not values.get("variant") and (buyable or variants):
        values["variant"] = str((buyable or variants)[0].pk)
    values.setdefault("quantity", "1")
    price, varies = product_price_range(variants)
    return {
        "product": product,
        "variants": variants,
        "sold_out": not buyable,
        "price": price,
        "price_varies": varies,
        "values": values,
        "errors": errors or {},
        "added": added,
        # A numbered edition is bought through its drop page (a hold, then checkout), never
        # straight into the cart.
        "is_edition": Edition.objects.filter(product=product).exists(),
        # A digital release is given or sold from its release page (price rule, e-mail gate).
        "is_release": product.kind == Product.Kind.DIGITAL
        and Release.objects.filter(product=product).exists(),
    }


def render_product(
    request: HttpRequest, shop: Shop, product: Product, *, status: int = 200, **form
) -> HttpResponse:
    """Render the product page with its add-to-cart form in the state ``form`` describes."""
    context = shop_context(request, shop)
    context.update(product_form_context(product, **form))
    context["images"] = list(product.images.all())
    context["og"] = _open_graph(request, shop, product, context)
    context.update(_product_share(request, shop, product))
    return render(request, "storefront/product.html", context, status=status)


def _product_share(request: HttpRequest, shop: Shop, product: Product) -> dict:
    path = reverse("storefront:product", args=[shop.slug, product.slug])
    return share_context(request, shop=shop, path=path, title=f"{product.name} · {shop.name}")


def _open_graph(request: HttpRequest, shop: Shop, product: Product, context: dict) -> dict:
    images = context["images"]
    summary = " ".join(strip_tags(product.description_html).split())
    return {
        "type": "product",
        "site_name": shop.name,
        "title": f"{product.name} · {shop.name}",
        "description": Truncator(summary or shop.description or product.name).chars(200),
        "url": request.build_absolute_uri(
            reverse("storefront:product", args=[shop.slug, product.slug])
        ),
        "image": request.build_absolute_uri(images[0].image.url) if images else "",
        "image_alt": (images[0].alt or product.name) if images else "",
        "price": Money(context["price"], shop.currency).to_decimal(),
        "currency": shop.currency,
        "availability": "out of stock" if context["sold_out"] else "in stock",
    }


# The product page as an anonymous visitor first sees it is rendered once per state of the
# product (see product_page_state), language and address, and kept in Django's cache; what
# differs per visitor (the CSRF token, the cart badge) fills these slots on every request.
_CSRF_SLOT = "csrf-slot-8c1f0b7e"
_CART_SLOT = mark_safe("<!--cart-slot-8c1f0b7e-->")
PAGE_CACHE_SECONDS = 600


# In front of that, each worker keeps the pages it served in the last MICROCACHE_SECONDS in
# memory: in a rush (a drop announced, a link shared) the same few pages are asked for hundreds
# of times a second, and these answers cost no query at all. The catalogue's change counter is
# part of the key, so a change made through this process shows at once; a change made in another
# worker process shows within MICROCACHE_SECONDS. Checkout and the cart always read the database.
MICROCACHE_SECONDS = 2.0
MICROCACHE_SIZE = 512
_microcache: dict[tuple, tuple[float, str]] = {}


@require_GET
def product_page(request: HttpRequest, shop: str, product: str) -> HttpResponse:
    """Show one product: images, price, description and the add-to-cart form."""
    shop_obj = open_shop_or_404(shop)
    if (
        request.GET
        or request.user.is_authenticated
        or len(messages.get_messages(request))
        # A visitor the shop knows (e-mail gate) sees their own share link: not a shared page.
        or remembered_customer_id(request, shop_obj) is not None
    ):
        return render_product(request, shop_obj, product_or_404(shop_obj, product))
    page = _cached_page(request, shop_obj, product)
    if page is None:
        return render_product(request, shop_obj, product_or_404(shop_obj, product))
    count = badge_count(request, shop_obj)
    page = page.replace(_CSRF_SLOT, get_token(request)).replace(
        _CART_SLOT, cart_link_html(shop_obj.slug, count)
    )
    return HttpResponse(page)


def _cached_page(request: HttpRequest, shop: Shop, slug: str) -> str | None:
    """Return the product page with its per-visitor slots, from memory, the cache or rendered."""
    language = translation.get_language()
    url = request.build_absolute_uri()
    local_key = (shop.pk, slug, language, url, catalog_generation())
    now = time.monotonic()
    hit = _microcache.get(local_key)
    if hit is not None and hit[0] > now:
        return hit[1]
    state = product_page_state(shop=shop, slug=slug)
    if state is None:
        return None
    key = (
        "product-page:"
        + hashlib.sha256(
            repr(
                (
                    state,
                    (shop.pk, shop.slug, shop.name, shop.description),
                    shop.currency,
                    language,
                    url,
                )
            ).encode()
        ).hexdigest()
    )
    page = cache.get(key)
    if page is None:
        page = _render_page_with_slots(request, shop, product_or_404(shop, slug))
        cache.set(key, page, PAGE_CACHE_SECONDS)
    if len(_microcache) >= MICROCACHE_SIZE:
        _microcache.clear()
    _microcache[local_key] = (now + MICROCACHE_SECONDS, page)
    return page


def _render_page_with_slots(request: HttpRequest, shop: Shop, product: Product) -> str:
    context = {"shop": shop, "cart_count": 0, "cart_link_html": _CART_SLOT}
    context.update(product_form_context(product))
    context["images"] = list(product.images.all())
    context["og"] = _open_graph(request, shop, product, context)
    # Every anonymous visitor shares the page's plain link: the same for all of them.
    context.update(_product_share(request, shop, product))
    # The visitor's own values are left out: they fill the slots afterwards.
    context.update(csrf_token=_CSRF_SLOT, messages=())
    return render_to_string("storefront/product.html", context, request=request)
