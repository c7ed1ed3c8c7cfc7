"""Reads of the drops ledger; every one takes the shop or an edition of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, prefetch_related_objects
from django.utils.translation import gettext as _

from kinfolk.catalog.models import Product, ProductImage
from kinfolk.core.errors import NotFound
from kinfolk.core.prepared import PreparedQuery
from kinfolk.crm.models import Customer, Interaction
from kinfolk.drops.models import Copy, EarlyAccessFan, Edition, Hold, WaitlistEntry


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
        customers = Customer.objects.filter(shop_id=edition.shop_id).with_email(email)
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


# How long the copies-left figure a drop page shows may be old: in the rush every fan's page
# asks, and one count every few seconds answers them all.
AVAILABILITY_SECONDS = 2


def edition_availability_cached(*, edition: Edition, now: dt.datetime) -> Availability:
    """Return ``edition_availability`` as counted at most AVAILABILITY_SECONDS ago."""
    key = f"drops:availability:{edition.pk}"
    availability = cache.get(key)
    if not isinstance(availability, Availability):
        availability = edition_availability(edition=edition, now=now)
        cache.set(key, availability, AVAILABILITY_SECONDS)
    return availability


def edition_availability_forget(*, edition: Edition) -> None:
    """Drop the cached count: a fan was just told the edition sold out, the page must agree."""
    cache.delete(f"drops:availability:{edition.pk}")


class Phase:
    """Where a drop stands at a moment, as its page shows it."""

    UPCOMING = "upcoming"  # nobody may reserve yet (early access not open either)
    EARLY_ACCESS = "early_access"  # only the chosen fans may reserve
    OPEN = "open"
    SOLD_OUT = "sold_out"  # open, but every copy is sold or held
    CLOSED = "closed"


def edition_next_change(*, edition: Edition, now: dt.datetime) -> dt.datetime | None:
    """Return when the drop next opens to more fans (early access, then everyone), or None."""
    if (
        edition.early_access != Edition.EarlyAccess.NONE
        and edition.early_access_opens_at
        and now < edition.early_access_opens_at
    ):
        return edition.early_access_opens_at
    if now < edition.opens_at:
        return edition.opens_at
    return None


def edition_phase(*, edition: Edition, now: dt.datetime, free: int | None = None) -> str:
    """Return the drop's Phase at ``now``; ``free`` (copies free now) tells open from sold out."""
    if edition.closes_at is not None and now >= edition.closes_at:
        return Phase.CLOSED
    if now < edition.opens_at:
        early = edition.early_access != Edition.EarlyAccess.NONE
        if not (early and edition.early_access_opens_at <= now):
            return Phase.UPCOMING
        phase = Phase.EARLY_ACCESS
    else:
        phase = Phase.OPEN
    return Phase.SOLD_OUT if free == 0 else phase


# The read of a drop by its product, on every view of its page and every reserve, compiled once
# per process (``core.prepared``). Its values: the shop, the product's slug, "active".
_EDITION_FOR_PAGE = PreparedQuery(
    lambda shop_id, slug, active: (
        Edition.objects.select_related("product", "variant")
        # One filter each: the SQL takes the values in this order (keywords of one filter are sorted).
        .filter(shop_id=shop_id)
        .filter(product__slug=slug)
        .filter(product__status=active)
        .order_by("pk")[:1]
    )
)


def edition_get_for_page(*, shop, product_slug: str, images: bool = True) -> Edition:
    """Return the shop's edition of the product on sale ``product_slug`` (with the product's
    images unless ``images`` is False: a page then reads them if it shows them); raise NotFound
    for any other."""
    found = _EDITION_FOR_PAGE.objects(shop.pk, product_slug, str(Product.Status.ACTIVE))
    if not found:
        raise NotFound(_("No such drop."))
    edition = found[0]
    if images:
        prefetch_related_objects(
            [edition.product],
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
        )
    return edition


def editions_for_variants(*, shop, variant_ids: list[int]) -> dict[int, Edition]:
    """Return the shop's editions sold as these variants, by variant id (products loaded)."""
    if not variant_ids:
        return {}
    editions = Edition.objects.select_related("product").filter(
        shop=shop, variant_id__in=variant_ids
    )
    return {edition.variant_id: edition for edition in editions}


def holds_of_fan(
    *, shop, editions: list[Edition], tokens: list[str], account=None
) -> dict[int, Hold]:
    """Return the fan's newest hold of each edition, by edition id: those whose token the fan's
    session keeps, and, for a logged-in fan, those taken with their account. Paid holds are left
    out (their copy is bought)."""
    fan = Q(token__in=tokens)
    if account is not None and account.is_authenticated:
        fan |= Q(account=account)
    holds = (
        Hold.objects.select_related("edition__product")
        .filter(shop=shop, edition__in=editions)
        .filter(fan)
        .exclude(status=Hold.Status.PAID)
        .order_by("created_at", "pk")
    )
    return {hold.edition_id: hold for hold in holds}


def hold_get_for_shop(*, shop, token: str) -> Hold | None:
    """Return the shop's hold with this token (edition and product loaded), or None."""
    if not token or len(token) > 32:
        return None
    return (
        Hold.objects.select_related("edition__product", "order")
        .filter(shop=shop, token=token)
        .first()
    )


def waitlist_entry_get(*, edition: Edition, email: str) -> WaitlistEntry | None:
    """Return the fan's entry on the edition's waitlist by e-mail address, or None."""
    if not email:
        return None
    return WaitlistEntry.objects.filter(edition=edition, email__iexact=email).first()


def editions_waiting_for_copies(*, now: dt.datetime) -> list[Edition]:
    """Return the open editions whose waitlist has fans waiting (every shop: for the worker)."""
    return list(
        Edition.objects.select_related("shop")
        .filter(opens_at__lte=now, waitlist__status=WaitlistEntry.Status.WAITING)
        .filter(Q(closes_at__isnull=True) | Q(closes_at__gt=now))
        .distinct()
    )
