"""Reads of shops; a staff member only ever reaches shops they belong to."""

from __future__ import annotations

import copy
import time

from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext as _

from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.core.money import Money
from kinfolk.shops.models import Membership, ShippingZone, Shop


def shops_open() -> QuerySet[Shop]:
    """Return the shops open to fans."""
    return Shop.objects.filter(is_active=True)


# Every storefront request starts by looking up its shop, which changes rarely: each process keeps
# the open shops it has seen for a few seconds. A save or delete in this process forgets them at
# once; another process sees the change within OPEN_SHOP_TTL seconds.
OPEN_SHOP_TTL = 5.0
_open_shops: dict[str, tuple[float, Shop]] = {}


def shop_get_open(*, slug: str) -> Shop:
    """Return the open shop with this slug (a copy of its own to the caller) or raise NotFound."""
    now = time.monotonic()
    cached = _open_shops.get(slug)
    if cached is not None and cached[0] > now:
        return copy.copy(cached[1])
    try:
        shop = shops_open().get(slug=slug)
    except Shop.DoesNotExist:
        raise NotFound(_("No such shop.")) from None
    if len(_open_shops) > 1000:
        _open_shops.clear()
    _open_shops[slug] = (now + OPEN_SHOP_TTL, copy.copy(shop))
    return shop


def forget_open_shops(**kwargs) -> None:
    """Drop the cached open shops (on any shop's save or delete)."""
    _open_shops.clear()


post_save.connect(forget_open_shops, sender=Shop, dispatch_uid="shops-forget-open")
post_delete.connect(forget_open_shops, sender=Shop, dispatch_uid="shops-forget-open-delete")


def shops_for_staff(*, user) -> QuerySet[Shop]:
    """Return the shops ``user`` is a member of."""
    if not user.is_authenticated:
        return Shop.objects.none()
    return Shop.objects.filter(memberships__user=user).distinct()


def access_shop(*, user, slug: str) -> Shop:
    """Return the shop ``slug`` if ``user`` is its owner or staff; otherwise raise NotFound.

    NotFound rather than Forbidden so that staff of one shop cannot learn which other shops exist.
    """
    if not user.is_authenticated:
        raise NotFound(_("No such shop."))
    try:
        return Shop.objects.get(slug=slug, memberships__user=user)
    except Shop.DoesNotExist:
        raise NotFound(_("No such shop.")) from None


def membership_role(*, shop: Shop, user) -> str | None:
    return Membership.objects.filter(shop=shop, user=user).values_list("role", flat=True).first()


# Checkout reads the shop's zones two or three times per page (the country list, the shipping
# price), and they change rarely: each process keeps them for a few seconds, as it keeps open
# shops. A save or delete of a zone or a shop in this process forgets them at once; another
# process sees the change within SHIPPING_ZONES_TTL seconds.
SHIPPING_ZONES_TTL = 5.0
_shipping_zones: dict[int, tuple[float, tuple[ShippingZone, ...]]] = {}


def shipping_zones_of(*, shop: Shop) -> list[ShippingZone]:
    """Return the shop's shipping zones (copies of their own to the caller), oldest first.

    A shop loaded with its zones prefetched (``prefetch_related("shipping_zones")``) gives those.
    """
    prefetched = getattr(shop, "_prefetched_objects_cache", {}).get("shipping_zones")
    if prefetched is not None:
        return list(prefetched)
    now = time.monotonic()
    cached = _shipping_zones.get(shop.pk)
    if cached is None or cached[0] <= now:
        zones = tuple(ShippingZone.objects.filter(shop_id=shop.pk).order_by("id"))
        if len(_shipping_zones) > 1000:
            _shipping_zones.clear()
        cached = (now + SHIPPING_ZONES_TTL, zones)
        _shipping_zones[shop.pk] = cached
    return [copy.copy(zone) for zone in cached[1]]


def forget_shipping_zones(**kwargs) -> None:
    """Drop the cached shipping zones (on any zone's or shop's save or delete)."""
    _shipping_zones.clear()


for _sender in (ShippingZone, Shop):
    post_save.connect(
        forget_shipping_zones, sender=_sender, dispatch_uid=f"shops-forget-zones-{_sender.__name__}"
    )
    post_delete.connect(
        forget_shipping_zones,
        sender=_sender,
        dispatch_uid=f"shops-forget-zones-delete-{_sender.__name__}",
    )


def shipping_zone_for(*, shop: Shop, country: str) -> ShippingZone:
    """Return the zone that covers ``country``: a zone naming it, else the rest-of-world zone."""
    zones = shipping_zones_of(shop=shop)
    for zone in zones:
        if country in zone.countries:
            return zone
    for zone in zones:
        if zone.is_rest_of_world:
            return zone
    raise InvalidInput(
        _("%(shop)s does not ship to this country yet.") % {"shop": shop.name}, field="country"
    )


def shipping_rate_for(*, shop: Shop, country: str, subtotal: Money) -> tuple[ShippingZone, Money]:
    """Return the zone and the shipping price for an order of ``subtotal`` going to ``country``."""
    zone = shipping_zone_for(shop=shop, country=country)
    if zone.free_over is not None and subtotal.amount >= zone.free_over:
        return zone, Money.zero(shop.currency)
    return zone, Money(zone.rate, shop.currency)
