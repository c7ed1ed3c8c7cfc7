"""Reads of carts and orders; each takes the shop (or the account) first."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _

from kinfolk.catalog.models import ProductImage
from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.core.money import Money
from kinfolk.core.prepared import PreparedQuery
from kinfolk.orders import extensions
from kinfolk.orders.extensions import Discount, discount_find, discount_offers
from kinfolk.orders.models import Cart, CartLine, Order, OrderLine
from kinfolk.shops.models import ShippingZone, Shop
from kinfolk.shops.selectors import shipping_rate_for


@dataclass
class Quote:
    """What a cart costs: lines with server prices, subtotal, shipping (when known) and total."""

    lines: list[CartLine]
    subtotal: Money
    needs_shipping: bool
    shipping: Money | None = None
    zone: ShippingZone | None = None
    problems: list[str] = field(default_factory=list)
    # A code's discount (``orders.extensions.Discount``), taken off the subtotal only.
    discount: Discount | None = None
    # The country shipping was priced for ("" when not yet known).
    country: str = ""

    @property
    def discount_amount(self) -> Money:
        """Return what the discount takes off the subtotal (zero without one)."""
        off = self.discount.amount_off(self.subtotal.amount) if self.discount else 0
        return Money(off, self.subtotal.currency)

    @property
    def discounted_subtotal(self) -> Money:
        """Return the subtotal less the discount: what the goods cost, and what free shipping
        and the shipping rate are judged on."""
        if self.discount is None:
            return self.subtotal
        return self.subtotal - self.discount_amount

    @property
    def total(self) -> Money:
        shipping = self.shipping or Money.zero(self.subtotal.currency)
        return self.discounted_subtotal + shipping

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)


def cart_lines(
    *, shop: Shop, cart: Cart | None, images: bool = True, related: tuple[str, ...] = ()
) -> list[CartLine]:
    """Return the cart's lines with variant and product loaded (and, with ``images``, the
    product's images) in a fixed number of queries.

    ``related`` names further one-to-one relations to load with them (``"variant__edition"``
    for an app built on orders that needs its own row of each line's variant).
    """
    if cart is None or cart.shop_id != shop.pk:
        return []
    read = _prepared(
        ("cart", related),
        lambda cart_id: _lines(CartLine.objects.filter(cart_id=cart_id), related=related),
    )
    return _with_images(read.objects(cart.pk), images=images)


# The reads of a cart's lines, compiled once per process for each set of relations (a few, fixed
# in the code): a cart page, checkout and placing an order each run one (see PreparedQuery).
_PREPARED: dict[tuple, PreparedQuery] = {}


def _prepared(key: tuple, build) -> PreparedQuery:
    read = _PREPARED.get(key)
    if read is None:
        read = _PREPARED.setdefault(key, PreparedQuery(build))
    return read


def _lines(lines: QuerySet[CartLine], *, related: tuple[str, ...]) -> QuerySet[CartLine]:
    return lines.select_related("variant__product", *related).order_by("id")


def _with_images(lines: list[CartLine], *, images: bool) -> list[CartLine]:
    if images and lines:
        prefetch_related_objects(
            lines,
            Prefetch(
                "variant__product__images",
                queryset=ProductImage.objects.order_by("position", "id"),
            ),
        )
    return lines


def cart_with_lines(
    *, shop: Shop, token: str | None, images: bool = True, related: tuple[str, ...] = ()
) -> tuple[Cart | None, list[CartLine]]:
    """Return the shop's cart with this token and its lines (as ``cart_lines`` gives them), in
    one query when the cart holds something; ``(None, [])`` without such a cart."""
    if not token:
        return None, []
    read = _prepared(
        ("token", related),
        lambda shop_id, token: _lines(
            CartLine.objects.filter(cart__shop_id=shop_id, cart__token=token),
            related=("cart", *related),
        ),
    )
    lines = read.objects(shop.pk, token)
    if not lines:
        return Cart.objects.filter(shop=shop, token=token).first(), []
    cart = lines[0].cart
    for line in lines:
        line.cart = cart
    return cart, _with_images(lines, images=images)


def cart_quote(*, shop: Shop, cart: Cart | None, country: str = "", images: bool = True) -> Quote:
    """Price the cart from the catalogue (never from the client); shipping when ``country`` is known.

    ``images=False`` leaves the products' images unloaded: enough to place an order.
    """
    lines = cart_lines(shop=shop, cart=cart, images=images)
    return quote_lines(shop=shop, lines=lines, country=country)


def quote_lines(*, shop: Shop, lines: list[CartLine], country: str = "") -> Quote:
    """Price ``lines`` already loaded with their variants and products; see ``cart_quote``.

    A line that cannot be bought as it stands is a problem of the quote (``line_problem``).
    """
    subtotal = Money(sum(line.price_each * line.quantity for line in lines), shop.currency)
    needs_shipping = any(line.variant.product.needs_shipping for line in lines)
    quote = Quote(lines=lines, subtotal=subtotal, needs_shipping=needs_shipping)
    for line in lines:
        problem = line_problem(line)
        if problem:
            quote.problems.append(problem)
    if needs_shipping and country:
        quote.zone, quote.shipping = shipping_rate_for(
            shop=shop, country=country, subtotal=subtotal
        )
        quote.country = country
    elif not needs_shipping:
        quote.shipping = Money.zero(shop.currency)
    return quote


def line_problem(line: CartLine) -> str:
    """Return why the cart line cannot be bought as it stands ("" when it can): its product
    withdrawn, too few in stock, or a price the fan chose that no longer holds (below the
    current price, or on a product that is no longer digital), or a download now free."""
    variant = line.variant
    product = variant.product
    if not product.is_active:
        return _("%(product)s is no longer available.") % {"product": product.name}
    if variant.stock is not None and line.quantity > variant.stock:
        return variant.shortage_message()
    if line.unit_price is not None and (
        line.unit_price < variant.price or product.kind != product.Kind.DIGITAL
    ):
        return _("The price of %(product)s changed: choose your amount again.") % {
            "product": product.name
        }
    if product.kind == product.Kind.DIGITAL and line.price_each == 0:
        return _("%(product)s is free now: get it from its page.") % {"product": product.name}
    return ""


def quote_discount(*, shop: Shop, quote: Quote, code: str, email: str = "", account=None) -> Quote:
    """Apply the discount ``code`` to ``quote`` (in place) and return it; an empty code removes it.

    Raises InvalidInput (field ``discount_code``) for a code nobody issued, or one this buyer
    may not use (someone else's, already used).
    """
    code = " ".join((code or "").split())[:64]
    quote.discount = None
    if not code:
        return quote
    account = account if account is not None and account.is_authenticated else None
    discount = discount_find(shop=shop, code=code, email=email, account=account)
    if discount is None:
        raise InvalidInput(
            _("There is no discount with the code %(code)s. Check the code and try again.")
            % {"code": code},
            field="discount_code",
            code="unknown_discount",
        )
    subtotal = quote.subtotal.amount
    if subtotal > 0 and discount.amount_off(subtotal) >= subtotal:
        # Payment providers take no order of 0: a discount always leaves something to pay.
        raise InvalidInput(
            _(
                "This code would take off the whole price, and an order needs something to "
                "pay. Add something to your cart to use it."
            ),
            field="discount_code",
            code="nothing_to_pay",
        )
    quote.discount = discount
    if quote.zone is not None and quote.country:
        # Free shipping is judged on what the goods cost after the discount.
        quote.zone, quote.shipping = shipping_rate_for(
            shop=shop, country=quote.country, subtotal=quote.discounted_subtotal
        )
    return quote


def checkout_discount_offers(*, shop: Shop, account) -> list[Discount]:
    """Return the discounts the logged-in fan may use in the shop (none for a visitor)."""
    if account is None or not account.is_authenticated:
        return []
    return discount_offers(shop=shop, account=account)


def order_lines_for(*, order_id: int, event: str) -> list[OrderLine]:
    """Return the order's lines with their variants' products and what the handlers of
    ``event`` (``orders.extensions``) read of each, for ``order_lines_keep``."""
    relations = ("variant__product", *extensions.line_relations(event))
    read = _prepared(
        ("order", relations),
        lambda order_id: (
            OrderLine.objects.filter(order_id=order_id).select_related(*relations).order_by("id")
        ),
    )
    return read.objects(order_id)


def order_lines_keep(order: Order, lines: list[OrderLine]) -> None:
    """Keep ``lines`` (``order_lines_for``) on ``order``: ``order.lines.all()`` gives them
    without a query from now on."""
    cache = getattr(order, "_prefetched_objects_cache", {})
    cache.pop("lines", None)
    # As prefetch_related keeps them: a queryset already evaluated (its other uses still work).
    kept = order.lines.all()
    kept._result_cache = lines
    kept._prefetch_done = True
    for line in lines:
        line.order = order
    order._prefetched_objects_cache = {**cache, "lines": kept}


def order_lines_forget(order: Order) -> None:
    """Drop the lines kept on ``order``: ``order.lines.all()`` reads them again."""
    getattr(order, "_prefetched_objects_cache", {}).pop("lines", None)


def order_lines_kept(order: Order) -> list[OrderLine] | None:
    """Return the lines kept on ``order`` by ``order_lines_keep`` (or a prefetch), else None."""
    kept = getattr(order, "_prefetched_objects_cache", {}).get("lines")
    return None if kept is None else list(kept)


def order_get_for_shop(*, shop: Shop, number: str) -> Order:
    """Return the order ``number`` of ``shop`` with lines, events, payments and shipments."""
    order = (
        Order.objects.filter(shop=shop, number=number)
        .select_related("customer", "shop")
        .prefetch_related("lines", "events", "payments", "shipments__lines")
        .first()
    )
    if order is None:
        raise NotFound(_("No such order."))
    return order


# An order by its shop and number, with its customer and shop (compiled once per process: see
# PreparedQuery); the fan's pages ask for it on every visit and every status poll.
_ORDER_BY_NUMBER = PreparedQuery(
    lambda shop_id, number: (
        Order.objects.filter(shop_id=shop_id)
        .filter(number=number)
        .select_related("customer", "shop")
    )
)


def order_get_for_fan(*, shop: Shop, number: str, account=None, token: str = "") -> Order:
    """Return the order if the visitor may see it: its account, or the access token from the e-mail.

    Its lines, payments and shipments come with it (what the fan's pages show of it), read once
    the visitor is known to own it.
    """
    found = _ORDER_BY_NUMBER.objects(shop.pk, number)
    if not found:
        raise NotFound(_("No such order."))
    order = found[0]
    owns = (
        account is not None
        and account.is_authenticated
        # Placed while logged in, or as a guest with the address the account later confirmed.
        and account.pk in (order.account_id, order.customer.account_id)
    )
    if not owns and not (token and _tokens_match(token, order.access_token)):
        raise NotFound(_("No such order."))
    prefetch_related_objects([order], "lines", "payments", "shipments")
    return order


def _tokens_match(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def orders_for_shop(*, shop: Shop, status: str | None = None) -> QuerySet[Order]:
    """Return the shop's orders, newest first, customer loaded."""
    qs = Order.objects.filter(shop=shop).select_related("customer")
    if status:
        qs = qs.filter(status=status)
    return qs


def orders_for_account(*, account) -> QuerySet[Order]:
    """Return a fan's orders across every shop, newest first, including guest orders placed
    with their address before they had an account (linked through the shop's customer record)."""
    return (
        Order.objects.filter(Q(account=account) | Q(customer__account=account))
        .select_related("shop")
        .prefetch_related("lines")
    )
