"""Placing an order from a cart: validate and price everything first, then take stock and create
the order in one short transaction, and start its payment with the provider after it commits (a
gateway's network call never runs inside a database transaction). A repeated submit with the same
idempotency key returns the first order, and starts its payment again if that failed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from kinfolk.accounts.models import normalize_email
from kinfolk.catalog.services import stock_take
from kinfolk.core import clock
from kinfolk.core.addresses import address_normalize
from kinfolk.core.errors import Conflict, InvalidInput, KinfolkError, OutOfStock
from kinfolk.core.money import format_money
from kinfolk.core.prepared import PreparedRead, insert, update
from kinfolk.crm.models import Interaction
from kinfolk.crm.services import interaction_record
from kinfolk.crm.services.customers import (
    CustomerLookup,
    customer_get_or_create,
    customer_lookup,
)
from kinfolk.orders import tasks
from kinfolk.orders.extensions import discount_redeem
from kinfolk.orders.models import (
    Cart,
    CartLine,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    new_order_number,
)
from kinfolk.orders.notes import ORDER_PLACED_NOTE
from kinfolk.orders.payments import get_provider
from kinfolk.orders.selectors import (
    Quote,
    cart_lines,
    quote_discount,
    quote_lines,
)
from kinfolk.shops.models import Shop
from kinfolk.shops.selectors import shipping_rate_for

logger = logging.getLogger(__name__)

# How many times placing an order is tried when the database refuses it (a number drawn twice).
ORDER_ATTEMPTS = 3
# A payment's redirect URL while the submit that placed its order is starting it with the provider.
PAYMENT_STARTING = "#starting"


@dataclass
class PlacedOrder:
    order: Order
    payment: Payment
    redirect_url: str  # where to send the fan next: the provider's page or the order page
    created: bool


class PaymentNotStarted(KinfolkError):
    """The order is placed and awaits payment, but the provider could not start the payment.

    Submitting the same checkout again (same idempotency key) retries the start; an order that is
    never paid is cancelled by the abandoned-order expiry.
    """

    status = 502
    default_code = "payment_not_started"

    def __init__(self, message: str, *, placed: PlacedOrder):
        super().__init__(message)
        self.placed = placed


def _existing(shop: Shop, idempotency_key: str) -> PlacedOrder | None:
    order = (
        Order.objects.filter(shop=shop, idempotency_key=idempotency_key)
        .select_related("shop")
        .first()
    )
    if order is None:
        return None
    payment = order.payments.order_by("-created_at", "-id").first()
    return PlacedOrder(
        order=order, payment=payment, redirect_url=payment.redirect_url, created=False
    )


def _validate(
    *,
    shop: Shop,
    cart: Cart,
    email: str,
    address: dict | None,
    expected_total: int | None,
    discount_code: str = "",
    account=None,
    lines: list[CartLine] | None = None,
) -> tuple[str, dict, Quote]:
    """Check the fan's input and the cart (``lines``: its lines as just read, else read here);
    return the clean e-mail, address and the quote."""
    errors: dict[str, str] = {}
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Enter a valid e-mail address, e.g. name@example.com.")
    if lines is None:
        # The images are for showing the cart, not for placing it.
        lines = cart_lines(shop=shop, cart=cart, images=False)
    quote = quote_lines(shop=shop, lines=lines)
    clean_address: dict = {}
    if quote.needs_shipping:
        try:
            clean_address = address_normalize(address or {})
        except InvalidInput as exc:
            errors.update(exc.errors)
    if discount_code and "email" not in errors:
        # Only with a code: an order without one costs no discount query at all.
        try:
            quote_discount(shop=shop, quote=quote, code=discount_code, email=email, account=account)
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        first = next(iter(errors))
        raise InvalidInput(errors[first], field=first, errors=errors)
    if not quote.lines:
        raise InvalidInput(_("Your cart is empty."), code="empty_cart")
    if quote.problems:
        sold_out = any(
            line.variant.stock is not None and line.quantity > line.variant.stock
            for line in quote.lines
        )
        error = OutOfStock if sold_out else InvalidInput
        raise error(" ".join(quote.problems), code="cart_changed")
    if quote.needs_shipping:
        try:
            # Judged on the goods after any discount: a code can bring an order below the
            # free-shipping threshold.
            quote.zone, quote.shipping = shipping_rate_for(
                shop=shop,
                country=clean_address["country_code"],
                subtotal=quote.discounted_subtotal,
            )
        except InvalidInput as exc:
            # No shipping zone covers the country: the fan fixes it in the address's country.
            raise InvalidInput(exc.message, field="country_code", code="no_shipping_zone") from None
    if expected_total is not None and expected_total != quote.total.amount:
        raise InvalidInput(
            _("The total is now %(total)s. Please check your order and confirm again.")
            % {"total": format_money(quote.total.amount, shop.currency)},
            field="expected_total",
            code="total_changed",
        )
    return email, clean_address, quote


def order_place(
    *,
    shop: Shop,
    cart: Cart,
    email: str,
    address: dict | None,
    payment_provider: str,
    idempotency_key: str,
    return_url_for: Callable[[Order], str],
    expected_total: int | None = None,
    account=None,
    language: str = "en",
    discount_code: str = "",
    lines: list[CartLine] | None = None,
) -> PlacedOrder:
    """Turn the cart into an order awaiting payment and start the payment.

    ``lines`` are the cart's lines as the caller has just read them (``cart_lines``, variants
    and products loaded; images not needed), to save reading them again; the transaction checks
    them against the cart all the same.

    ``discount_code`` (optional) is a code a registered app issued (``orders.extensions``): its
    discount comes off the subtotal, and the code is taken in the order's transaction, so that
    two checkouts with one single-use code place one order; the other gets a Conflict.

    ``return_url_for(order)`` gives the page the fan returns to after paying. Raises InvalidInput
    (with per-field ``errors``) or OutOfStock; in that case nothing is stored and the cart is kept.
    The order is created in one transaction that holds the cart's row and checks that the cart
    still holds what was validated, so a repeated submit never sees a half-placed cart. Raises
    PaymentNotStarted when the order is stored but the provider refused to start its payment.
    """
    if not idempotency_key or len(idempotency_key) > 64:
        raise InvalidInput(_("This form has expired; please submit it again."), code="no_key")
    if cart.shop_id != shop.pk:
        raise InvalidInput(_("This cart belongs to another shop."))
    # A key already used is found without a query of its own: its submit emptied the cart (the
    # validation below fails, and its order is looked up then), or, should the cart hold new
    # lines meanwhile, the order's unique key refuses the new one (IntegrityError below).
    account = account if account is not None and account.is_authenticated else None
    provider = get_provider(payment_provider)
    # Everything that only reads runs before the transaction, which on SQLite holds the one
    # write lock of the whole database from its first statement.
    try:
        email, clean_address, quote = _validate(
            shop=shop,
            cart=cart,
            email=email,
            address=address,
            expected_total=expected_total,
            discount_code=discount_code,
            account=account,
            lines=lines,
        )
        customer = customer_lookup(shop=shop, email=email, account=account)
    except KinfolkError:
        # The same submit may have placed the order meanwhile and emptied the cart: its order
        # is the answer, not "your cart is empty".
        existing = _existing(shop, idempotency_key)
        if existing is None:
            raise
        return _resume(existing, return_url_for=return_url_for)
    for attempt in range(1, ORDER_ATTEMPTS + 1):
        try:
            placed = _create(
                shop=shop,
                cart=cart,
                email=email,
                raw_address=address,
                address=clean_address,
                quote=quote,
                expected_total=expected_total,
                provider=provider,
                idempotency_key=idempotency_key,
                return_url_for=return_url_for,
                account=account,
                language=language,
                discount_code=discount_code,
                customer=customer,
            )
            break
        except IntegrityError:
            # The same submit arrived twice at once and the other one won: answer with its order.
            existing = _existing(shop, idempotency_key)
            if existing is not None:
                return _resume(existing, return_url_for=return_url_for)
            if attempt < ORDER_ATTEMPTS:
                # Nothing was stored. Most likely the random order number was the shop's already
                # (the order's unique number): the next attempt draws another one.
                continue
            # Another rule of the database refused it: a message, not a 500.
            logger.exception("order of shop %s refused by a constraint", shop.pk)
            raise Conflict(
                _("Your order could not be placed. Please check it and confirm again."),
                code="refused",
            ) from None
    if placed.created:
        _start_payment(placed, provider=provider, return_url_for=return_url_for)
        return placed
    return _resume(placed, return_url_for=return_url_for)


# The cart's lines as _same_lines compares them, read inside the order's transaction. Plain
# columns (integers, text, and a truth value that is 0 or 1 on SQLite and compares equal to
# False or True): the rows are what values_list would give.
_CART_NOW = PreparedRead(
    lambda cart_id: (
        CartLine.objects.filter(cart_id=cart_id)
        .order_by("id")
        .annotate(
            tracked=ExpressionWrapper(Q(variant__stock__isnull=False), output_field=BooleanField())
        )
        .values_list(
            "pk",
            "variant_id",
            "quantity",
            "variant__price",
            "unit_price",
            "variant__product__status",
            "variant__product__kind",
            "tracked",
        )
    )
)


def _same_lines(current: list[tuple], quote: Quote) -> bool:
    """Return whether the cart's lines as read now (``_CART_NOW``) are the quote's lines at
    the quote's prices (the variant's and the fan's own), kinds and stock keeping (tracked or
    unlimited): anything else is validated again."""
    quoted = [
        (
            line.pk,
            line.variant_id,
            line.quantity,
            line.variant.price,
            line.unit_price,
            line.variant.product.status,
            line.variant.product.kind,
            line.variant.stock is not None,
        )
        for line in quote.lines
    ]
    return current == quoted


@transaction.atomic
def _create(
    *,
    shop,
    cart,
    email,
    raw_address,
    address,
    quote: Quote,
    expected_total,
    provider,
    idempotency_key,
    return_url_for,
    account,
    language,
    discount_code="",
    customer: CustomerLookup | None = None,
) -> PlacedOrder:
    # Submits of one cart queue here: a second one that waited sees the first one's order instead
    # of the cart that order has just emptied. SQLite has no row locks and needs none: its
    # transactions take the database's one write lock at BEGIN.
    if connection.features.has_select_for_update:
        Cart.objects.select_for_update().filter(pk=cart.pk).first()
    if not _same_lines(_CART_NOW.rows(cart.pk), quote):
        # The cart changed since it was validated (another tab, or this very submit placed
        # meanwhile): judge it again, now under the lock.
        existing = _existing(shop, idempotency_key)
        if existing:
            return existing
        email, address, quote = _validate(
            shop=shop,
            cart=cart,
            email=email,
            address=raw_address,
            expected_total=expected_total,
            discount_code=discount_code,
            account=account,
        )
    now = clock.now()
    customer = customer_get_or_create(
        shop=shop,
        email=email,
        name=address.get("name", "") if address else (account.name if account else ""),
        country=address.get("country_code", ""),
        account=account,
        lookup=customer,
    )
    order = _order_create(
        shop=shop,
        customer=customer,
        account=account,
        email=email,
        currency=shop.currency,
        subtotal=quote.subtotal.amount,
        discount=quote.discount_amount.amount,
        discount_label=quote.discount.label[:120] if quote.discount else "",
        shipping=quote.shipping.amount if quote.shipping else 0,
        total=quote.total.amount,
        shipping_address=address,
        shipping_country=address.get("country_code", ""),
        shipping_method=quote.zone.name if quote.zone else "",
        payment_provider=provider.code,
        idempotency_key=idempotency_key,
        language=language,
        placed_at=now,
    )
    if quote.discount is not None:
        # Taken with one conditional write: a code two checkouts share places one order.
        discount_redeem(shop=shop, order=order, discount=quote.discount)
    order_lines = [_order_line(order, line) for line in quote.lines]
    if len(order_lines) == 1:
        insert(order_lines[0])
    else:
        OrderLine.objects.bulk_create(order_lines)
    # Only tracked stock is taken: a variant without a count (a download) has nothing to take,
    # and _same_lines has just seen that each line's variant still keeps stock as validated.
    tracked = [
        (line.variant_id, line.quantity) for line in quote.lines if line.variant.stock is not None
    ]
    if tracked:
        stock_take(shop=shop, items=tracked)
    insert(
        OrderEvent(
            order=order,
            to_status=order.status,
            actor=account,
            actor_label=email,
            created_at=now,
            # Stored in English; the dashboard shows it in the reader's language.
            note=ORDER_PLACED_NOTE,
        )
    )
    # The payment starts once the order is committed (see _start_payment); until then its
    # redirect URL says that this submit is starting it.
    payment = insert(
        Payment(
            shop=shop,
            order=order,
            provider=provider.code,
            amount=order.total,
            currency=order.currency,
            redirect_url=PAYMENT_STARTING,
            created_at=now,
            updated_at=now,
        )
    )
    interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.ORDER_PLACED,
        source=Interaction.Source.STOREFRONT,
        occurred_at=now,
        subject_type="order",
        subject_id=order.number,
        data={"total": order.total, "currency": order.currency},
        defer_stage=True,  # by the worker: keeps the order's write transaction short
    )
    CartLine.objects.filter(cart=cart).delete()
    if provider.code == "manual":
        transaction.on_commit(lambda: tasks.send_order_email(order.pk, "placed"))
    return PlacedOrder(order=order, payment=payment, redirect_url="", created=True)


def _resume(placed: PlacedOrder, *, return_url_for: Callable[[Order], str]) -> PlacedOrder:
    """Return an earlier submit's order, starting its payment if that failed the first time."""
    payment = placed.payment
    if payment.redirect_url == PAYMENT_STARTING or payment.status != Payment.Status.PENDING:
        # Being started by the first submit right now (or settled): the order page follows it.
        placed.redirect_url = return_url_for(placed.order)
        return placed
    if payment.redirect_url:
        return placed
    # Only one submit retries: the one that turns "not started" into "starting".
    claimed = Payment.objects.filter(pk=payment.pk, redirect_url="").update(
        redirect_url=PAYMENT_STARTING
    )
    try:
        provider = get_provider(payment.provider)
    except InvalidInput:
        provider = None
    if not claimed or provider is None:
        placed.redirect_url = return_url_for(placed.order)
        return placed
    _start_payment(placed, provider=provider, return_url_for=return_url_for)
    return placed


