"""Reads composed for the storefront's pages from the domain selectors."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max, OuterRef, Subquery, Sum
from django.utils.translation import gettext as _

from kinfolk.catalog.models import Product, ProductImage, Variant
from kinfolk.catalog.selectors import products_active
from kinfolk.core.prepared import PreparedQuery, PreparedRead
from kinfolk.orders.models import CartLine, Order, Payment, PaymentCallback
from kinfolk.orders.selectors import Quote, line_problem
from kinfolk.releases.models import Release
from kinfolk.shops.models import Shop


@dataclass(frozen=True)
class ProductCard:
    """A product as the shop's grid shows it."""

    product: Product
    image: ProductImage | None
    price: int  # the lowest variant price, minor units
    price_varies: bool
    sold_out: bool
    # The release's pricing (``Release.Pricing``) when the product is a digital release: its
    # card leads to the release page and says "Free" or "Pay what you want".
    release_pricing: str = ""


def product_cards(*, shop: Shop) -> list[ProductCard]:
    """Return the shop's products on sale as cards, in a fixed number of queries."""
    cards = []
    release_pricing = dict(Release.objects.filter(shop=shop).values_list("product_id", "pricing"))
    for product in products_active(shop=shop):
        variants = list(product.variants.all())
        if not variants:
            continue  # Nothing to buy yet.
        images = list(product.images.all())
        prices = {variant.price for variant in variants}
        cards.append(
            ProductCard(
                product=product,
                image=images[0] if images else None,
                price=min(prices),
                price_varies=len(prices) > 1,
                sold_out=not any(variant.in_stock for variant in variants),
                release_pricing=release_pricing.get(product.pk, ""),
            )
        )
    return cards


def product_price_range(variants: list[Variant]) -> tuple[int, bool]:
    """Return the lowest price among ``variants`` and whether their prices differ."""
    prices = {variant.price for variant in variants}
    return (min(prices) if prices else 0), len(prices) > 1


def cart_count(*, shop: Shop, token: str | None) -> int:
    """Return how many items the cart with ``token`` holds in ``shop`` (0 without a cart)."""
    if not token:
        return 0
    total = CartLine.objects.filter(cart__shop=shop, cart__token=token).aggregate(n=Sum("quantity"))
    return total["n"] or 0


@dataclass
class CartRow:
    """A cart line as the cart page shows it: server prices, first image, any problem."""

    line: CartLine
    image: ProductImage | None
    unit_price: int
    total: int
    problem: str
    error: str = ""  # what went wrong with the fan's last change of this line
    typed: str = ""  # the quantity they typed, shown back with the error


def cart_rows(quote: Quote) -> list[CartRow]:
    """Return the quote's lines with what the cart page needs (no further queries)."""
    rows = []
    for line in quote.lines:
        variant = line.variant
        images = list(variant.product.images.all())
        rows.append(
            CartRow(
                line=line,
                image=images[0] if images else None,
                unit_price=line.price_each,
                total=line.price_each * line.quantity,
                problem=_line_problem(line),
            )
        )
    return rows


def _line_problem(line: CartLine) -> str:
    variant = line.variant
    if not variant.product.is_active:
        return _("%(name)s is no longer available. Remove it to check out.") % {
            "name": variant.product.name
        }
    if variant.stock is not None and line.quantity > variant.stock:
        if variant.stock == 0:
            return _("%(name)s is sold out. Remove it to check out.") % {"name": variant}
        return variant.shortage_message()
    # A price the fan chose that no longer holds, or a download that became free.
    return line_problem(line)


_SHOP_BY_SLUG = PreparedQuery(lambda slug: Shop.objects.filter(slug=slug))


def shop_for_order_page(*, slug: str) -> Shop | None:
    """Return the shop ``slug`` even when closed: a fan can always see their orders."""
    found = _SHOP_BY_SLUG.objects(slug)
    return found[0] if found else None


def order_declined(order: Order) -> bool:
    """Return whether the order was cancelled because the provider declined its payment (and not,
    say, by the shop's staff)."""
    if order.status != Order.Status.CANCELLED:
        return False
    return PaymentCallback.objects.filter(payment__order=order, outcome="declined").exists()


def order_payment_url(order: Order) -> str:
    """Return the provider's page where the fan can still pay, if a payment is pending there."""
    if order.payment_provider == "manual":
        return ""  # paid outside the site: the order page itself holds the instructions
    pending = [p for p in order.payments.all() if p.status == Payment.Status.PENDING]
    if not pending or not pending[-1].redirect_url.startswith(("http", "/")):
        return ""  # none yet, or still being started (see orders.services.checkout)
    return pending[-1].redirect_url


# What a product page shows that can change, built once per process (see PreparedRead). Its
# values: the shop, the product, "active".
_PAGE_STATE = PreparedRead(
    lambda shop_id, slug, status: (
        Variant.objects.filter(shop_id=shop_id)
        .filter(product__slug=slug)
        .filter(product__status=status)
        .order_by("position", "id")
        .annotate(
            image_count=Subquery(
                _images().values("product_id").annotate(n=Count("id")).values("n")[:1]
            ),
            image_last=Subquery(
                _images().values("product_id").annotate(m=Max("id")).values("m")[:1]
            ),
        )
        .values_list(
            "product_id",
            "product__updated_at",
            "product__name",
            "product__description_html",
            "image_count",
            "image_last",
            "id",
            "name",
            "price",
            "stock",
        )
    )
)


def _images():
    return ProductImage.objects.filter(product_id=OuterRef("product_id")).order_by()


def product_page_state(*, shop: Shop, slug: str) -> tuple | None:
    """Return, in one query, everything the product page shows that can change: the product's
    name, description and last change (as the database gives it: a key, not for showing), its
    variants (name, price, how much stock as far as the page tells: none, 1 to 5, or more) and
    its images' count and newest id. None when the product is not on sale or has no variants."""
    rows = _PAGE_STATE.rows(shop.pk, slug, Product.Status.ACTIVE.value)
    state = tuple((*row[:-1], None if row[-1] is None else min(row[-1], 6)) for row in rows)
    return state or None
