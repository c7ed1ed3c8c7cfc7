"""Creating an edition and its numbered copies."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from kinfolk.catalog.models import Product, Variant
from kinfolk.catalog.services import variant_update
from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.drops.models import Copy, EarlyAccessFan, Edition
from kinfolk.shops.models import Shop

MAX_EDITION_SIZE = 1_000_000
_BATCH = 2_000


def _validate(
    *,
    variant: Variant,
    product: Product,
    size: int,
    opens_at: dt.datetime,
    closes_at: dt.datetime | None,
    early_access: str,
    early_access_opens_at: dt.datetime | None,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if variant.product_id != product.pk:
        errors["variant"] = _("Choose a variant of this product.")
    if not 1 <= size <= MAX_EDITION_SIZE:
        errors["size"] = _("An edition has between 1 and %(max)s copies.") % {
            "max": f"{MAX_EDITION_SIZE:,}"
        }
    if closes_at is not None and closes_at <= opens_at:
        errors["closes_at"] = _("The drop must close after it opens.")
    if early_access != Edition.EarlyAccess.NONE and (
        early_access_opens_at is None or early_access_opens_at >= opens_at
    ):
        errors["early_access_opens_at"] = _("Early access must open before the drop opens.")
    return errors


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
        variant=variant,
        product=product,
        size=size,
        opens_at=opens_at,
        closes_at=closes_at,
        early_access=early_access,
        early_access_opens_at=early_access_opens_at,
    )
    if per_fan_limit < 1:
        errors["per_fan_limit"] = _("Allow at least one copy per fan.")
    if hold_minutes < 1:
        errors["hold_minutes"] = _("Hold a copy for at least one minute.")
    if errors:
        field, message = next(iter(errors.items()))
        raise InvalidInput(message, field=field, errors=errors)
    if Edition.objects.filter(variant=variant).exists():
        raise InvalidInput(_("This variant is already an edition."), field="variant")
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
    emails = {email.strip().lower() for email in early_access_emails or [] if email.strip()}
    EarlyAccessFan.objects.bulk_create(
        [EarlyAccessFan(edition=edition, email=email) for email in sorted(emails)]
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
