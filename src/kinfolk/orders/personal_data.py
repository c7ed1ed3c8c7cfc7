"""The orders' part in a person's data requests, registered with ``kinfolk.crm.personal_data``.

An order holds the buyer's e-mail address and shipping address (with the recipient's name and any
phone number), its history may name the buyer (the placing event is labelled with their address,
staff notes may mention them), its e-mails record where they went, and a payment provider's
callback may carry billing details. An erasure blanks all of that and keeps what the shop's books
need: number, lines, totals, currency, shipping country and method, dates, status, payments'
amounts and references, and parcels' carriers and tracking numbers (needed for a claim with the
carrier; on their own they name nobody). The order's account link is cut and its access token
replaced, so that the old e-mailed link to the order page no longer opens it.

A merge moves the orders to the kept customer and leaves their account links alone: orders placed
as a guest do not join an account because staff judged two records to be one person.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db.models import Prefetch

from kinfolk.crm import personal_data
from kinfolk.crm.models import Customer
from kinfolk.orders.models import Order, OrderEvent, OrderMessage, PaymentCallback
from kinfolk.shops.models import Shop

# Keys of a provider's callback payload that hold a person's details, at any depth.
PERSONAL_PAYLOAD_KEYS = frozenset(
    {
        "email",
        "name",
        "phone",
        "address",
        "billing_details",
        "shipping",
        "customer",
        "ip",
        "ip_address",
        "receipt_email",
    }
)


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def orders_data_export(shop: Shop, customer: Customer) -> list[dict[str, Any]]:
    """Return the customer's orders in the shop with lines, history, payments and parcels.

    Amounts are in minor units of the order's currency (cents; won have none).
    """
    orders = (
        Order.objects.filter(shop=shop, customer=customer)
        .prefetch_related(
            "lines", "payments", Prefetch("events", queryset=OrderEvent.objects.order_by("id"))
        )
        .prefetch_related("shipments")
        .order_by("placed_at", "id")
    )
    return [_order(order) for order in orders]


def _order(order: Order) -> dict[str, Any]:
    return {
        "number": order.number,
        "status": order.status,
        "placed_at": _iso(order.placed_at),
        "paid_at": _iso(order.paid_at),
        "email": order.email,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "shipping": order.shipping,
        "total": order.total,
        "shipping_address": order.shipping_address,
        "shipping_country": order.shipping_country,
        "shipping_method": order.shipping_method,
        "payment_provider": order.payment_provider,
        "language": order.language,
        "lines": [
            {
                "product": line.product_name,
                "option": line.variant_name,
                "sku": line.sku,
                "unit_price": line.unit_price,
                "quantity": line.quantity,
                "shipped_quantity": line.shipped_quantity,
            }
            for line in order.lines.all()
        ],
        "history": [
            {
                "from": event.from_status,
                "to": event.to_status,
                "at": _iso(event.created_at),
                "note": event.note,
            }
            for event in order.events.all()
        ],
        "payments": [
            {
                "provider": payment.provider,
                "status": payment.status,
                "amount": payment.amount,
                "currency": payment.currency,
                "created_at": _iso(payment.created_at),
            }
            for payment in order.payments.all()
        ],
        "parcels": [
            {
                "carrier": shipment.carrier,
                "tracking_number": shipment.tracking_number,
                "shipped_at": _iso(shipment.shipped_at),
            }
            for shipment in order.shipments.all()
        ],
    }


def orders_data_erase(shop: Shop, customer: Customer) -> int:
    """Blank the personal data on the customer's orders in the shop; return the rows changed."""
    orders = list(Order.objects.select_for_update().filter(shop=shop, customer=customer))
    if not orders:
        return 0
    identifiers = _identifiers(customer, orders)
    for order in orders:
        order.email = ""
        order.shipping_address = {}
        order.account = None
        order.access_token = secrets.token_urlsafe()
    Order.objects.bulk_update(
        orders, ["email", "shipping_address", "account", "access_token"], batch_size=500
    )
    order_ids = [order.pk for order in orders]
    changed = len(orders)
    changed += _erase_events(order_ids, customer=customer, identifiers=identifiers)
    changed += OrderMessage.objects.filter(order_id__in=order_ids).exclude(to="").update(to="")
    changed += _erase_callbacks(order_ids, identifiers=identifiers)
    return changed


def _identifiers(customer: Customer, orders: list[Order]) -> list[str]:
    found = set(personal_data.identifiers_of(customer))
    for order in orders:
        address = order.shipping_address or {}
        for value in (order.email, address.get("name"), address.get("company_name")):
            if value and len(value.strip()) >= personal_data.MIN_IDENTIFIER_LENGTH:
                found.add(value.strip().lower())
    return sorted(found)


def _erase_events(order_ids: list[int], *, customer: Customer, identifiers: list[str]) -> int:
    """Cut the buyer's account from the orders' history and blank labels and notes naming them."""
    changed = []
    for event in OrderEvent.objects.filter(order_id__in=order_ids):
        actor_id = None if event.actor_id == customer.account_id else event.actor_id
        label = personal_data.scrub(event.actor_label, identifiers)
        note = personal_data.scrub(event.note, identifiers)
        if (actor_id, label, note) != (event.actor_id, event.actor_label, event.note):
            event.actor_id, event.actor_label, event.note = actor_id, label, note
            changed.append(event)
    OrderEvent.objects.bulk_update(changed, ["actor", "actor_label", "note"], batch_size=500)
    return len(changed)


def _erase_callbacks(order_ids: list[int], *, identifiers: list[str]) -> int:
    """Drop the person's details from what payment providers sent about these orders."""
    changed = 0
    for callback in PaymentCallback.objects.filter(payment__order_id__in=order_ids):
        payload = personal_data.scrub(_without_personal_keys(callback.payload), identifiers)
        if payload != callback.payload:
            PaymentCallback.objects.filter(pk=callback.pk).update(payload=payload)
            changed += 1
    return changed


def _without_personal_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _without_personal_keys(item)
            for key, item in value.items()
            if key.lower() not in PERSONAL_PAYLOAD_KEYS
        }
    if isinstance(value, list):
        return [_without_personal_keys(item) for item in value]
    return value


def orders_merge(shop: Shop, source: Customer, target: Customer) -> int:
    """Move the source's orders to the target; return how many moved."""
    return Order.objects.filter(shop=shop, customer=source).update(customer=target)


def register_handlers() -> None:
    """Register the orders' handlers (called from ``OrdersConfig.ready``)."""
    personal_data.register(
        "orders", export=orders_data_export, erase=orders_data_erase, merge=orders_merge
    )