def _start_payment(placed: PlacedOrder, *, provider, return_url_for) -> None:
    """Register the committed order's payment with its provider and store where the fan goes.

    Raises PaymentNotStarted when the provider fails; the order stays awaiting payment.
    """
    order, payment = placed.order, placed.payment
    return_url = return_url_for(order)
    callback_url = settings.TESTPAY_CALLBACK_BASE + reverse(
        "orders:payment-callback", args=[provider.code]
    )
    # A provider that starts a payment without leaving this process (no network call: the
    # built-in test processor, manual payments) does it in the transaction that stores where the
    # fan goes: one write transaction instead of two. Any other is never called inside one.
    local = getattr(provider, "starts_in_process", False)
    try:
        with transaction.atomic() if local else nullcontext():
            redirect_url = (
                provider.start(payment=payment, return_url=return_url, callback_url=callback_url)
                or return_url
            )
            if local:
                payment.redirect_url = redirect_url
                update(payment, ["reference", "redirect_url"])
    except Exception as exc:
        # A gateway fails in its own ways (network, refusal, bad configuration): whatever it
        # was, the order is kept and the fan can try again.
        logger.exception("payment of order %s could not be started", order.number)
        # Not started: the next submit with the same key may try again.
        Payment.objects.filter(pk=payment.pk).update(redirect_url="")
        raise PaymentNotStarted(
            _(
                "Your order #%(number)s is saved, but the payment could not be started. "
                "Please try again in a moment."
            )
            % {"number": order.number},
            placed=placed,
        ) from exc
    if not local:
        payment.redirect_url = redirect_url
        # In a transaction of its own, even for one statement: on SQLite that queues it on the
        # file lock with every other writer (core/sqlite) instead of in SQLite's sleeping busy
        # handler.
        with transaction.atomic():
            update(payment, ["reference", "redirect_url"])
    placed.redirect_url = redirect_url


def _order_create(**fields) -> Order:
    """Create the order under a fresh number.

    A number the shop already used is refused by its unique constraint, which undoes the whole
    transaction: ``order_place`` then tries again with a new number (no savepoint here, which
    would cost two statements in the write lock for a collision about once in 10^12 draws).
    """
    return insert(Order(number=new_order_number(), **fields))


def _order_line(order: Order, line: CartLine) -> OrderLine:
    variant = line.variant
    return OrderLine(
        order=order,
        variant=variant,
        product_name=variant.product.name,
        variant_name=variant.name,
        sku=variant.sku,
        product_kind=variant.product.kind,
        unit_price=line.price_each,
        quantity=line.quantity,
    )
