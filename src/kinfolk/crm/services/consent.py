"""A fan's mailing-list choice, per shop, with its proof: asking (the pending half of a double
opt-in, answered by an e-mailed link), confirming (the ConsentRecord with the words shown, the
source, the time and the address it came from) and withdrawing (the unsubscribe link every
mailing-list e-mail carries).

The confirmation e-mail goes out right after commit, from the process that asked; an SMTP
failure is logged and leaves the request pending (the fan can ask again), never undoes it.
"""

from __future__ import annotations

import logging
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.crm.models import ConsentRecord, ConsentRequest, Customer, Interaction
from kinfolk.crm.services.customers import interaction_record
from kinfolk.shops.models import Shop

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "kinfolk.crm.unsubscribe"
SOURCE_MAX_LENGTH = 40


@transaction.atomic
def consent_request_create(
    *,
    shop: Shop,
    customer: Customer,
    source: str,
    wording: str,
    ip_address: str | None,
    language: str,
) -> ConsentRequest:
    """Record that the customer ticked "join the mailing list" (``wording``: the words beside the
    box; ``source``: where, e.g. "release:12") and e-mail them the link that confirms it.

    Nothing is granted until that link is followed (``consent_request_confirm``).
    """
    if customer.shop_id != shop.pk:
        raise InvalidInput(_("This customer belongs to another shop."))
    if not customer.email:
        raise InvalidInput(_("An e-mail address is required."), field="email")
    if not wording.strip():
        raise InvalidInput("The words shown beside the choice are part of the proof.")
    request = ConsentRequest.objects.create(
        shop=shop,
        customer=customer,
        topic=ConsentRecord.Topic.EMAIL_MARKETING,
        source=source[:SOURCE_MAX_LENGTH],
        wording=wording,
        ip_address=ip_address or None,
        language=(language or "en")[:10],
        requested_at=clock.now(),
    )
    # Sent by the worker after commit: a slow or failing mail server neither holds the fan's
    # request nor loses the e-mail (the task retries).
    from kinfolk.crm.tasks import consent_email_send_task

    request_id = request.pk
    transaction.on_commit(lambda: consent_email_send_task(request_id))
    return request


@transaction.atomic
def consent_request_confirm(*, token: str, ip_address: str | None) -> ConsentRecord:
    """Confirm the request ``token`` (the fan followed the e-mailed link) and return the consent
    record; a second confirmation returns the first one's record and records nothing new."""
    request = (
        ConsentRequest.objects.select_for_update()
        .select_related("customer", "shop")
        .filter(token=(token or "")[:64])
        .first()
    )
    if request is None:
        raise NotFound(_("This confirmation link is not valid any more."))
    customer = request.customer
    if request.confirmed_at is not None:
        record = (
            ConsentRecord.objects.filter(
                customer=customer,
                topic=request.topic,
                granted=True,
                recorded_at=request.confirmed_at,
            )
            .order_by("-id")
            .first()
        )
        if record is not None:
            return record
    now = clock.now()
    request.confirmed_at, request.confirmed_ip = now, ip_address or None
    request.save(update_fields=["confirmed_at", "confirmed_ip"])
    return _record(
        shop=request.shop,
        customer=customer,
        granted=True,
        source=request.source,
        ip_address=ip_address,
        wording=request.wording,
        at=now,
        data={"requested_at": request.requested_at.isoformat(), "request": request.pk},
    )


@transaction.atomic
def marketing_consent_withdraw(
    *, shop: Shop, customer: Customer, source: str, ip_address: str | None, wording: str
) -> ConsentRecord:
    """Take the customer off the shop's mailing list (unsubscribe) and return the record."""
    if customer.shop_id != shop.pk:
        raise InvalidInput(_("This customer belongs to another shop."))
    return _record(
        shop=shop,
        customer=customer,
        granted=False,
        source=source,
        ip_address=ip_address,
        wording=wording,
        at=clock.now(),
    )


def _record(
    *,
    shop: Shop,
    customer: Customer,
    granted: bool,
    source: str,
    ip_address: str | None,
    wording: str,
    at,
    data: dict | None = None,
) -> ConsentRecord:
    record = ConsentRecord.objects.create(
        shop=shop,
        customer=customer,
        topic=ConsentRecord.Topic.EMAIL_MARKETING,
        granted=granted,
        recorded_at=at,
        source=source[:SOURCE_MAX_LENGTH],
        ip_address=ip_address or None,
        wording=wording,
    )
    Customer.objects.filter(pk=customer.pk).update(email_marketing=granted)
    customer.email_marketing = granted
    interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.CONSENT,
        occurred_at=at,
        subject_type="consent",
        subject_id=record.pk,
        data={"topic": record.topic, "granted": granted, "source": record.source, **(data or {})},
    )
    return record


def unsubscribe_token(*, customer: Customer) -> str:
    """Return the signed value of the customer's unsubscribe link (it does not expire)."""
    return signing.dumps([customer.shop_id, customer.pk], salt=UNSUBSCRIBE_SALT, compress=False)


def unsubscribe_token_read(*, shop: Shop, value: str) -> Customer:
    """Return the customer the unsubscribe value names in ``shop``; raise NotFound otherwise."""
    try:
        shop_id, customer_id = signing.loads((value or "")[:200], salt=UNSUBSCRIBE_SALT)
        shop_id, customer_id = int(shop_id), int(customer_id)
    except (signing.BadSignature, ValueError, TypeError):
        raise NotFound(_("This unsubscribe link is not valid.")) from None
    customer = Customer.objects.filter(shop=shop, pk=customer_id).first()
    if shop_id != shop.pk or customer is None:
        raise NotFound(_("This unsubscribe link is not valid."))
    return customer


def unsubscribe_url(*, customer: Customer) -> str:
    """Return the absolute unsubscribe link for mailing-list e-mails to ``customer``."""
    path = reverse(
        "storefront:unsubscribe", args=[customer.shop.slug, unsubscribe_token(customer=customer)]
    )
    return f"{settings.BASE_URL}{path}"


def consent_email_send(*, request_id: int) -> bool:
    """E-mail the confirmation link of a pending request; return False when there is nothing to
    send (confirmed already, or the customer was erased).

    A failure to send (the mail server down or refusing) raises, so that the task sending it
    runs again later (``consent_email_send_task`` retries) instead of losing the e-mail.
    """
    request = (
        ConsentRequest.objects.select_related("shop", "customer").filter(pk=request_id).first()
    )
    if request is None or request.confirmed_at is not None or not request.customer.email:
        return False
    shop = request.shop
    path = reverse("storefront:subscribe", args=[shop.slug, request.token])
    with translation.override(request.language or "en"):
        context = {
            "shop": shop,
            "request": request,
            "confirm_url": f"{settings.BASE_URL}{path}",
            "LANGUAGE_CODE": request.language,
        }
        subject = render_to_string("crm/email/consent_subject.txt", context).strip()
        text = render_to_string("crm/email/consent_confirm.txt", context)
        html = render_to_string("crm/email/consent_confirm.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=formataddr((shop.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])),
        to=[request.customer.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    email.attach_alternative(html, "text/html")
    try:
        email.send()
    except Exception:
        logger.warning("Mailing-list confirmation %s not sent; it will be retried", request_id)
        raise
    return True
