"""Placing an order from a cart: validate everything, then take stock, create the order and start
its payment in one transaction. A repeated submit with the same idempotency key returns the first
order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kinfolk.accounts.models import normalize_email
from kinfolk.catalog.services import stock_take
from kinfolk.core import clock
from kinfolk.core.addresses import address_normalize
from kinfolk.core.errors import InvalidInput, OutOfStock
from kinfolk.core.money import format_money
from kinfolk.crm.models import Interaction
from kinfolk.crm.services import customer_get_or_create, interaction_record
from kinfolk.orders import tasks
from kinfolk.orders.models import Cart, CartLine, Order, OrderEvent, OrderLine, Payment
from kinfolk.orders.payments import get_provider
from kinfolk.orders.selectors import Quote, cart_quote
from kinfolk.shops.models import Shop


@dataclass
class PlacedOrder:
    order: Order
    payment: Payment
    redirect_url: str  # where to send the fan next: the provider's page or the order page
    created: bool


def _existing(shop: Shop, idempotency_key: str) -> PlacedOrder | None:
    order = Order.objects.filter(shop=shop, idempotency_key=idempotency_key).first()
    if order is None:
        return None
    payment = order.payments.order_by("-created_at").first()
    return PlacedOrder(
        order=order, payment=payment, redirect_url=payment.redirect_url, created=False
    )


def _validate(
    *, shop: Shop, cart: Cart, email: str, address: dict | None, expected_total: int | None
) -> tuple[str, dict, Quote]:
    """Check the fan's input and the cart; return the clean e-mail, address and the quote."""
    errors: dict[str, str] = {}
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Enter a valid e-mail address, e.g. name@example.com.")
    quote = cart_quote(shop=shop, cart=cart)
    clean_address: dict = {}
    if quote.needs_shipping:
        try:
            clean_address = address_normalize(address or {})
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
            quote = cart_quote(shop=shop, cart=cart, country=clean_address["country_code"])
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
) -> PlacedOrder:
    """Turn the cart into an order awaiting payment and start the payment.

    ``return_url_for(order)`` gives the page the fan returns to after paying. Raises InvalidInput
    (with per-field ``errors``) or OutOfStock; in that case nothing is stored and the cart is kept.
    Validation and placement run in one transaction that holds the cart's row, so a repeated
    submit never sees a half-placed cart.
    """
    if not idempotency_key or len(idempotency_key) > 64:
        raise InvalidInput(_("This form has expired; please submit it again."), code="no_key")
    if cart.shop_id != shop.pk:
        raise InvalidInput(_("This cart belongs to another shop."))
    existing = _existing(shop, idempotency_key)
    if existing:
        return existing
    try:
        return _place(
            shop=shop,
            cart=cart,
            email=email,
            address=address,
            payment_provider=payment_provider,
            idempotency_key=idempotency_key,
            return_url_for=return_url_for,
            expected_total=expected_total,
            account=account if account is not None and account.is_authenticated else None,
            language=language,
        )
    except IntegrityError:
        # The same submit arrived twice at once and the other one won: answer with its order.
        existing = _existing(shop, idempotency_key)
        if existing is None:
            raise
        return existing


@transaction.atomic
def _place(
    *,
    shop,
    cart,
    email,
    address,
    payment_provider,
    idempotency_key,
    return_url_for,
    expected_total,
    account,
    language,
) -> PlacedOrder:
    # Submits of one cart queue here: a second one that waited sees the first one's order instead
    # of the cart that order has just emptied.
    Cart.objects.select_for_update().filter(pk=cart.pk).first()
    existing = _existing(shop, idempotency_key)
    if existing:
        return existing
    email, clean_address, quote = _validate(
        shop=shop, cart=cart, email=email, address=address, expected_total=expected_total
    )
    provider = get_provider(payment_provider)
    return _create(
        shop=shop,
        cart=cart,
        email=email,
        address=clean_address,
        quote=quote,
        provider=provider,
        idempotency_key=idempotency_key,
        return_url_for=return_url_for,
        account=account,
        language=language,
    )


@transaction.atomic
def _create(
    *,
    shop,
    cart,
    email,
    address,
    quote: Quote,
    provider,
    idempotency_key,
    return_url_for,
    account,
    language,
) -> PlacedOrder:
    now = clock.now()
    customer = customer_get_or_create(
        shop=shop,
        email=email,
        name=address.get("name", "") if address else (account.name if account else ""),
        country=address.get("country_code", ""),
        account=account,
    )
    order = Order.objects.create(
        shop=shop,
        customer=customer,
        account=account,
        email=email,
        currency=shop.currency,
        subtotal=quote.subtotal.amount,
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
    OrderLine.objects.bulk_create([_order_line(order, line) for line in quote.lines])
    stock_take(shop=shop, items=[(line.variant_id, line.quantity) for line in quote.lines])
    OrderEvent.objects.create(
        order=order,
        to_status=order.status,
        actor=account,
        actor_label=email,
        created_at=now,
        # Stored in English; the dashboard shows it in the reader's language.
        note=gettext_noop("Order placed"),
    )
    payment = Payment(
        shop=shop,
        order=order,
        provider=provider.code,
        amount=order.total,
        currency=order.currency,
        created_at=now,
        updated_at=now,
    )
    payment.save()
    return_url = return_url_for(order)
    callback_url = settings.TESTPAY_CALLBACK_BASE + reverse(
        "orders:payment-callback", args=[provider.code]
    )
    payment.redirect_url = (
        provider.start(payment=payment, return_url=return_url, callback_url=callback_url)
        or return_url
    )
    payment.save(update_fields=["reference", "redirect_url"])
    interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.ORDER_PLACED,
        source=Interaction.Source.STOREFRONT,
        occurred_at=now,
        subject_type="order",
        subject_id=order.number,
        data={"total": order.total, "currency": order.currency},
    )
    CartLine.objects.filter(cart=cart).delete()
    if provider.code == "manual":
        transaction.on_commit(lambda: tasks.send_order_email(order.pk, "placed"))
    return PlacedOrder(
        order=order, payment=payment, redirect_url=payment.redirect_url, created=True
    )


def _order_line(order: Order, line: CartLine) -> OrderLine:
    variant = line.variant
    return OrderLine(
        order=order,
        variant=variant,
        product_name=variant.product.name,
        variant_name=variant.name,
        sku=variant.sku,
        product_kind=variant.product.kind,
        unit_price=variant.price,
        quantity=line.quantity,
    )
