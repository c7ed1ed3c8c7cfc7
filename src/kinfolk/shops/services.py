"""Writes of shops, memberships and shipping zones."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kinfolk.core.errors import InvalidInput
from kinfolk.core.money import MAX_AMOUNT_MINOR, amount_too_large
from kinfolk.shops.models import Membership, ShippingZone, Shop


def _full_clean(obj, *, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidInput(" ".join(messages), field=field) from None


@transaction.atomic
def shop_create(
    *,
    slug: str,
    name: str,
    currency: str,
    time_zone: str,
    country: str,
    owner,
    description: str = "",
    shipping_cutoff: dt.time = dt.time(14, 0),
) -> Shop:
    """Create a shop owned by ``owner``."""
    shop = Shop(
        slug=slug,
        name=name,
        description=description,
        currency=currency.upper(),
        time_zone=time_zone,
        country=country.upper(),
        shipping_cutoff=shipping_cutoff,
    )
    _full_clean(shop, exclude=["logo"])
    shop.save()
    Membership.objects.create(shop=shop, user=owner, role=Membership.Role.OWNER)
    return shop


@transaction.atomic
def membership_add(*, shop: Shop, user, role: str = Membership.Role.STAFF) -> Membership:
    """Give ``user`` a role in ``shop`` (idempotent: an existing membership is updated)."""
    membership, _created = Membership.objects.update_or_create(
        shop=shop, user=user, defaults={"role": role}
    )
    return membership


@transaction.atomic
def shipping_zone_create(
    *, shop: Shop, name: str, countries: list[str], rate: int, free_over: int | None = None
) -> ShippingZone:
    """Add a flat-rate zone; ``countries`` empty means the rest of the world."""
    if rate < 0 or (free_over is not None and free_over < 0):
        raise InvalidInput(_("Rates cannot be negative."), field="rate")
    for field, amount in (("rate", rate), ("free_over", free_over)):
        if amount is not None and amount > MAX_AMOUNT_MINOR:
            raise amount_too_large(shop.currency, field=field)
    zone = ShippingZone(
        shop=shop,
        name=name,
        countries=sorted({c.upper() for c in countries}),
        rate=rate,
        free_over=free_over,
    )
    zone.save()
    return zone
