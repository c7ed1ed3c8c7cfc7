"""Order status changes after placement: paid, cancelled, refunded, shipped, delivered.

Each locks the order row, asks the model's state machine (which records the change), records
the fan-facing event on the CRM timeline and sends e-mail after commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kinfolk.catalog.models import Product
from kinfolk.catalog.services import stock_return
from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.core.prepared import update
from kinfolk.crm.models import Interaction
from kinfolk.crm.services import interaction_record
from kinfolk.orders import extensions, tasks
from kinfolk.orders.models import Order, OrderLine, Payment, Shipment, ShipmentLine
from kinfolk.orders.notes import PAYMENT_RECEIVED_NOTE
from kinfolk.orders.payments import get_provider
from kinfolk.orders.selectors import (
    order_lines_for,
    order_lines_forget,
    order_lines_keep,
    order_lines_kept,
)
from kinfolk.shops.models import Shop


def _locked(shop: Shop, order: Order) -> Order:
    if order.shop_id != shop.pk:
        raise InvalidInput(_("This order belongs to another shop."))
    if getattr(order, "locked_for_update", False):
        # The caller has just locked this very row in the current transaction (order_lock).
        return order
    return order_lock(shop=shop, order_id=order.pk)


def order_lock(*, shop: Shop, order_id: int) -> Order:
    """Return the shop's order ``order_id`` locked for the rest of the transaction, its shop and
    customer loaded; the status services take it as is instead of locking it again."""
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=order_id, shop=shop)
    )
    order.shop = shop
    order.locked_for_update = True
    return order


def _record(order: Order, kind: str, source: str, **data) -> None:
    interaction_record(
        shop=order.shop,
        customer=order.customer,
        kind=kind,
        source=source,
        subject_type="order",
        subject_id=order.number,
        data=data,
        # The stage is brought up to date by the worker, outside this order's write transaction.
        defer_stage=True,
    )


def paid_items(lines: Iterable[OrderLine]) -> list[dict]:
    """Return what an order's lines bought, as the ``items`` of its ``order_paid`` interaction.

    The CRM reads what each fan owns from these (``kinfolk.crm.share``) without reaching into
    the catalogue or the orders, and keeps the name and category as they were when the fan paid:
    a product archived or deleted later is still named. Lines need ``variant__product`` loaded;
    a line whose variant was deleted names no product (``product_id`` None).
    """
    items = []
    for line in lines:
        product = line.variant.product if line.variant_id else None
        items.append(
            {
                "product_id": product.pk if product else None,
                "variant_id": line.variant_id,
                "sku": line.sku,
                "name": line.product_name,
                "category": product.category if product else "",
                "quantity": line.quantity,
            }
        )
    return items


def _unshipped_items(order: Order) -> list[tuple[int, int]]:
    return [
        (line.variant_id, line.quantity - line.shipped_quantity)
        for line in order.lines.all()
        if line.variant_id and line.quantity > line.shipped_quantity
    ]


def order_mark_paid(
    *,
    shop: Shop,
    order: Order,
    actor=None,
    source: str = Interaction.Source.DASHBOARD,
    note: str = "",
    payment: Payment | None = None,
) -> Order:
    """Mark the order paid (staff for manual payments, or an approved callback with ``payment``)."""
    # An order the caller has locked in its own transaction and that may become paid needs no
    # savepoint: nothing here is refused, and a failure undoes the caller's transaction anyway.
    # Two statements fewer while a payment callback holds the write lock.
    settled = getattr(order, "locked_for_update", False) and order.can_transition_to(
        Order.Status.PAID
    )
    with transaction.atomic(savepoint=not settled):
        order = _locked(shop, order)
        now = clock.now()
        order.transition_to(Order.Status.PAID, actor=actor, note=note or PAYMENT_RECEIVED_NOTE)
        order.paid_at = now
        update(order, ["status", "paid_at"])
        payment = (
            payment
            or order.payments.select_for_update().filter(status=Payment.Status.PENDING).last()
        )
        if payment is not None:
            payment.status, payment.updated_at = Payment.Status.APPROVED, now
            update(payment, ["status", "updated_at"])
        # Read once for every handler and the timeline's items, unless the caller read them
        # before its transaction (a payment callback).
        if order_lines_kept(order) is None:
            order_lines_keep(order, order_lines_for(order_id=order.pk, event=extensions.PAID))
        extensions.run_handlers(extensions.PAID, shop=shop, order=order)
        items = paid_items(order.lines.all())
        # Kept for this change only: a later one (a parcel shipped) reads them afresh.
        order_lines_forget(order)
        _record(
            order,
            Interaction.Kind.ORDER_PAID,
            source,
            total=order.total,
            currency=order.currency,
            items=items,
        )
        transaction.on_commit(lambda: tasks.send_order_email(order.pk, "confirmed"))
    return order


@transaction.atomic
def order_cancel(
    *,
    shop: Shop,
    order: Order,
    actor=None,
    reason: str = "",
    source: str = Interaction.Source.DASHBOARD,
) -> Order:
    """Cancel an unpaid order and give its stock back."""
    order = _locked(shop, order)
    order.transition_to(Order.Status.CANCELLED, actor=actor, note=reason)
    order.save(update_fields=["status"])
    stock_return(shop=shop, items=_unshipped_items(order))
    pending = list(order.payments.filter(status=Payment.Status.PENDING))
    order.payments.filter(status=Payment.Status.PENDING).update(
        status=Payment.Status.DECLINED, updated_at=clock.now()
    )
    for payment in pending:
        # After commit (a gateway's call never runs inside the transaction); robust, since the
        # cancellation stands either way and a payment made meanwhile arrives as a callback.
        transaction.on_commit(partial(_payment_withdraw, payment), robust=True)
    extensions.run_handlers(extensions.CANCELLED, shop=shop, order=order)
    _record(order, Interaction.Kind.ORDER_CANCELLED, source, reason=reason)
    return order


def _payment_withdraw(payment: Payment) -> None:
    """Ask the provider to withdraw a cancelled order's payment, if it has a way to."""
    cancel = getattr(get_provider(payment.provider), "cancel", None)
    if cancel is not None:
        cancel(payment=payment)


