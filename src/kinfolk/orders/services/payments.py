"""Payment callbacks from providers: verified, recorded once per event, applied once per payment."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from kinfolk.core import clock
from kinfolk.crm.models import Interaction
from kinfolk.orders.models import Order, OrderEvent, Payment, PaymentCallback
from kinfolk.orders.notes import REFUND_NEEDED_NOTE, payment_declined_note
from kinfolk.orders.payments import get_provider
from kinfolk.orders.services.lifecycle import order_cancel, order_lock, order_mark_paid


def payment_callback_handle(*, provider_code: str, body: bytes, headers: dict[str, str]) -> str:
    """Apply a provider's callback and return what happened (for the response and the log).

    Raises Forbidden when the signature does not verify. A callback delivered twice, or arriving
    after the payment was settled, changes nothing: at most one approved payment per order, and
    the database refuses a second (see Payment's constraints).
    """
    provider = get_provider(provider_code)
    event = provider.parse_callback(body=body, headers=headers)
    payment = (
        Payment.objects.select_related("shop")
        .filter(provider=provider_code, reference=event.reference)
        .first()
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                callback = PaymentCallback.objects.create(
                    provider=provider_code,
                    event_id=event.event_id,
                    payment=payment,
                    payload=event.raw or {},
                    outcome="received",
                    received_at=clock.now(),
                )
        except IntegrityError:
            return "duplicate"
        callback.outcome = _apply(payment, event)
        callback.save(update_fields=["outcome"])
        return callback.outcome


def _apply(payment: Payment | None, event) -> str:
    if payment is None:
        return "unknown_payment"
    shop = payment.shop
    # Lock the order before the payment: the same order as staff actions, so no deadlock.
    order = order_lock(shop=shop, order_id=payment.order_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
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
