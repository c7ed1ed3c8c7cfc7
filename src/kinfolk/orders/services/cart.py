"""The fan's cart: add, change and remove lines; quantities checked against stock."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils.translation import gettext as _

from kinfolk.catalog.models import Product, Variant
from kinfolk.catalog.selectors import variant_get_buyable
from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.core.money import MAX_AMOUNT_MINOR, Money
from kinfolk.core.prepared import PreparedRead, insert
from kinfolk.orders.models import Cart, CartLine, Order
from kinfolk.shops.models import Shop

MAX_QUANTITY = 99


def cart_get(*, shop: Shop, token: str | None) -> Cart | None:
    """Return the shop's cart with this token, or None."""
    if not token:
        return None
    try:
        # get(), not first(): the token is unique, and no ORDER BY is built for one row.
        return Cart.objects.get(shop=shop, token=token)
    except Cart.DoesNotExist:
        return None


def cart_get_or_create(*, shop: Shop, token: str | None, account=None) -> Cart:
    """Return the cart for ``token`` or a new empty one (the caller keeps its token)."""
    cart = cart_get(shop=shop, token=token)
    if cart is None:
        cart = Cart.objects.create(shop=shop, account=account if account else None)
    return cart


def cart_new(*, shop: Shop, account=None) -> Cart:
    """Return a new cart of ``shop``, not yet stored: ``cart_add`` stores it with its first line,
    in one transaction. Its token is known at once, for the caller to keep once the add worked."""
    return Cart(shop=shop, account=account if account else None)


def _check_quantity(quantity: int, variant) -> None:
    if quantity < 1:
        raise InvalidInput(_("Choose a quantity of at least 1."), field="quantity")
    if quantity > 1 and variant.product.kind == Product.Kind.DIGITAL:
        # A download is the fan's for good: a second copy in one order buys nothing more.
        raise InvalidInput(
            _("%(product)s is a download: one is all you need.")
            % {"product": variant.product.name},
            field="quantity",
            code="one_per_order",
        )
    if quantity > MAX_QUANTITY:
        raise InvalidInput(
            _("At most %(count)s per order.") % {"count": MAX_QUANTITY}, field="quantity"
        )
    if variant.stock is not None and quantity > variant.stock:
        raise InvalidInput(variant.shortage_message(), field="quantity", code="out_of_stock")


def cart_add(
    *,
    shop: Shop,
    cart: Cart,
    variant_id: int,
    quantity: int = 1,
    variant: Variant | None = None,
    unit_price: int | None = None,
) -> CartLine:
    """Add ``quantity`` of a variant (on top of what is already in the cart).

    ``cart`` may be new (``cart_new``): it is stored with the line, or not at all when the add
    is refused. The returned line's ``cart_count`` is how many items the whole cart holds now.

    ``variant`` is that variant when the caller has just loaded it with ``variant_get_buyable``.
    ``unit_price`` is what the fan chose to pay for one of a digital product, which may be more
    than its price, never less (pay what you want, or paying more for a fixed-price release).

    A digital product's line holds one: adding it again replaces the line's price with this
    add's (``unit_price``, or the variant's price without one) instead of adding another. One
    that would cost nothing is refused: a free download is had from its page, not bought.
    """
    if cart.shop_id != shop.pk:
        raise NotFound(_("No such cart."))
    if quantity < 1:
        raise InvalidInput(_("Choose a quantity of at least 1."), field="quantity")
    if variant is None or variant.pk != variant_id or variant.shop_id != shop.pk:
        variant = variant_get_buyable(shop=shop, variant_id=variant_id)
    if unit_price is not None:
        _check_unit_price(unit_price, variant, currency=shop.currency)
    if variant.product.kind == Product.Kind.DIGITAL:
        _check_quantity(quantity, variant)
        if (variant.price if unit_price is None else unit_price) == 0:
            raise InvalidInput(_("This is free: get it from its page."), field="price", code="free")
    # The read above runs before the transaction: on SQLite the transaction holds the database's
    # one write lock from its start.
    return _add_line(cart=cart, variant=variant, quantity=quantity, unit_price=unit_price)


