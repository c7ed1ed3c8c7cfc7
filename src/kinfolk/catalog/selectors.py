"""Reads of the catalogue; each takes the shop first and never returns another shop's rows."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from kinfolk.catalog.models import Product, ProductImage, Variant
from kinfolk.core.errors import NotFound
from kinfolk.core.prepared import PreparedQuery
from kinfolk.crm.share import CatalogueProduct
from kinfolk.shops.models import Shop


def products_active(*, shop: Shop) -> QuerySet[Product]:
    """Return the shop's products on sale, with variants and images prefetched."""
    return Product.objects.filter(shop=shop, status=Product.Status.ACTIVE).prefetch_related(
        Prefetch("variants", queryset=Variant.objects.order_by("position", "id")),
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
    )


def product_get_active(*, shop: Shop, slug: str) -> Product:
    """Return the active product ``slug`` of ``shop`` or raise NotFound."""
    product = products_active(shop=shop).filter(slug=slug).first()
    if product is None:
        raise NotFound(_("This product is not available."))
    return product


# A variant of a product on sale, as a product page's form adds it to the cart (compiled once
# per process: see core.prepared). Its values: the variant, the shop, "active", the product.
_BUYABLE_FROM_PAGE = PreparedQuery(
    lambda variant_id, shop_id, status, slug: (
        Variant.objects.select_related("product")
        .filter(pk=variant_id)
        .filter(shop_id=shop_id)
        .filter(product__status=status)
        .filter(product__slug=slug)
    )
)


def variant_get_buyable(*, shop: Shop, variant_id: int, product_slug: str | None = None) -> Variant:
    """Return a variant of an active product of ``shop`` (of the product ``product_slug`` when
    given), its product loaded, or raise NotFound."""
    active = Product.Status.ACTIVE.value
    if product_slug is not None:
        found = _BUYABLE_FROM_PAGE.objects(variant_id, shop.pk, active, product_slug)
    else:
        found = list(
            Variant.objects.select_related("product").filter(
                pk=variant_id, shop=shop, product__status=active
            )
        )
    if not found:
        raise NotFound(_("This item is not available."))
    return found[0]


def products_for_staff(*, shop: Shop, status: str | None = None) -> QuerySet[Product]:
    """Return every product of ``shop`` (any status) for its staff, variants prefetched."""
    qs = Product.objects.filter(shop=shop).prefetch_related("variants", "images")
    if status:
        qs = qs.filter(status=status)
    return qs


def product_get_for_staff(*, shop: Shop, product_id: int) -> Product:
    product = products_for_staff(shop=shop).filter(pk=product_id).first()
    if product is None:
        raise NotFound(_("No such product."))
    return product


def catalogue_for_crm(*, shop: Shop) -> list[CatalogueProduct]:
    """Return every product of ``shop``, in any status, as the CRM's customer share measures fans
    against them (id, name, category, on sale), in one query."""
    rows = Product.objects.filter(shop=shop).values_list("pk", "name", "category", "status")
    return [
        CatalogueProduct(pk, name, category, status == Product.Status.ACTIVE)
        for pk, name, category, status in rows
    ]
