"""Writes of the catalogue: products, variants, images, and stock taken by orders."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils.text import slugify
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from kinfolk.catalog.changes import catalog_changed
from kinfolk.catalog.markdown import render_markdown
from kinfolk.catalog.models import Product, ProductImage, Variant
from kinfolk.core.errors import Conflict, InvalidInput, OutOfStock
from kinfolk.core.money import MAX_AMOUNT_MINOR, amount_too_large
from kinfolk.shops.models import Shop

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
ALLOWED_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}

P = ParamSpec("P")
R = TypeVar("R")


def _changes_catalog(func: Callable[P, R]) -> Callable[P, R]:
    """Tell the catalogue's change counter after ``func`` changed what shops show."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        result = func(*args, **kwargs)
        catalog_changed()
        return result

    return wrapper


def _clean(obj, *, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_unique=True)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidInput(
            " ".join(messages), field=None if field == "__all__" else field
        ) from None


def _unique_slug(shop: Shop, name: str, exclude_pk: int | None = None) -> str:
    # ASCII only: the field and the URL converters accept nothing else (a Korean name gives
    # "product", "product-2", ...; staff can set a slug of their own).
    base = slugify(name)[:70].strip("-") or "product"
    slug, n = base, 2
    taken = Product.objects.filter(shop=shop).exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@_changes_catalog
@transaction.atomic
def product_create(
    *,
    shop: Shop,
    name: str,
    kind: str = Product.Kind.PHYSICAL,
    status: str = Product.Status.DRAFT,
    description: str = "",
    slug: str = "",
    category: str = "",
    price: int,
    sku: str = "",
    stock: int | None = None,
    variant_name: str = "",
) -> Product:
    """Create a product with its first variant; ``stock=None`` means unlimited."""
    product = Product(
        shop=shop,
        name=name.strip(),
        kind=kind,
        status=status,
        description=description,
        description_html=render_markdown(description),
        slug=slug or _unique_slug(shop, name),
        category=category.strip(),
    )
    _clean(product)
    product.save()
    variant_create(
        shop=shop,
        product=product,
        sku=sku or f"{product.slug[:50]}-{product.pk}",
        name=variant_name,
        price=price,
        stock=stock,
    )
    return product


