"""Writes of share links, visits, referrals and credits (rewards: ``kinfolk.referrals.rewards``).

Attribution is first touch: a person is referred by the first share link they arrived through
before the shop knew them, once per shop (a unique constraint), never by themselves. What they
then do (sign up, download, buy) is credited to that fan once per thing done (a unique
constraint), recorded on the fan's timeline, and may complete one of the shop's rewards.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from kinfolk.accounts.models import normalize_email
from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.core.prepared import PreparedRead
from kinfolk.crm.models import Customer, Interaction
from kinfolk.crm.services import customer_get_or_create, interaction_record
from kinfolk.referrals.first_touch import FirstTouch, cookie_name, is_share_code, touch_read
from kinfolk.referrals.models import (
    DEFAULT_WINDOW_DAYS,
    Channel,
    Referral,
    ReferralCredit,
    ReferralSettings,
    ShareLink,
    ShareVisit,
)
from kinfolk.referrals.rewards import rewards_evaluate
from kinfolk.shops.models import Shop

# Clocks of the web processes and the cookie's whole seconds: a customer created this much
# before the first visit's stamp still counts as created after it.
ATTRIBUTION_SLACK = dt.timedelta(seconds=10)


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


def window_days_of(shop: Shop) -> int:
    """Return the shop's attribution window in days (the default when it never set one)."""
    try:
        return shop.referral_settings.window_days
    except ReferralSettings.DoesNotExist:
        return DEFAULT_WINDOW_DAYS


def first_touch_from_request(request: HttpRequest, *, shop: Shop) -> FirstTouch | None:
    """Return the visitor's first touch in ``shop`` (its cookie, checked), or None."""
    if cookie_name(shop.pk) not in request.COOKIES:
        return None  # No cookie, no query for the shop's window.
    return touch_read(request, shop_id=shop.pk, window_days=window_days_of(shop))


def referral_code_from_request(request: HttpRequest, *, shop: Shop) -> str:
    """Return the share code of the visitor's first-touch cookie for ``shop`` ("" if none or
    past the shop's window)."""
    touch = first_touch_from_request(request, shop=shop)
    return touch.code if touch else ""


def share_visit_record(
    *, shop: Shop, link: ShareLink, channel: str, path: str, visitor: str = ""
) -> ShareVisit:
    """Record one visit through ``link`` (the middleware leaves crawlers out)."""
    if link.shop_id != shop.pk:
        raise InvalidInput("This share link belongs to another shop.")
    if channel not in Channel.values:
        channel = Channel.DIRECT
    return ShareVisit.objects.create(
        shop=shop,
        link=link,
        visited_at=clock.now(),
        channel=channel,
        path=path[:300],
        visitor=visitor[:64],
    )


def _is_self(link: ShareLink, customer: Customer) -> bool:
    """Return whether the link's owner and ``customer`` are one person (record, account or
    address)."""
    owner = link.customer
    if owner.pk == customer.pk:
        return True
    if owner.account_id and owner.account_id == customer.account_id:
        return True
    return bool(owner.email) and normalize_email(owner.email) == normalize_email(customer.email)


def _new_since_visit(
    shop: Shop,
    link: ShareLink,
    customer: Customer,
    *,
    first_visit_at: dt.datetime | None,
    now: dt.datetime,
) -> bool:
    """Return whether the shop came to know ``customer`` at or after their first visit through
    the link: someone it knew before was not brought by the fan who shared it.

    Without the visit's time (a caller that kept only the code), the earliest the visit can
    have been stands for it: not before the link existed, nor before the shop's window.
    """
    if first_visit_at is None:
        earliest = now - dt.timedelta(days=window_days_of(shop))
        first_visit_at = max(link.created_at, earliest)
    return customer.created_at >= min(first_visit_at, now) - ATTRIBUTION_SLACK


@transaction.atomic
def referral_attribute(
    *,
    shop: Shop,
    customer: Customer,
    referral_code: str,
    channel: str = "",
    first_visit_at: dt.datetime | None = None,
) -> Referral | None:
    """Return the customer's referral in the shop, making it from ``referral_code`` when they
    have none yet (first touch wins). None for a code of no link of the shop, or of their own,
    and for a customer the shop knew before ``first_visit_at`` (the first visit through the
    link): only people the fan brought count."""
    if customer.shop_id != shop.pk:
        raise InvalidInput(_("This customer belongs to another shop."))
    existing = Referral.objects.filter(shop=shop, referred=customer).first()
    if existing is not None or not is_share_code(referral_code):
        return existing
    link = (
        ShareLink.objects.filter(shop=shop, code=referral_code).select_related("customer").first()
    )
    if link is None or _is_self(link, customer):
        return None
    now = clock.now()
    if not _new_since_visit(shop, link, customer, first_visit_at=first_visit_at, now=now):
        return None
    try:
        with transaction.atomic():
            return Referral.objects.create(
                shop=shop,
                referrer=link.customer,
                referred=customer,
                link=link,
                channel=channel if channel in Channel.values else Channel.DIRECT,
                first_visit_at=min(first_visit_at or now, now),
                created_at=now,
            )
    except IntegrityError:
        # Referred at the same moment through another request: that first referral stands.
        return Referral.objects.filter(shop=shop, referred=customer).first()


