"""Order e-mails in the fan's language, each claimed in OrderMessage so it is sent at most once.

"placed", "confirmed" (no key), "shipped" (key: the shipment's id) and "refunded" (key: the
refund's id, sent once its money is back with the fan).
"""

from __future__ import annotations

import datetime as dt
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kinfolk.core import clock
from kinfolk.core.addresses import address_format
from kinfolk.core.errors import InvalidInput
from kinfolk.orders.models import Order, OrderMessage, Refund
from kinfolk.orders.payments import PaymentProvider, get_provider

KINDS = {"placed", "confirmed", "shipped", "refunded"}
# When a refund reaches the fan, for a provider that does not say (see PaymentProvider).
REFUND_ARRIVAL = _("It may take a few business days to reach your account, depending on your bank.")
# A claim this old that was never marked sent belongs to a worker that died while sending: a
# retry may take it over. Far longer than any SMTP exchange (its timeout is seconds).
STALE_CLAIM = dt.timedelta(minutes=10)


def order_page_url(order: Order) -> str:
    """Return the absolute link to the order's page that works without logging in."""
    path = reverse("storefront:order", args=[order.shop.slug, order.number])
    return f"{settings.BASE_URL}{path}?t={order.access_token}"


def order_email_send(*, order_id: int, kind: str, key: str = "") -> bool:
    """Send the ``kind`` e-mail for the order; return False when it was already sent or there is
    nobody to send it to (the fan's data was erased)."""
    if kind not in KINDS:
        raise ValueError(kind)
    order = (
        Order.objects.select_related("shop").prefetch_related("lines", "shipments").get(pk=order_id)
    )
    if not order.email:
        return False
    if kind == "confirmed" and order.status == Order.Status.REFUNDED:
        return False  # refunded before the worker got here (e.g. a drop sold out meanwhile)
    if kind == "refunded" and not _refund_done(order, key):
        return False
    try:
        with transaction.atomic():
            message = OrderMessage.objects.create(
                order=order, kind=kind, key=key, to=order.email, claimed_at=clock.now()
            )
    except IntegrityError:
        # Sent, or being sent by another worker: unless that worker died long ago, leave it.
        message = _take_over_stale_claim(order=order, kind=kind, key=key)
        if message is None:
            return False
    try:
        _send(order, kind, key)
    except Exception:
        # Not sent: release this worker's claim, and only that (another worker may have taken
        # it over meanwhile), so that the task's retry can send it.
        OrderMessage.objects.filter(
            pk=message.pk, claimed_at=message.claimed_at, sent_at__isnull=True
        ).delete()
        raise
    OrderMessage.objects.filter(pk=message.pk).update(sent_at=clock.now())
    return True


def _take_over_stale_claim(*, order: Order, kind: str, key: str) -> OrderMessage | None:
    """Return the message claimed for this worker if its claim is stale: never sent and
    claimed longer than STALE_CLAIM ago (the worker sending it died). Else return None.

    One conditional write, so that of two workers finding the same stale claim one takes it.
    """
    message = OrderMessage.objects.filter(order=order, kind=kind, key=key).first()
    now = clock.now()
    if message is None or message.sent_at is not None or message.claimed_at > now - STALE_CLAIM:
        return None
    taken = OrderMessage.objects.filter(
        pk=message.pk, sent_at__isnull=True, claimed_at=message.claimed_at
    ).update(claimed_at=now)
    if not taken:
        return None
    message.claimed_at = now
    return message


def _refund_done(order: Order, key: str) -> bool:
    """Return whether ``key`` names a refund of the order whose money is back with the fan, to
    be told."""
    return (
        key.isdigit()
        and Refund.objects.filter(
            pk=key, order=order, status=Refund.Status.SUCCEEDED, tell_fan=True
        ).exists()
    )


def _provider(code: str) -> PaymentProvider | None:
    """Return the provider ``code``, None when it is no longer enabled (its orders still get
    their e-mails)."""
    try:
        return get_provider(code)
    except InvalidInput:
        return None


def _refund_context(order: Order, key: str) -> dict:
    """Return what the "refunded" e-mail shows: the refund, how much of the payment is back in
    all, and when the money reaches the fan."""
    refund = Refund.objects.select_related("payment").get(pk=key, order=order)
    payment = refund.payment
    back = (
        payment.refunds.filter(status=Refund.Status.SUCCEEDED).aggregate(total=Sum("amount"))[
            "total"
        ]
        or 0
    )
    provider = _provider(refund.provider)
    return {
        "refund": refund,
        "paid": payment.amount,
        "refunded_in_all": back,
        "all_back": back >= payment.amount,
        "arrival": getattr(provider, "refund_arrival", None) or REFUND_ARRIVAL,
    }


def _send(order: Order, kind: str, key: str) -> None:
    shipment = order.shipments.filter(pk=key).first() if kind == "shipped" and key else None
    provider = _provider(order.payment_provider)
    with translation.override(order.language or "en"):
        context = {
            "order": order,
            "shop": order.shop,
            "lines": list(order.lines.all()),
            "order_url": order_page_url(order),
            "address": address_format(order.shipping_address) if order.shipping_address else "",
            "shipment": shipment,
            "instructions": provider.instructions if provider is not None else "",
        }
        if kind == "refunded":
            context.update(_refund_context(order, key))
        subject = render_to_string(f"orders/email/{kind}_subject.txt", context).strip()
        text = render_to_string(f"orders/email/{kind}.txt", context)
        html = render_to_string(f"orders/email/{kind}.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=formataddr((order.shop.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])),
        to=[order.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    email.attach_alternative(html, "text/html")
    email.send()