def _check_unit_price(unit_price: int, variant: Variant, *, currency: str) -> None:
    """Refuse a fan's own price below the variant's, above the largest amount, or on a product
    whose price is fixed (only digital products let a fan pay more)."""
    if variant.product.kind != Product.Kind.DIGITAL:
        raise InvalidInput(_("This product has a fixed price."), field="price")
    if unit_price < variant.price:
        raise InvalidInput(
            _("Pay at least %(price)s.") % {"price": Money(variant.price, currency).format()},
            field="price",
        )
    if unit_price > MAX_AMOUNT_MINOR:
        raise InvalidInput(_("That amount is too large."), field="price")


# A cart's lines as cart_add needs them, read inside its transaction (built once per process:
# see PreparedRead), locked on a database with row locks.
_LINE_FIELDS = ["id", "cart_id", "variant_id", "quantity", "unit_price"]
_CART_LINES = PreparedRead(
    lambda cart_id: (
        CartLine.objects.select_for_update()
        .filter(cart_id=cart_id)
        .order_by("id")
        .values_list(*_LINE_FIELDS)
    )
)


@transaction.atomic
def _add_line(
    *, cart: Cart, variant: Variant, quantity: int, unit_price: int | None = None
) -> CartLine:
    if cart._state.adding:
        # A cart made for this very add has no lines and nobody else knows it.
        lines: list[CartLine] = []
    else:
        # The cart's row before its lines, the order checkout locks them in: no deadlock between
        # an add in one tab and a checkout in another. The UPDATE both takes the row (PostgreSQL)
        # and notes the change.
        if not Cart.objects.filter(pk=cart.pk).update(updated_at=clock.now()):
            raise NotFound(_("No such cart."))
        # Every line, not only this variant's: the cart's new count comes with them.
        lines = [
            CartLine.from_db(connection.alias, _LINE_FIELDS, row)
            for row in _CART_LINES.rows(cart.pk)
        ]
    line = next((line for line in lines if line.variant_id == variant.pk), None)
    digital = variant.product.kind == Product.Kind.DIGITAL
    if digital:
        # Adding a download again (a second submit, a new amount) changes its price, not its
        # quantity: it is bought once.
        new_quantity = 1
    else:
        new_quantity = quantity + (line.quantity if line else 0)
    _check_quantity(new_quantity, variant)
    if cart._state.adding:
        insert(cart)
    if line:
        line.quantity = new_quantity
        fields = ["quantity"]
        if digital:
            line.unit_price = unit_price
            fields.append("unit_price")
        line.save(update_fields=fields)
    else:
        line = insert(
            CartLine(cart=cart, variant=variant, quantity=new_quantity, unit_price=unit_price)
        )
    line.cart_count = new_quantity + sum(other.quantity for other in lines if other is not line)
    return line


@transaction.atomic
def cart_set_quantity(*, shop: Shop, cart: Cart, line_id: int, quantity: int) -> CartLine | None:
    """Set a line's quantity; 0 removes it (returns None)."""
    if cart.shop_id != shop.pk:
        raise NotFound(_("No such cart."))
    line = CartLine.objects.select_related("variant__product").filter(cart=cart, pk=line_id).first()
    if line is None:
        raise NotFound(_("This item is no longer in your cart."))
    if quantity == 0:
        line.delete()
        return None
    _check_quantity(quantity, line.variant)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    return line


@transaction.atomic
def cart_remove(*, shop: Shop, cart: Cart, line_id: int) -> None:
    """Remove a line (removing a line that is already gone is not an error)."""
    if cart.shop_id != shop.pk:
        raise NotFound(_("No such cart."))
    CartLine.objects.filter(cart=cart, pk=line_id).delete()


@transaction.atomic
def cart_clear(*, shop: Shop, cart: Cart) -> None:
    CartLine.objects.filter(cart__shop=shop, cart=cart).delete()


def cart_refill_from_order(*, shop: Shop, cart: Cart, order: Order) -> list[str]:
    """Put an unpaid order's items back into ``cart`` (after a declined card, say).

    Returns a message for each item that could not go back (sold out meanwhile, withdrawn);
    the others are added all the same.
    """
    if order.shop_id != shop.pk:
        raise InvalidInput(_("This order belongs to another shop."))
    problems = []
    for line in order.lines.all():
        if line.variant_id is None:
            problems.append(_("%(name)s is no longer available.") % {"name": line.product_name})
            continue
        try:
            with transaction.atomic():
                cart_add(shop=shop, cart=cart, variant_id=line.variant_id, quantity=line.quantity)
        except (InvalidInput, NotFound) as exc:
            problems.append(exc.message)
    return problems
