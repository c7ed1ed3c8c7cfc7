"""Writes of following: a fan with an account starts or stops following a shop.

Following needs an account whose address is confirmed: the follow lands on the shop's customer
record of that address, and only a confirmed address may be linked to an account (see
``customer_get_or_create``); an unconfirmed one would let anyone follow in a stranger's name.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kinfolk.accounts.models import User
from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.crm.models import Customer, Follow, Interaction
from kinfolk.crm.services.customers import customer_get_or_create, interaction_record
from kinfolk.shops.models import Shop

# Longest ``source`` kept (Follow.source); longer labels are cut, not refused.
SOURCE_LENGTH = 60


def _customer_of(*, shop: Shop, account: User) -> Customer:
    if not account.is_authenticated:
        raise InvalidInput(_("Log in to follow this shop."), code="login_required")
    if not account.email_confirmed:
        raise InvalidInput(
            _("Confirm your e-mail address first, from the link in the e-mail sent to you."),
            code="unconfirmed",
        )
    return customer_get_or_create(
        shop=shop, email=account.email, name=account.name, account=account
    )


@transaction.atomic
def follow_start(*, shop: Shop, account: User, source: str = "") -> Follow:
    """Make the account's customer in the shop follow it and return the Follow.

    Following again changes nothing and records nothing: the existing row is returned.
    """
    customer = _customer_of(shop=shop, account=account)
    existing = Follow.objects.filter(shop=shop, customer=customer).first()
    if existing is not None:
        return existing
    now = clock.now()
    try:
        # Two clicks at once: the unique (shop, customer) constraint keeps one row.
        with transaction.atomic():
            follow = Follow.objects.create(
                shop=shop, customer=customer, followed_at=now, source=source[:SOURCE_LENGTH]
            )
    except IntegrityError:
        return Follow.objects.get(shop=shop, customer=customer)
    interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.FOLLOW,
        source=Interaction.Source.STOREFRONT,
        occurred_at=now,
        subject_type="shop",
        subject_id=shop.pk,
        data={"source": follow.source} if follow.source else {},
    )
    return follow


@transaction.atomic
def follow_stop(*, shop: Shop, account: User, source: str = "") -> bool:
    """Stop the account's customer following the shop; return whether they were following."""
    if not account.is_authenticated:
        raise InvalidInput(_("Log in to follow this shop."), code="login_required")
    customer = Customer.objects.filter(shop=shop, account=account).first()
    if customer is None:
        return False
    deleted, _rows = Follow.objects.filter(shop=shop, customer=customer).delete()
    if not deleted:
        return False
    interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.UNFOLLOW,
        source=Interaction.Source.STOREFRONT,
        subject_type="shop",
        subject_id=shop.pk,
        data={"source": source[:SOURCE_LENGTH]} if source else {},
    )
    return True
