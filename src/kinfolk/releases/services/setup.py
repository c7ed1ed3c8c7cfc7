"""The maker's side of releases: a digital product and its release made in one step, their
price rule and limits, and the files fans download or hear as a preview.

Files go to the private storage (``ReleaseFile.file``) only after their first bytes proved
what they are and their size fits ``RELEASE_MAX_FILE_BYTES``; a refused file leaves nothing
behind, and a removed file leaves the storage once the removal is committed.
"""

from __future__ import annotations

import os
import unicodedata

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kinfolk.catalog.models import Product, Variant
from kinfolk.catalog.services import product_create, product_update, variant_update
from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.core.money import MAX_AMOUNT_MINOR, amount_too_large
from kinfolk.releases.file_checks import release_file_kind
from kinfolk.releases.models import Release, ReleaseFile
from kinfolk.shops.models import Shop

DEFAULT_MAX_FILE_BYTES = 2 * 1024**3
MAX_DOWNLOAD_LIMIT = 1000
MAX_LINK_HOURS = 24 * 30
MAX_FILES = 200


def max_file_bytes() -> int:
    """Return the largest release file accepted, in bytes (setting ``RELEASE_MAX_FILE_BYTES``)."""
    return int(getattr(settings, "RELEASE_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES))


def _price_rule(
    *, currency: str, pricing: str, price: int | None, suggested_price: int | None
) -> tuple[int, int | None]:
    """Return the variant's price and the suggested price ``pricing`` allows; raise InvalidInput.

    Free costs 0; a fixed price is more than 0; pay what you want has a minimum of 0 or more and
    a suggested price of at least the minimum.
    """
    if pricing not in Release.Pricing.values:
        raise InvalidInput(_("Choose free, a fixed price or pay what you want."), field="pricing")
    if pricing == Release.Pricing.FREE:
        return 0, None
    if price is None:
        message = (
            _("Enter the price.")
            if pricing == Release.Pricing.FIXED
            else _("Enter the least a fan pays (0 is allowed).")
        )
        raise InvalidInput(message, field="price")
    if price < 0:
        raise InvalidInput(_("Enter a price of zero or more."), field="price")
    if price > MAX_AMOUNT_MINOR:
        raise amount_too_large(currency, field="price")
    if pricing == Release.Pricing.FIXED:
        if price == 0:
            raise InvalidInput(
                _("A fixed price of 0 is free: choose Free, or pay what you want with 0."),
                field="price",
            )
        return price, None
    if suggested_price is not None:
        if suggested_price > MAX_AMOUNT_MINOR:
            raise amount_too_large(currency, field="suggested_price")
        if suggested_price < price:
            raise InvalidInput(
                _("The suggested price cannot be below the minimum."), field="suggested_price"
            )
    return price, suggested_price


def _check_limits(*, download_limit: int, link_hours: int) -> None:
    if not 1 <= download_limit <= MAX_DOWNLOAD_LIMIT:
        raise InvalidInput(
            _("Allow from 1 to %(max)s downloads.") % {"max": MAX_DOWNLOAD_LIMIT},
            field="download_limit",
        )
    if not 1 <= link_hours <= MAX_LINK_HOURS:
        raise InvalidInput(
            _("A link can work from 1 to %(max)s hours.") % {"max": MAX_LINK_HOURS},
            field="link_hours",
        )


def _check_status(status: str) -> None:
    if status not in Product.Status.values:
        raise InvalidInput(_("Choose a status."), field="status")


@transaction.atomic
def release_create(
    *,
    shop: Shop,
    name: str,
    pricing: str = Release.Pricing.FREE,
    price: int | None = None,
    suggested_price: int | None = None,
    email_gate: bool = True,
    download_limit: int = 5,
    link_hours: int = 24,
    status: str = Product.Status.DRAFT,
    description: str = "",
    slug: str = "",
) -> Release:
    """Create a digital product (one variant, unlimited) and its release.

    The variant's price is 0 for a free release, the price of a fixed one and the minimum of a
    pay-what-you-want one.
    """
    if not name.strip():
        raise InvalidInput(_("Enter a name."), field="name")
    variant_price, suggested = _price_rule(
        currency=shop.currency, pricing=pricing, price=price, suggested_price=suggested_price
    )
    _check_limits(download_limit=download_limit, link_hours=link_hours)
    _check_status(status)
    product = product_create(
        shop=shop,
        name=name,
        kind=Product.Kind.DIGITAL,
        status=status,
        description=description,
        slug=slug,
        category="",
        price=variant_price,
        stock=None,
    )
    return Release.objects.create(
        shop=shop,
        product=product,
        pricing=pricing,
        suggested_price=suggested,
        email_gate=email_gate,
        download_limit=download_limit,
        link_hours=link_hours,
    )


@transaction.atomic
def release_update(
    *,
    shop: Shop,
    release: Release,
    name: str,
    pricing: str,
    price: int | None,
    suggested_price: int | None = None,
    email_gate: bool,
    download_limit: int,
    link_hours: int,
    status: str,
) -> Release:
    """Change a release's name, price rule, e-mail gate, limits and its product's status.

    Links already sent keep the lifetime they were issued with; the new download limit counts
    for every grant from now on.
    """
    if release.shop_id != shop.pk:
        raise InvalidInput(_("This release belongs to another shop."))
    if not name.strip():
        raise InvalidInput(_("Enter a name."), field="name")
    variant_price, suggested = _price_rule(
        currency=shop.currency, pricing=pricing, price=price, suggested_price=suggested_price
    )
    _check_limits(download_limit=download_limit, link_hours=link_hours)
    _check_status(status)
    product = release.product
    product_update(shop=shop, product=product, name=name.strip(), status=status)
    # A release's product has one variant (created with it); lock it so that two editors
    # cannot interleave their price changes.
    variant = Variant.objects.select_for_update().filter(shop=shop, product=product).first()
    if variant is None:
        raise NotFound(_("This release has no price to change."))
    if variant.price != variant_price:
        variant_update(
            shop=shop,
            variant=variant,
            sku=variant.sku,
            price=variant_price,
            name=variant.name,
            stock=variant.stock,
        )
    release.pricing = pricing
    release.suggested_price = suggested
    release.email_gate = email_gate
    release.download_limit = download_limit
    release.link_hours = link_hours
    release.save(
        update_fields=[
            "pricing",
            "suggested_price",
            "email_gate",
            "download_limit",
            "link_hours",
            "updated_at",
        ]
    )
    return release


def _display_name(name: str, fallback: str) -> str:
    """Return the name a fan's browser saves the file under: the base name, without control
    characters, at most 200 characters, keeping the extension."""
    name = os.path.basename((name or "").replace("\\", "/"))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if not name or name in {".", ".."}:
        name = fallback
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        name = stem[: 200 - len(ext[:20])] + ext[:20]
    return name


@transaction.atomic
def release_file_add(
    *,
    shop: Shop,
    release: Release,
    upload: UploadedFile,
    role: str = ReleaseFile.Role.DOWNLOAD,
    name: str = "",
) -> ReleaseFile:
    """Store ``upload`` as a file of ``release``, last in its order.

    Its first bytes decide what it is (never its name or the browser's word); a preview must be
    audio. Refused files raise InvalidInput on the field "file" and store nothing.
    """
    if release.shop_id != shop.pk:
        raise InvalidInput(_("This release belongs to another shop."))
    if role not in ReleaseFile.Role.values:
        raise InvalidInput(_("Choose download or preview."), field="role")
    limit = max_file_bytes()
    if upload.size is None or upload.size > limit:
        raise InvalidInput(
            _("This file is too large: a release file can be at most %(size)s.")
            % {"size": _size_text(limit)},
            field="file",
            code="too_large",
        )
    if upload.size == 0:
        raise InvalidInput(_("This file is empty."), field="file")
    kind = release_file_kind(upload)
    if role == ReleaseFile.Role.PREVIEW and not kind.is_audio:
        raise InvalidInput(
            _("A preview plays on the release page: upload an audio file."), field="file"
        )
    # Lock the release row so that two uploads at once take different positions.
    Release.objects.select_for_update().filter(pk=release.pk).first()
    files = ReleaseFile.objects.filter(release=release)
    if files.count() >= MAX_FILES:
        raise InvalidInput(
            _("A release holds at most %(max)s files.") % {"max": MAX_FILES}, field="file"
        )
    last = files.aggregate(last=Max("position"))["last"]
    row = ReleaseFile(
        shop=shop,
        release=release,
        role=role,
        name=_display_name(name or upload.name, f"file.{kind.extension}"),
        content_type=kind.content_type,
        size=upload.size,
        position=0 if last is None else last + 1,
    )
    # The storage streams the upload (a temporary file on disk past FILE_UPLOAD_MAX_MEMORY_SIZE)
    # in chunks; a failure after storing removes the stored copy again.
    row.file.save(_storage_name(row.name, kind.extension), upload, save=False)
    stored = row.file.name
    try:
        row.save()
    except Exception:
        row.file.storage.delete(stored)
        raise
    return row


def _storage_name(name: str, extension: str) -> str:
    """Return the name under which the storage keeps the file: its stem and its true extension."""
    stem = os.path.splitext(name)[0][:80] or "file"
    return f"{stem}.{extension}"


@transaction.atomic
def release_file_remove(*, shop: Shop, release: Release, file_id: int) -> None:
    """Remove a file of ``release``; the stored copy is deleted once the removal is committed.

    Past downloads stay counted (they lose only their link to the file).
    """
    row = ReleaseFile.objects.filter(shop=shop, release=release, pk=file_id).first()
    if row is None:
        raise NotFound(_("This file is no longer part of the release."))
    storage, stored = row.file.storage, row.file.name
    row.delete()
    transaction.on_commit(lambda: storage.delete(stored))


@transaction.atomic
def release_file_move(*, shop: Shop, release: Release, file_id: int, offset: int) -> None:
    """Move a file of ``release`` ``offset`` places (-1: up, +1: down) in the order fans see."""
    Release.objects.select_for_update().filter(pk=release.pk).first()
    ids = list(ReleaseFile.objects.filter(shop=shop, release=release).values_list("pk", flat=True))
    if file_id not in ids:
        raise NotFound(_("This file is no longer part of the release."))
    index = ids.index(file_id)
    target = max(0, min(len(ids) - 1, index + offset))
    ids.insert(target, ids.pop(index))
    rows = [ReleaseFile(pk=pk, position=position) for position, pk in enumerate(ids)]
    ReleaseFile.objects.bulk_update(rows, ["position"])


def _size_text(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} B"
