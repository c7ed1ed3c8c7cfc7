"""Who may download what: grants made by a purchase, a free claim, a reward or the shop."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.crm.models import Customer
from kinfolk.orders.models import Order
from kinfolk.releases.models import Grant, Release
from kinfolk.shops.models import Shop


def grant_give(
    *,
    shop: Shop,
    release: Release,
    customer: Customer,
    source: str,
    order: Order | None = None,
) -> Grant:
    """Return the customer's grant of ``release`` (of ``order`` when given), making it if new.

    Idempotent: one grant per person and release outside orders, one per order and release, so
    a repeated claim, a redelivered payment or two rewards arriving at once give one grant.
    """
    if release.shop_id != shop.pk or customer.shop_id != shop.pk:
        raise InvalidInput(_("This release belongs to another shop."))
    if source not in Grant.Source.values:
        raise InvalidInput(f"Unknown grant source {source!r}.")
    if (order is not None) != (source == Grant.Source.ORDER):
        raise InvalidInput("A grant comes from an order exactly when its source is an order.")
    existing = _existing(release=release, customer=customer, order=order)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Grant.objects.create(
                shop=shop,
                release=release,
                customer=customer,
                account=customer.account,
                source=source,
                order=order,
                created_at=clock.now(),
            )
    except IntegrityError:
        existing = _existing(release=release, customer=customer, order=order)
        if existing is None:
            raise
        return existing


def _existing(*, release: Release, customer: Customer, order: Order | None) -> Grant | None:
    if order is not None:
        return Grant.objects.filter(release=release, order=order).first()
    return Grant.objects.filter(release=release, customer=customer, order__isnull=True).first()
