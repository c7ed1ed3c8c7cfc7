"""The e-mail that tells a fan they earned a reward, in their language when the shop knows it."""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from kinfolk.orders.models import Order
from kinfolk.referrals.models import RewardGrant


def fan_language(customer) -> str:
    """Return the language to write to the fan in: their account's, else their last order's."""
    if customer.account_id and customer.account.preferred_language:
        return customer.account.preferred_language
    language = (
        Order.objects.filter(customer=customer)
        .exclude(language="")
        .order_by("-placed_at")
        .values_list("language", flat=True)
        .first()
    )
    return language or settings.LANGUAGE_CODE


def reward_email_send(*, grant_id: int) -> bool:
    """Send the reward e-mail of the grant (enqueued once, when it is granted); False when the
    grant is gone or its fan has no address (erased)."""
    grant = (
        RewardGrant.objects.select_related("shop", "rule__release__product", "customer__account")
        .filter(pk=grant_id)
        .first()
    )
    if grant is None or not grant.customer.email:
        return False
    context = {
        "grant": grant,
        "rule": grant.rule,
        "shop": grant.shop,
        "shop_url": settings.BASE_URL + reverse("storefront:shop", args=[grant.shop.slug]),
        "sharing_url": settings.BASE_URL + reverse("storefront:sharing"),
    }
    with translation.override(fan_language(grant.customer)):
        subject = render_to_string("referrals/email/reward_subject.txt", context)
        text = render_to_string("referrals/email/reward.txt", context)
        html = render_to_string("referrals/email/reward.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=formataddr((grant.shop.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])),
        to=[grant.customer.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    message.send()
    return True