@transaction.atomic
def order_refund(
    *,
    shop: Shop,
    order: Order,
    actor=None,
    reason: str = "",
    amount: int | None = None,
    idempotency_key: str = "",
    tell_fan: bool | None = None,
) -> Order:
    """Refund a paid order: all that is left of its payment (the default) or ``amount`` minor
    units of it, at most what is left.

    All that is left moves the order to refunded and puts what was not shipped back into stock;
    less leaves the order's status as it is. The refund is recorded as requested (see
    ``order.refunds``) and the payment's provider is asked after commit, by the worker
    (``services.refunds``): the payment becomes refunded once all of it is back, and the fan is
    e-mailed then if ``tell_fan`` (by default when staff, the ``actor``, refund it: a refund the
    system decides on its own is explained to the fan by what decided it, such as a drop sold
    out before the payment arrived). A repeated call with the same ``idempotency_key`` changes
    nothing. Raises InvalidTransition for an order that cannot be refunded, InvalidInput for an
    amount of zero or above what is left.
    """
    # Imported here: the refunds module locks orders through this one.
    from kinfolk.orders.services import refunds

    order = _locked(shop, order)
    if refunds.refund_already_made(order=order, idempotency_key=idempotency_key):
        return order
    payment = refunds.refundable_payment(order)
    amount, full = refunds.refund_amount(order=order, payment=payment, amount=amount)
    if full:
        order.transition_to(Order.Status.REFUNDED, actor=actor, note=reason)
        order.save(update_fields=["status"])
        stock_return(shop=shop, items=_unshipped_items(order))
        extensions.run_handlers(extensions.REFUNDED, shop=shop, order=order)
        # Only a refund in full: the CRM reads a live order's ``order_refunded`` as no purchase.
        _record(order, Interaction.Kind.ORDER_REFUNDED, Interaction.Source.DASHBOARD, reason=reason)
    refunds.refund_request(
        order=order,
        payment=payment,
        amount=amount,
        full=full,
        actor=actor,
        reason=reason,
        idempotency_key=idempotency_key,
        tell_fan=tell_fan,
    )
    return order


@transaction.atomic
def order_mark_delivered(*, shop: Shop, order: Order, actor=None) -> Order:
    order = _locked(shop, order)
    order.transition_to(Order.Status.DELIVERED, actor=actor)
    order.save(update_fields=["status"])
    _record(order, Interaction.Kind.ORDER_DELIVERED, Interaction.Source.DASHBOARD)
    return order


@transaction.atomic
def order_ship(
    *,
    shop: Shop,
    order: Order,
    carrier: str,
    tracking_number: str,
    actor=None,
    quantities: dict[int, int] | None = None,
) -> Shipment:
    """Record a parcel with carrier and tracking number and e-mail the fan.

    ``quantities`` maps order-line ids to how many are in this parcel; by default everything not
    yet shipped. The order becomes shipped when every line is, else partially shipped.
    """
    order = _locked(shop, order)
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    errors = {}
    if not carrier:
        errors["carrier"] = _("Enter the carrier, e.g. CJ Logistics or USPS.")
    if not tracking_number:
        errors["tracking_number"] = _("Enter the tracking number.")
    if errors:
        raise InvalidInput(next(iter(errors.values())), field=next(iter(errors)), errors=errors)
    # Digital lines are delivered by download, not in a parcel: only physical lines are shipped.
    lines = {
        line.pk: line
        for line in OrderLine.objects.select_for_update()
        .filter(order=order)
        .exclude(product_kind=Product.Kind.DIGITAL)
    }
    if quantities is None:
        quantities = {pk: line.quantity - line.shipped_quantity for pk, line in lines.items()}
    quantities = {pk: q for pk, q in quantities.items() if q}
    for pk, quantity in quantities.items():
        line = lines.get(pk)
        if line is None or quantity < 0 or quantity > line.quantity - line.shipped_quantity:
            raise InvalidInput(_("A quantity is more than is left to ship."), field="quantities")
    if not quantities:
        raise InvalidInput(_("Nothing is left to ship on this order."))
    now = clock.now()
    everything = all(
        lines[pk].shipped_quantity + quantities.get(pk, 0) == lines[pk].quantity for pk in lines
    )
    order.transition_to(
        Order.Status.SHIPPED if everything else Order.Status.PARTIALLY_SHIPPED,
        actor=actor,
        note=f"{carrier} {tracking_number}",
    )
    order.save(update_fields=["status"])
    shipment = Shipment.objects.create(
        shop=shop,
        order=order,
        carrier=carrier,
        tracking_number=tracking_number,
        shipped_at=now,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    for pk, quantity in quantities.items():
        OrderLine.objects.filter(pk=pk).update(shipped_quantity=F("shipped_quantity") + quantity)
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=shipment, order_line_id=pk, quantity=q)
        for pk, q in quantities.items()
    )
    _record(
        order,
        Interaction.Kind.ORDER_SHIPPED,
        Interaction.Source.DASHBOARD,
        carrier=carrier,
        tracking_number=tracking_number,
    )
    transaction.on_commit(lambda: tasks.send_order_email(order.pk, "shipped", str(shipment.pk)))
    return shipment
