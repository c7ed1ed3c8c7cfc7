"""Writes of share links, referrals, credits and rewards."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.crm.models import Customer
from kinfolk.referrals.models import ShareLink
from kinfolk.shops.models import Shop


def share_link_get_or_create(*, shop: Shop, customer: Customer) -> ShareLink:
    """Return the customer's personal share link in the shop, making it on first use."""
    if customer.shop_id != shop.pk:
        raise InvalidInput("This customer belongs to another shop.")
    link = ShareLink.objects.filter(shop=shop, customer=customer).first()
    if link is not None:
        return link
    try:
        with transaction.atomic():
            return ShareLink.objects.create(shop=shop, customer=customer, created_at=clock.now())
    except IntegrityError:
        return ShareLink.objects.get(shop=shop, customer=customer)


def referral_code_from_request(request: HttpRequest, *, shop: Shop) -> str:
    """Return the share code of the visitor's first-touch cookie for ``shop`` ("" if none or
    past the shop's window)."""
    return ""  # Filled in with the first-touch cookie (middleware).


def referral_credit(
    *,
    shop: Shop,
    customer: Customer,
    kind: str,
    subject_id: str | int,
    referral_code: str = "",
) -> None:
    """Credit what ``customer`` just did (``ReferralCredit.Kind``: signup, download, order) to
    the fan who brought them, attributing the customer first when ``referral_code`` names a
    share link and they have no referrer yet; grants any reward it completes. Does nothing for
    a customer nobody brought, and never credits anyone for themselves."""
    # Filled in with attribution, credits and rewards.