@transaction.atomic
def referral_credit(
    *,
    shop: Shop,
    customer: Customer,
    kind: str,
    subject_id: str | int,
    referral_code: str = "",
    channel: str = "",
    first_visit_at: dt.datetime | None = None,
) -> ReferralCredit | None:
    """Credit what ``customer`` just did (``ReferralCredit.Kind``: signup, download, order) to
    the fan who brought them, attributing the customer first when ``referral_code`` names a
    share link and they have no referrer yet; grants any reward it completes. Does nothing for
    a customer nobody brought, and never credits anyone for themselves.

    Returns the new credit, or None (nobody to credit, or this very thing already credited).
    ``channel`` and ``first_visit_at`` (from the first-touch cookie) describe a new referral.
    """
    if kind not in ReferralCredit.Kind.values:
        raise InvalidInput(f"Unknown referral credit {kind!r}.")
    if customer.shop_id != shop.pk:
        raise InvalidInput(_("This customer belongs to another shop."))
    referral = referral_attribute(
        shop=shop,
        customer=customer,
        referral_code=referral_code,
        channel=channel,
        first_visit_at=first_visit_at,
    )
    if referral is None:
        return None
    # One referrer's credits queue here (PostgreSQL; SQLite has one writer anyway), so that
    # each sees the friends counted before it and a reward completed by two at once is seen.
    referrer = Customer.objects.select_for_update().get(pk=referral.referrer_id)
    now = clock.now()
    subject = str(subject_id)[:64]
    try:
        with transaction.atomic():
            credit = ReferralCredit.objects.create(
                shop=shop, referral=referral, kind=kind, subject_id=subject, occurred_at=now
            )
    except IntegrityError:
        return None  # Credited before (a repeated callback, a second click).
    interaction_record(
        shop=shop,
        customer=referrer,
        kind=Interaction.Kind.REFERRAL,
        source=Interaction.Source.STOREFRONT,
        occurred_at=now,
        subject_type="referral",
        subject_id=referral.pk,
        data={
            "event": kind,
            "subject": subject,
            "referred_id": customer.pk,
            "channel": referral.channel,
        },
        defer_stage=True,
    )
    rewards_evaluate(shop=shop, referrer=referrer, event=kind)
    return credit


@transaction.atomic
def referral_signup_credit(*, shop: Shop, account, touch: FirstTouch) -> ReferralCredit | None:
    """Credit a newly confirmed account's sign-up in ``shop``, the shop the sign-up started
    from, to the fan whose link brought the visitor there (``touch``: the visitor's valid first
    touch in that shop); return the credit, or None.

    Only that shop: the first-touch cookies of other shops the browser holds tell them nothing
    of the person. The account becomes (or stays) the shop's customer; one the shop knew before
    the first visit through the link is credited to nobody (see ``referral_attribute``).
    """
    customer = customer_get_or_create(
        shop=shop, email=account.email, name=account.name, account=account
    )
    return referral_credit(
        shop=shop,
        customer=customer,
        kind=ReferralCredit.Kind.SIGNUP,
        subject_id=f"account-{account.pk}",
        referral_code=touch.code,
        channel=touch.channel,
        first_visit_at=touch.at,
    )


# Whether a customer of the shop was referred: built once per process (see PreparedRead).
_REFERRED = PreparedRead(
    lambda customer_id, shop_id: (
        Referral.objects.filter(referred_id=customer_id)
        .filter(shop_id=shop_id)
        .values_list("pk")[:1]
    )
)


def referral_order_paid(*, shop: Shop, order) -> None:
    """Credit a paid order to the fan who brought its buyer (an orders ``paid`` handler).

    Runs inside the payment's transaction. A refund later leaves the credit and any reward in
    place: the friend did buy, and a reward already e-mailed is not taken back.
    """
    if order.customer_id is None:
        return
    # Most buyers were brought by nobody: one cheap read settles it, inside the payment's write
    # transaction, without the credit's savepoints.
    if not _REFERRED.rows(order.customer_id, shop.pk):
        return
    referral_credit(
        shop=shop, customer=order.customer, kind=ReferralCredit.Kind.ORDER, subject_id=order.number
    )
