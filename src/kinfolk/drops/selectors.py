"""Reads of the drops ledger; every one takes the shop or an edition of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from kinfolk.core.errors import NotFound
from kinfolk.crm.models import Customer, Interaction
from kinfolk.drops.models import Copy, EarlyAccessFan, Edition, Hold


def copies_bought(*, edition: Edition, email: str, account=None) -> int:
    """Return how many copies of ``edition`` the fan bought, by e-mail address or by account."""
    fan = Q(order__email__iexact=email)
    if account is not None:
        fan |= Q(order__account=account)
    return Copy.objects.filter(edition=edition, state=Copy.State.SOLD).filter(fan).count()


def may_buy_early(*, edition: Edition, email: str) -> bool:
    """Return whether the fan with ``email`` is among the edition's early-access fans."""
    if edition.early_access == Edition.EarlyAccess.LIST:
        return EarlyAccessFan.objects.filter(edition=edition, email__iexact=email).exists()
    if edition.early_access == Edition.EarlyAccess.PAST_BUYERS:
        customers = Customer.objects.filter(shop_id=edition.shop_id, email__iexact=email)
        return Interaction.objects.filter(
            shop_id=edition.shop_id,
            customer__in=customers,
            kind=Interaction.Kind.ORDER_PAID,
        ).exists()
    return False


@dataclass(frozen=True)
class Availability:
    """How many of an edition's copies are free, held and sold at one moment."""

    size: int
    free: int
    held: int
    sold: int


def edition_availability(*, edition: Edition, now: dt.datetime) -> Availability:
    """Return the edition's copies by state at ``now`` (a lapsed hold's copy counts as free)."""
    live_hold = Q(state=Copy.State.HELD, held_until__gt=now)
    counts = Copy.objects.filter(edition=edition).aggregate(
        held=Count("pk", filter=live_hold),
        sold=Count("pk", filter=Q(state=Copy.State.SOLD)),
    )
    held, sold = counts["held"], counts["sold"]
    return Availability(size=edition.size, free=edition.size - held - sold, held=held, sold=sold)


def hold_get(*, edition: Edition, token: str) -> Hold | None:
    """Return the edition's hold with this token, or None."""
    return Hold.objects.filter(edition=edition, token=token).first()


def edition_get_for_shop(*, shop, edition_id: int) -> Edition:
    """Return the shop's edition with this id; raise NotFound for any other."""
    edition = (
        Edition.objects.select_related("product", "variant")
        .filter(shop=shop, pk=edition_id)
        .first()
    )
    if edition is None:
        raise NotFound(_("No such drop."))
    return edition