@_changes_catalog
@transaction.atomic
def product_update(*, shop: Shop, product: Product, **fields) -> Product:
    """Change a product's name, kind, status, category, description or slug."""
    if product.shop_id != shop.pk:
        raise InvalidInput(_("This product belongs to another shop."))
    allowed = {"name", "kind", "status", "category", "description", "slug", "position"}
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidInput(_("Cannot change %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    for key, value in fields.items():
        setattr(product, key, value)
    if "category" in fields:
        product.category = product.category.strip()
    if "description" in fields:
        product.description_html = render_markdown(product.description)
    _clean(product)
    product.save()
    return product


@_changes_catalog
@transaction.atomic
def variant_create(
    *,
    shop: Shop,
    product: Product,
    sku: str,
    price: int,
    name: str = "",
    stock: int | None = None,
) -> Variant:
    """Add a variant to ``product``."""
    if product.shop_id != shop.pk:
        raise InvalidInput(_("This product belongs to another shop."))
    if Variant.objects.filter(shop=shop, sku=sku).exists():
        raise InvalidInput(_("Another variant already uses this SKU."), field="sku")
    variant = Variant(shop=shop, product=product, sku=sku, name=name, price=price, stock=stock)
    _validate_variant(variant, currency=shop.currency)
    variant.save()
    return variant


class _AsLoaded:
    """The stock of the variant instance the caller passed (what it read before editing)."""


AS_LOADED = _AsLoaded()


@_changes_catalog
@transaction.atomic
def variant_update(
    *,
    shop: Shop,
    variant: Variant,
    sku: str,
    price: int,
    name: str = "",
    stock: int | None = None,
    stock_seen: int | None | _AsLoaded = AS_LOADED,
) -> Variant:
    """Change a variant's SKU, option name, price or stock.

    Orders take stock meanwhile, so a new ``stock`` is applied only if the stored stock still
    is ``stock_seen``, the figure the editor was shown (by default the stock of ``variant`` as
    the caller loaded it): one conditional write, never a stale figure written back. Raises
    Conflict (field "stock") when it changed; nothing is saved then.
    """
    if variant.shop_id != shop.pk:
        raise InvalidInput(_("This variant belongs to another shop."))
    if Variant.objects.filter(shop=shop, sku=sku).exclude(pk=variant.pk).exists():
        raise InvalidInput(_("Another variant already uses this SKU."), field="sku")
    if isinstance(stock_seen, _AsLoaded):
        stock_seen = variant.stock
    variant.sku, variant.price, variant.name, variant.stock = sku, price, name, stock
    _validate_variant(variant, currency=shop.currency)
    if stock != stock_seen:
        seen = Q(stock__isnull=True) if stock_seen is None else Q(stock=stock_seen)
        if not Variant.objects.filter(seen, pk=variant.pk, shop=shop).update(stock=stock):
            current = Variant.objects.filter(pk=variant.pk).values_list("stock", flat=True).get()
            raise Conflict(
                _("Stock changed to %(stock)s while you were editing; check and save again.")
                % {"stock": _("unlimited") if current is None else current},
                field="stock",
                code="stock_changed",
            )
    variant.save(update_fields=["sku", "price", "name"])
    variant.stock = Variant.objects.filter(pk=variant.pk).values_list("stock", flat=True).get()
    return variant


# Variant.stock is a 32-bit integer column on PostgreSQL.
MAX_STOCK = 2_147_483_647


def _validate_variant(variant: Variant, *, currency: str) -> None:
    if variant.price is None or variant.price < 0:
        raise InvalidInput(_("Enter a price of zero or more."), field="price")
    if variant.price > MAX_AMOUNT_MINOR:
        raise amount_too_large(currency, field="price")
    if variant.stock is not None and variant.stock < 0:
        raise InvalidInput(_("Stock cannot be negative."), field="stock")
    if variant.stock is not None and variant.stock > MAX_STOCK:
        raise InvalidInput(
            _("Enter a stock of at most %(max)s.") % {"max": f"{MAX_STOCK:,}"}, field="stock"
        )
    if not variant.sku.strip():
        raise InvalidInput(_("Enter a SKU."), field="sku")


def _verified_image_format(upload: UploadedFile) -> str:
    """Decode the upload with Pillow and return its format; raise InvalidInput if it is no image."""
    if upload.size and upload.size > MAX_IMAGE_BYTES:
        raise InvalidInput(_("Images can be at most 10 MB."), field="image")
    try:
        upload.seek(0)
        with Image.open(upload) as img:
            fmt = img.format
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise InvalidInput(_("This image has too many pixels."), field="image")
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput(_("This file is not an image we can read."), field="image") from None
    finally:
        upload.seek(0)
    if fmt not in ALLOWED_IMAGE_FORMATS:
        raise InvalidInput(_("Use a JPEG, PNG, WebP or GIF image."), field="image")
    return fmt


@_changes_catalog
@transaction.atomic
def product_image_add(
    *, shop: Shop, product: Product, upload: UploadedFile, alt: str = ""
) -> ProductImage:
    """Attach an image to a product after decoding it to prove it is one."""
    if product.shop_id != shop.pk:
        raise InvalidInput(_("This product belongs to another shop."))
    _verified_image_format(upload)
    position = product.images.count()
    image = ProductImage(shop=shop, product=product, alt=alt, position=position)
    image.image.save(upload.name, upload, save=False)
    image.save()
    return image


@_changes_catalog
def stock_take(*, shop: Shop, items: Iterable[tuple[int, int]]) -> None:
    """Take ``quantity`` of each tracked variant with one conditional UPDATE each.

    Must run inside the caller's transaction so that a later failure gives everything back.
    Variants are taken in id order so that concurrent orders lock rows in the same order.
    Raises OutOfStock naming the variant when there is not enough.
    """
    for variant_id, quantity in sorted(items):
        if quantity <= 0:
            raise InvalidInput(_("Quantities must be at least 1."), field="quantity")
        # One statement for tracked and unlimited variants alike: NULL minus anything stays NULL.
        taken = (
            Variant.objects.filter(pk=variant_id, shop=shop)
            .filter(Q(stock__isnull=True) | Q(stock__gte=quantity))
            .update(stock=F("stock") - quantity)
        )
        if taken:
            continue
        variant = Variant.objects.select_related("product").filter(pk=variant_id, shop=shop).first()
        if variant is None:
            raise InvalidInput(_("This item is no longer available."))
        raise OutOfStock(variant.shortage_message())


@_changes_catalog
def stock_return(*, shop: Shop, items: Iterable[tuple[int, int]]) -> None:
    """Give back stock taken by ``stock_take`` (a cancelled or declined order)."""
    for variant_id, quantity in sorted(items):
        Variant.objects.filter(pk=variant_id, shop=shop, stock__isnull=False).update(
            stock=F("stock") + quantity
        )
