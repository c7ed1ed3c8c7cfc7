"""Creating an edition and its numbered copies; changing it while nobody can buy it yet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from kinfolk.accounts.models import normalize_email
from kinfolk.catalog.changes import catalog_changed
from kinfolk.catalog.models import Product, Variant
from kinfolk.catalog.services import product_create, variant_update
from kinfolk.core import clock
from kinfolk.core.errors import Conflict, InvalidInput, NotFound
from kinfolk.drops.models import Copy, EarlyAccessFan, Edition
from kinfolk.shops.models import Shop

MAX_EDITION_SIZE = 1_000_000
_BATCH = 2_000


def edition_starts_at(edition: Edition) -> dt.datetime:
    """Return the first moment anyone may buy: early access's opening, else the drop's."""
    if edition.early_access != Edition.EarlyAccess.NONE and edition.early_access_opens_at:
        return min(edition.early_access_opens_at, edition.opens_at)
    return edition.opens_at


def _validate(
    *,
    size: int,
    opens_at: dt.datetime,
    closes_at: dt.datetime | None,
    early_access: str,
    early_access_opens_at: dt.datetime | None,
    per_fan_limit: int,
    hold_minutes: int,
) -> dict[str, str]:
    """Return the schedule's and the limits' errors by field (empty when all is well)."""
    errors: dict[str, str] = {}
    if not 1 <= size <= MAX_EDITION_SIZE:
        errors["size"] = _("An edition has between 1 and %(max)s copies.") % {
            "max": f"{MAX_EDITION_SIZE:,}"
        }
    if closes_at is not None and closes_at <= opens_at:
        errors["closes_at"] = _("The drop must close after it opens.")
    if early_access not in Edition.EarlyAccess.values:
        errors["early_access"] = _("Choose who may buy early.")
    elif early_access != Edition.EarlyAccess.NONE and (
        early_access_opens_at is None or early_access_opens_at >= opens_at
    ):
        errors["early_access_opens_at"] = _("Early access must open before the drop opens.")
    if per_fan_limit < 1:
        errors["per_fan_limit"] = _("Allow at least one copy per fan.")
    if hold_minutes < 1:
        errors["hold_minutes"] = _("Hold a copy for at least one minute.")
    return errors


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        field, message = next(iter(errors.items()))
        raise InvalidInput(message, field=field, errors=errors)


def _early_emails(emails: Iterable[str] | None) -> list[str]:
    """Return the addresses normalised, without blanks or repeats, in a stable order."""
    return sorted({normalize_email(email) for email in emails or [] if email.strip()})


@transaction.atomic
def edition_create(
    *,
    shop: Shop,
    product: Product,
    variant: Variant,
    size: int,
    opens_at: dt.datetime,
    closes_at: dt.datetime | None = None,
    per_fan_limit: int = 1,
    hold_minutes: int = 10,
    early_access: str = Edition.EarlyAccess.NONE,
    early_access_opens_at: dt.datetime | None = None,
    early_access_emails: list[str] | None = None,
) -> Edition:
    """Create an edition of ``size`` copies numbered 1..size, all free.

    The variant's own stock is left unlimited: the copies are the stock, taken one by one by
    holds (``hold_take``), so the catalogue's stock counter never races them.
    """
    if product.shop_id != shop.pk or variant.shop_id != shop.pk:
        raise InvalidInput(_("This product belongs to another shop."))
    errors = _validate(
        size=size,
        opens_at=opens_at,
        closes_at=closes_at,
        early_access=early_access,
        early_access_opens_at=early_access_opens_at,
        per_fan_limit=per_fan_limit,
        hold_minutes=hold_minutes,
    )
    if variant.product_id != product.pk:
        errors = {"variant": _("Choose a variant of this product."), **errors}
    _raise_if(errors)
    if Edition.objects.filter(variant=variant).exists():
        raise InvalidInput(_("This variant is already an edition."), field="variant")
    if Edition.objects.filter(product=product).exists():
        raise InvalidInput(_("This product already has an edition."), field="variant")
    edition = Edition.objects.create(
        shop=shop,
        product=product,
        variant=variant,
        size=size,
        opens_at=opens_at,
        closes_at=closes_at,
        per_fan_limit=per_fan_limit,
        hold_minutes=hold_minutes,
        early_access=early_access,
        early_access_opens_at=early_access_opens_at
        if early_access != Edition.EarlyAccess.NONE
        else None,
        created_at=clock.now(),
    )
    Copy.objects.bulk_create(
        (Copy(shop=shop, edition=edition, number=n) for n in range(1, size + 1)),
        batch_size=_BATCH,
    )
    # The storefront keeps drop pages for a moment; an edition's change is a catalogue change.
    catalog_changed()
    EarlyAccessFan.objects.bulk_create(
        [
            EarlyAccessFan(edition=edition, email=email)
            for email in _early_emails(early_access_emails)
        ]
    )
    if variant.stock is not None:
        variant_update(
            shop=shop,
            variant=variant,
            sku=variant.sku,
            price=variant.price,
            name=variant.name,
            stock=None,
        )
    return edition


@transaction.atomic
def edition_create_with_product(*, shop: Shop, name: str, price: int, **edition_options) -> Edition:
    """Create a product (active, physical, one variant) and an edition of it in one go.

    ``edition_options`` are ``edition_create``'s. Either both are created or neither.
    """
    product = product_create(
        shop=shop,
        name=name,
        price=price,
        stock=None,
        status=Product.Status.ACTIVE,
        kind=Product.Kind.PHYSICAL,
    )
    return edition_create(
        shop=shop, product=product, variant=product.variants.get(), **edition_options
    )


def _locked(shop: Shop, edition: Edition) -> Edition:
    locked = Edition.objects.select_for_update().filter(pk=edition.pk, shop=shop).first()
    if locked is None:
        raise NotFound(_("No such drop."))
    return locked


def _resize(edition: Edition, size: int) -> None:
    """Add copies up to ``size`` or remove the highest-numbered ones, which must all be free."""
    if size > edition.size:
        Copy.objects.bulk_create(
            (
                Copy(shop_id=edition.shop_id, edition=edition, number=n)
                for n in range(edition.size + 1, size + 1)
            ),
            batch_size=_BATCH,
        )
    elif size < edition.size:
        removed, _by_model = Copy.objects.filter(
            edition=edition, number__gt=size, state=Copy.State.FREE
        ).delete()
        if removed != edition.size - size:
            # A copy above the new size is held or sold: it cannot stop existing.
            raise Conflict(_("Some of these copies are already held or sold."), code="copies_taken")


@transaction.atomic
def edition_update(
    *,
    shop: Shop,
    edition: Edition,
    size: int,
    opens_at: dt.datetime,
    closes_at: dt.datetime | None,
    per_fan_limit: int,
    hold_minutes: int,
    early_access: str,
    early_access_opens_at: dt.datetime | None,
    early_access_emails: list[str] | None = None,
    now: dt.datetime | None = None,
) -> Edition:
    """Change the size, schedule, limits and early access of an edition nobody can buy yet.

    Allowed until the first moment a fan could buy (early access's opening, else the drop's):
    until then every copy is free, so copies can be added or removed. ``early_access_emails``
    replaces the list of chosen fans when given. Raises Conflict once the drop has started.
    """
    now = now or clock.now()
    edition = _locked(shop, edition)
    if now >= edition_starts_at(edition):
        raise Conflict(_("This drop has started: it can no longer be changed."), code="started")
    _raise_if(
        _validate(
            size=size,
            opens_at=opens_at,
            closes_at=closes_at,
            early_access=early_access,
            early_access_opens_at=early_access_opens_at,
            per_fan_limit=per_fan_limit,
            hold_minutes=hold_minutes,
        )
    )
    _resize(edition, size)
    edition.size = size
    edition.opens_at, edition.closes_at = opens_at, closes_at
    edition.per_fan_limit, edition.hold_minutes = per_fan_limit, hold_minutes
    edition.early_access = early_access
    edition.early_access_opens_at = (
        early_access_opens_at if early_access != Edition.EarlyAccess.NONE else None
    )
    edition.save(
        update_fields=[
            "size",
            "opens_at",
            "closes_at",
            "per_fan_limit",
            "hold_minutes",
            "early_access",
            "early_access_opens_at",
        ]
    )
    if early_access_emails is not None:
        _replace_early_fans(edition, early_access_emails)
    catalog_changed()
    return edition


def _replace_early_fans(edition: Edition, emails: Iterable[str]) -> None:
    wanted = set(_early_emails(emails))
    current = set(EarlyAccessFan.objects.filter(edition=edition).values_list("email", flat=True))
    EarlyAccessFan.objects.filter(edition=edition, email__in=current - wanted).delete()
    EarlyAccessFan.objects.bulk_create(
        [EarlyAccessFan(edition=edition, email=email) for email in sorted(wanted - current)]
    )


@transaction.atomic
def edition_early_fans_set(
    *, shop: Shop, edition: Edition, emails: list[str], now: dt.datetime | None = None
) -> int:
    """Replace the edition's chosen early-access fans; return how many there are now.

    Allowed until the drop opens to everyone, also while early access runs (a fan added late
    may buy from then on; one removed keeps what they already hold or bought).
    """
    now = now or clock.now()
    edition = _locked(shop, edition)
    if now >= edition.opens_at:
        raise Conflict(_("The drop is open to everyone: early access is over."), code="opened")
    _replace_early_fans(edition, emails)
    return EarlyAccessFan.objects.filter(edition=edition).count()
