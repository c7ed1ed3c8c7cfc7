"""Payment callbacks from providers: verified, recorded once per event, applied once per payment."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from kinfolk.core import clock
from kinfolk.core.prepared import PreparedQuery, PreparedRead, insert
from kinfolk.crm.models import Interaction
from kinfolk.orders import extensions
from kinfolk.orders.models import Order, OrderEvent, OrderLine, Payment, PaymentCallback
from kinfolk.orders.notes import REFUND_NEEDED_NOTE, payment_declined_note
from kinfolk.orders.payments import get_provider
from kinfolk.orders.selectors import (
    order_lines_for,
    order_lines_keep,
    order_lines_kept,
)
from kinfolk.orders.services.lifecycle import order_cancel, order_lock, order_mark_paid


def payment_callback_handle(*, provider_code: str, body: bytes, headers: dict[str, str]) -> str:
    """Apply a provider's callback and return what happened (for the response and the log).

    Raises Forbidden when the signature does not verify. A callback delivered twice, or arriving
    after the payment was settled, changes nothing: at most one approved payment per order, and
    the database refuses a second (see Payment's constraints).
    """
    provider = get_provider(provider_code)
    event = provider.parse_callback(body=body, headers=headers)
    # "Not blank" as the unique index on (provider, reference) is written: only then does SQLite
    # search that partial index instead of reading every payment. One at most (it is unique).
    # Read with its order and customer before the write transaction (on SQLite the whole
    # database's write lock), which checks them again (see _lock).
    found = _PAYMENT.objects("", provider_code, event.reference)
    payment = found[0] if found else None
    lines = None
    if payment is not None and event.approved and payment.status == Payment.Status.PENDING:
        # What paying the order reads of its lines: they do not change once it is placed.
        lines = order_lines_for(order_id=payment.order_id, event=extensions.PAID)
    try:
        with transaction.atomic():
            outcome = _apply(payment, event, lines)
            # Recorded last, with its outcome: one INSERT. A second delivery of the event fails
            # here and undoes whatever its _apply did (nothing, as the payment is settled).
            insert(
                PaymentCallback(
                    provider=provider_code,
                    event_id=event.event_id,
                    payment=payment,
                    payload=event.raw or {},
                    outcome=outcome,
                    received_at=clock.now(),
                )
            )
    except IntegrityError:
        if PaymentCallback.objects.filter(provider=provider_code, event_id=event.event_id).exists():
            return "duplicate"
        raise
    return outcome


# The payment a callback names, with its shop, order and customer (compiled once per process:
# see PreparedQuery). Its values: the blank reference, the provider, the reference.
_PAYMENT = PreparedQuery(
    lambda blank, provider, reference: (
        Payment.objects.select_related("shop", "order__customer")
        .exclude(reference=blank)
        .filter(provider=provider, reference=reference)
    )
)


# What must still be as read before the transaction for that read to serve inside it: the
# payment's and the order's status, the order's customer and the account linked to it.
_PAYMENT_NOW = PreparedRead(
    lambda payment_id: Payment.objects.filter(pk=payment_id).values_list(
        "status", "order__status", "order__customer_id", "order__customer__account_id"
    )
)


def _as_read(payment: Payment) -> tuple:
    order = payment.order
    return (payment.status, order.status, order.customer_id, order.customer.account_id)


def _lock(payment: Payment, lines: list[OrderLine] | None) -> tuple[Order, Payment]:
    """Return the payment's order and the payment as they are now, locked for the transaction
    (with the order's ``lines``, when read before it)."""
    shop = payment.shop
    if connection.features.has_select_for_update:
        # Lock the order before the payment: the same order as staff actions, so no deadlock.
        order = order_lock(shop=shop, order_id=payment.order_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
    elif _PAYMENT_NOW.rows(payment.pk) == [_as_read(payment)]:
        # SQLite has no row locks: the transaction holds the whole database's write lock since
        # its BEGIN, so what one read finds now stays so until it commits. Unchanged since the
        # read before the transaction, that read serves (one cheap statement instead of the
        # ORM's whole read under the lock).
        order = payment.order
        order.locked_for_update = True  # as order_lock marks it: the status services take it
    else:
        payment = Payment.objects.select_related("order__customer").get(pk=payment.pk, shop=shop)
        order = payment.order
        order.locked_for_update = True
    order.shop = payment.shop = shop
    if lines is not None and order_lines_kept(order) is None:
        order_lines_keep(order, lines)
    return order, payment


def _apply(payment: Payment | None, event, lines: list[OrderLine] | None) -> str:
    if payment is None:
        return "unknown_payment"
    shop = payment.shop
    order, payment = _lock(payment, lines)
    if payment.status != Payment.Status.PENDING:
        if event.approved and payment.status == Payment.Status.DECLINED:
            return _approved_after_cancel(order)
        return f"ignored_{payment.status}"
    if event.amount != payment.amount or event.currency != payment.currency:
        return "amount_mismatch"
    if event.approved:
        if not order.can_transition_to(Order.Status.PAID):
            return f"ignored_order_{order.status}"
        order_mark_paid(
            shop=shop,
            order=order,
            source=Interaction.Source.PAYMENT,
            note=f"{payment.provider} {payment.reference}",
            payment=payment,
        )
        return "approved"
    payment.status, payment.updated_at = Payment.Status.DECLINED, clock.now()
    payment.save(update_fields=["status", "updated_at"])
    if order.can_transition_to(Order.Status.CANCELLED):
        order_cancel(
            shop=shop,
            order=order,
            reason=payment_declined_note(event.reason),
            source=Interaction.Source.PAYMENT,
        )
    return "declined"


def _approved_after_cancel(order: Order) -> str:
    """Record, where staff see it, money taken for an order already cancelled (the fan paid the
    card page after the order expired): the order stays cancelled and the money goes back."""
    OrderEvent.objects.create(
        order=order,
        to_status=order.status,
        actor_label="system",
        note=REFUND_NEEDED_NOTE,
        created_at=clock.now(),
    )
    return "approved_after_cancel"
