"""Drops e-mails in the fan's language, each claimed in DropMessage so it is sent at most once:

- "offer": a copy came free and the waitlist offers it to the fan, held for them (key: the
  hold's token); the link opens the hold's page, where the fan buys it or gives it back;
- "sold_out_refund": the fan's payment arrived after every copy was sold, so it was refunded
  (key: the order's id); the link leads to the drop's waitlist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from kinfolk.core import clock
from kinfolk.drops.models import DropMessage, Edition, Hold
from kinfolk.orders.emails import order_page_url
from kinfolk.orders.models import Order, OrderLine
from kinfolk.shops.models import Shop

# A claim this old that was never marked sent belongs to a worker that died while sending: a
# retry may take it over. Far longer than any SMTP exchange (its timeout is seconds).
STALE_CLAIM = dt.timedelta(minutes=10)


def drop_page_url(edition: Edition) -> str:
    """Return the absolute link to the edition's drop page."""
    path = reverse("storefront:drop", args=[edition.shop.slug, edition.product.slug])
    return f"{settings.BASE_URL}{path}"


def hold_page_url(hold: Hold) -> str:
    """Return the absolute link to the hold's page (buy the copy held, or give it back)."""
    edition = hold.edition
    path = reverse(
        "storefront:drop-hold", args=[edition.shop.slug, edition.product.slug, hold.token]
    )
    return f"{settings.BASE_URL}{path}"


@dataclass
class _Mail:
    """What one e-mail needs: where it goes, in which language, and its template context."""

    shop: Shop
    edition: Edition
    to: str
    language: str
    context: dict


def _offer(token: str) -> _Mail | None:
    hold = (
        Hold.objects.select_related("edition__product", "edition__shop", "waitlist_entry")
        .filter(token=token)
        .first()
    )
    if hold is None:
        return None
    entry = getattr(hold, "waitlist_entry", None)
    edition = hold.edition
    return _Mail(
        shop=edition.shop,
        edition=edition,
        to=hold.email,
        language=(entry.language if entry else "") or "en",
        context={"hold": hold, "hold_url": hold_page_url(hold)},
    )


def _sold_out_refund(order_id: str) -> _Mail | None:
    order = Order.objects.select_related("shop").filter(pk=order_id).first()
    line = (
        OrderLine.objects.filter(order=order, variant__edition__isnull=False)
        .select_related("variant__edition__product", "variant__edition__shop")
        .first()
        if order
        else None
    )
    if line is None or not order.email:
        return None
    edition = line.variant.edition
    return _Mail(
        shop=order.shop,
        edition=edition,
        to=order.email,
        language=order.language or "en",
        context={"order": order, "order_url": order_page_url(order)},
    )


_BUILDERS = {DropMessage.Kind.OFFER: _offer, DropMessage.Kind.SOLD_OUT_REFUND: _sold_out_refund}


def drop_email_send(*, kind: str, key: str) -> bool:
    """Send the ``kind`` e-mail about ``key``; return False when it was already sent or there is
    nothing (or nobody) to send it to."""
    if kind not in _BUILDERS:
        raise ValueError(kind)
    mail = _BUILDERS[kind](key)
    if mail is None or not mail.to:
        return False
    try:
        with transaction.atomic():
            message = DropMessage.objects.create(
                shop=mail.shop,
                edition=mail.edition,
                kind=kind,
                key=key,
                to=mail.to,
                claimed_at=clock.now(),
            )
    except IntegrityError:
        # Sent, or being sent by another worker: unless that worker died long ago, leave it.
        message = _take_over_stale_claim(shop=mail.shop, kind=kind, key=key)
        if message is None:
            return False
    try:
        _send(kind, mail)
    except Exception:
        # Not sent: release this worker's claim, and only that, so that a retry can send it.
        DropMessage.objects.filter(
            pk=message.pk, claimed_at=message.claimed_at, sent_at__isnull=True
        ).delete()
        raise
    DropMessage.objects.filter(pk=message.pk).update(sent_at=clock.now())
    return True


def _take_over_stale_claim(*, shop: Shop, kind: str, key: str) -> DropMessage | None:
    """Return the message claimed for this worker if its claim is stale (never sent, claimed
    longer than STALE_CLAIM ago); else None. One conditional write decides between workers."""
    message = DropMessage.objects.filter(shop=shop, kind=kind, key=key).first()
    now = clock.now()
    if message is None or message.sent_at is not None or message.claimed_at > now - STALE_CLAIM:
        return None
    taken = DropMessage.objects.filter(
        pk=message.pk, sent_at__isnull=True, claimed_at=message.claimed_at
    ).update(claimed_at=now)
    if not taken:
        return None
    message.claimed_at = now
    return message


def _send(kind: str, mail: _Mail) -> None:
    edition = mail.edition
    with translation.override(mail.language):
        context = {
            "shop": mail.shop,
            "edition": edition,
            "product": edition.product,
            "drop_url": drop_page_url(edition),
            "LANGUAGE_CODE": mail.language,
            **mail.context,
        }
        subject = render_to_string(f"drops/email/{kind}_subject.txt", context).strip()
        text = render_to_string(f"drops/email/{kind}.txt", context)
        html = render_to_string(f"drops/email/{kind}.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=formataddr((mail.shop.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])),
        to=[mail.to],
        headers={"Auto-Submitted": "auto-generated"},
    )
    email.attach_alternative(html, "text/html")
    email.send()
