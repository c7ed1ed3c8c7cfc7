"""Order e-mails in the fan's language, each claimed in OrderMessage so it is sent at most once."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from kinfolk.core import clock
from kinfolk.core.addresses import address_format
from kinfolk.orders.models import Order, OrderMessage
from kinfolk.orders.payments import get_provider

KINDS = {"placed", "confirmed", "shipped"}


def order_page_url(order: Order) -> str:
    """Return the absolute link to the order's page that works without logging in."""
    path = reverse("storefront:order", args=[order.shop.slug, order.number])
    return f"{settings.BASE_URL}{path}?t={order.access_token}"


def order_email_send(*, order_id: int, kind: str, key: str = "") -> bool:
    """Send the ``kind`` e-mail for the order; return False when it was already sent."""
    if kind not in KINDS:
        raise ValueError(kind)
    order = (
        Order.objects.select_related("shop").prefetch_related("lines", "shipments").get(pk=order_id)
    )
    try:
        with transaction.atomic():
            message = OrderMessage.objects.create(
                order=order, kind=kind, key=key, to=order.email, claimed_at=clock.now()
            )
    except IntegrityError:
        message = OrderMessage.objects.get(order=order, kind=kind, key=key)
        if message.sent_at is not None:
            return False
    try:
        _send(order, kind, key)
    except Exception:
        # Not sent: release the claim so that the task's retry can send it.
        message.delete()
        raise
    OrderMessage.objects.filter(pk=message.pk).update(sent_at=clock.now())
    return True


def _send(order: Order, kind: str, key: str) -> None:
    shipment = order.shipments.filter(pk=key).first() if kind == "shipped" and key else None
    with translation.override(order.language or "en"):
        context = {
            "order": order,
            "shop": order.shop,
            "lines": list(order.lines.all()),
            "order_url": order_page_url(order),
            "address": address_format(order.shipping_address) if order.shipping_address else "",
            "shipment": shipment,
            "instructions": get_provider(order.payment_provider).instructions,
        }
        subject = render_to_string(f"orders/email/{kind}_subject.txt", context).strip()
        text = render_to_string(f"orders/email/{kind}.txt", context)
        html = render_to_string(f"orders/email/{kind}.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=f"{order.shop.name} <{settings.DEFAULT_FROM_EMAIL.split('<')[-1].rstrip('>')}>",
        to=[order.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    email.attach_alternative(html, "text/html")
    email.send()
