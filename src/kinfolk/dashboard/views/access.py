"""Who may open a dashboard page, and what its URL names: every shop page goes through ``shop_view``.

``shop_view`` logs the visitor in, resolves the shop among those they belong to and every object
the URL names within that shop (404 otherwise, before anything else: a staff member of one shop
learns nothing about another), then checks the HTTP method and shows times in the shop's zone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from kinfolk.catalog.selectors import product_get_for_staff
from kinfolk.core.errors import NotFound
from kinfolk.crm.selectors import (
    customer_get_for_shop,
    import_run_get_for_shop,
    segment_get_for_shop,
)
from kinfolk.drops.selectors import edition_get_for_shop
from kinfolk.gallery.selectors import upload_get_for_shop
from kinfolk.orders.selectors import order_get_for_shop
from kinfolk.referrals.selectors import reward_rule_get_for_shop
from kinfolk.releases.selectors import release_get_for_shop
from kinfolk.shops.models import Shop
from kinfolk.shops.selectors import access_shop, shops_for_staff


def _variant_of(product, variant_id: int):
    for variant in product.variants.all():
        if variant.pk == variant_id:
            return variant
    raise NotFound(_("No such variant."))


def _load_objects(shop: Shop, kwargs: dict) -> dict:
    """Return the URL's objects looked up within ``shop``; raise NotFound for any other."""
    kwargs = dict(kwargs)
    objects = {}
    if "number" in kwargs:
        objects["order"] = order_get_for_shop(shop=shop, number=kwargs.pop("number"))
    if "product_id" in kwargs:
        objects["product"] = product_get_for_staff(shop=shop, product_id=kwargs.pop("product_id"))
    if "variant_id" in kwargs:
        if "product" not in objects:
            raise ImproperlyConfigured("A variant URL must name its product.")
        objects["variant"] = _variant_of(objects["product"], kwargs.pop("variant_id"))
    if "customer_id" in kwargs:
        objects["customer"] = customer_get_for_shop(
            shop=shop, customer_id=kwargs.pop("customer_id")
        )
    if "segment_id" in kwargs:
        objects["segment"] = segment_get_for_shop(shop=shop, segment_id=kwargs.pop("segment_id"))
    if "import_id" in kwargs:
        objects["import_run"] = import_run_get_for_shop(
            shop=shop, import_id=kwargs.pop("import_id")
        )
    if "edition_id" in kwargs:
        objects["edition"] = edition_get_for_shop(shop=shop, edition_id=kwargs.pop("edition_id"))
    if "release_id" in kwargs:
        objects["release"] = release_get_for_shop(shop=shop, release_id=kwargs.pop("release_id"))
    if "upload_id" in kwargs:
        objects["upload"] = upload_get_for_shop(shop=shop, upload_id=kwargs.pop("upload_id"))
    if "rule_id" in kwargs:
        objects["rule"] = reward_rule_get_for_shop(shop=shop, rule_id=kwargs.pop("rule_id"))
    if kwargs:
        # A URL argument nobody scopes to the shop would open another shop's rows.
        raise ImproperlyConfigured(f"No shop-scoped lookup for URL arguments {sorted(kwargs)}.")
    return objects


def shop_view(*, methods: Sequence[str] = ("GET",)) -> Callable:
    """Decorate a view ``view(request, shop, **objects)`` of one shop's dashboard."""
    allowed = list(methods) + (["HEAD"] if "GET" in methods else [])

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, shop: str, **kwargs) -> HttpResponse:
            try:
                shop_obj = access_shop(user=request.user, slug=shop)
                objects = _load_objects(shop_obj, kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from None
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            with timezone.override(shop_obj.tzinfo):
                try:
                    return view(request, shop_obj, **objects)
                except NotFound as exc:
                    raise Http404(exc.message) from None

        return wrapper

    return decorate


def dashboard_render(
    request: HttpRequest,
    shop: Shop | None,
    template: str,
    context: dict | None = None,
    *,
    section: str = "",
    status: int = 200,
) -> HttpResponse:
    """Render a dashboard page with what the header needs: the shop, the others, the section."""
    context = {
        "shop": shop,
        "staff_shops": list(shops_for_staff(user=request.user)),
        "section": section,
        **(context or {}),
    }
    return render(request, template, context, status=status)
