"""Reads of releases: every function takes the shop (or the fan's account) first and never
returns another shop's (or another fan's) rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from kinfolk.catalog.models import Product
from kinfolk.core.errors import NotFound
from kinfolk.orders.models import Order
from kinfolk.releases.links import download_token
from kinfolk.releases.models import (
    Download,
    DownloadAllowance,
    EmailGate,
    Grant,
    Release,
    ReleaseFile,
)
from kinfolk.shops.models import Shop


def release_get_for_shop(*, shop: Shop, release_id: int) -> Release:
    """Return the shop's release with this id (product loaded); raise NotFound for any other."""
    release = Release.objects.select_related("product").filter(shop=shop, pk=release_id).first()
    if release is None:
        raise NotFound(_("No such release."))
    return release


def release_get_for_page(*, shop: Shop, slug: str) -> Release:
    """Return the release of the shop's active product ``slug`` with its product, images, single
    variant and files loaded; raise NotFound when there is none."""
    release = (
        Release.objects.select_related("product")
        .prefetch_related("product__images", "product__variants", "files")
        .filter(shop=shop, product__slug=slug[:80], product__status=Product.Status.ACTIVE)
        .first()
    )
    if release is None:
        raise NotFound(_("This release is not available."))
    return release


def release_price(release: Release) -> int:
    """Return the release's price in minor units: its variant's (the minimum of pay what you
    want); 0 for a free release."""
    if release.is_free:
        return 0
    variants = list(release.product.variants.all())
    return variants[0].price if variants else 0


def release_files(release: Release, *, role: str) -> list[ReleaseFile]:
    """Return the release's files of ``role`` in their order (from the prefetch when loaded)."""
    return [file for file in release.files.all() if file.role == role]


def release_is_free_now(release: Release) -> bool:
    """Return whether the release can be had for nothing right now: its product is on sale and
    it is free, or pay what you want from 0."""
    if release.product.status != Product.Status.ACTIVE:
        return False
    if release.is_free:
        return True
    return release.pricing == Release.Pricing.PAY_WHAT_YOU_WANT and release_price(release) == 0


def release_playable(release: Release) -> list[ReleaseFile]:
    """Return the files the page's player streams: previews, and the audio and video downloads
    of a free release without an e-mail gate (anyone may download those anyway)."""
    # A gated release's downloads are what the visitor's address pays for: streaming them
    # whole from the page would give them away, so only its previews play.
    open_to_all = release.is_free and not release.email_gate
    playable = []
    for file in release.files.all():
        media = file.content_type.startswith(("audio/", "video/"))
        if not media:
            continue
        if file.role == ReleaseFile.Role.PREVIEW or open_to_all:
            playable.append(file)
    return playable


def preview_file_get(*, shop: Shop, release: Release, file_id: int) -> ReleaseFile:
    """Return a file of ``release`` that anyone may stream from its page; NotFound otherwise."""
    for file in release_playable(release):
        if file.pk == file_id and file.shop_id == shop.pk:
            return file
    raise NotFound(_("No such file."))


def download_target_get(*, shop: Shop, grant_id: int, file_id: int) -> tuple[Grant, ReleaseFile]:
    """Return the grant and the download file a link names, both of ``shop``; NotFound if the
    grant or the file is gone or they do not belong together."""
    grant = (
        Grant.objects.select_related("release__product", "customer", "shop")
        .filter(shop=shop, pk=grant_id)
        .first()
    )
    file = (
        ReleaseFile.objects.filter(
            shop=shop, pk=file_id, role=ReleaseFile.Role.DOWNLOAD, release_id=grant.release_id
        ).first()
        if grant
        else None
    )
    if grant is None or file is None:
        raise NotFound(_("This download link is not valid."))
    return grant, file


def grant_get(*, shop: Shop, grant_id: int) -> Grant:
    """Return the shop's grant (release, product and customer loaded); NotFound otherwise."""
    grant = (
        Grant.objects.select_related("release__product", "customer")
        .filter(shop=shop, pk=grant_id)
        .first()
    )
    if grant is None:
        raise NotFound(_("No such download."))
    return grant


@dataclass
class FileLink:
    """A download file with its signed link token and the downloads it has left."""

    file: ReleaseFile
    token: str
    remaining: int


def grant_links(
    grant: Grant, files: list[ReleaseFile] | None = None, used: dict[int, int] | None = None
) -> list[FileLink]:
    """Return a fresh signed link for each download file of the grant's release, valid for the
    release's ``link_hours``; ``used`` (downloads taken per file id), when given, saves the
    query of the grant's allowances."""
    release = grant.release
    if files is None:
        files = list(release.files.filter(role=ReleaseFile.Role.DOWNLOAD))
    if used is None:
        used = dict(DownloadAllowance.objects.filter(grant=grant).values_list("file_id", "used"))
    lifetime = dt.timedelta(hours=release.link_hours)
    return [
        FileLink(
            file=file,
            token=download_token(grant_id=grant.pk, file_id=file.pk, lifetime=lifetime),
            remaining=max(0, release.download_limit - used.get(file.pk, 0)),
        )
        for file in files
    ]


def open_links(release: Release) -> list[FileLink]:
    """Return links for a release free to get without a gate (free, or pay what you want from
    0), for a visitor the shop does not know:
    grant 0 stands for "anyone" and no allowance applies (anyone may download it anyway)."""
    lifetime = dt.timedelta(hours=release.link_hours)
    return [
        FileLink(
            file=file,
            token=download_token(grant_id=0, file_id=file.pk, lifetime=lifetime),
            remaining=release.download_limit,
        )
        for file in release_files(release, role=ReleaseFile.Role.DOWNLOAD)
    ]


def open_file_get(*, shop: Shop, file_id: int) -> ReleaseFile:
    """Return a download file of an ungated, active release of ``shop`` that is free to get
    (free, or pay what you want from 0); NotFound else."""
    file = (
        ReleaseFile.objects.select_related("release__product")
        .prefetch_related("release__product__variants")
        .filter(
            shop=shop,
            pk=file_id,
            role=ReleaseFile.Role.DOWNLOAD,
            release__email_gate=False,
        )
        .first()
    )
    if file is None or not release_is_free_now(file.release):
        raise NotFound(_("This download link is not valid."))
    return file


# A range that does not start at byte 0 continues a download of the same file by the same grant
# only within this long after it was counted. Every link works for at least an hour
# (``Release.link_hours`` >= 1), so the shorter of the hour and the link's lifetime is the hour.
RESUME_WINDOW = dt.timedelta(hours=1)


def download_is_resume(*, shop: Shop, grant: Grant, file: ReleaseFile, now: dt.datetime) -> bool:
    """Return whether this grant downloaded ``file`` (a counted download) within RESUME_WINDOW
    before ``now``: a later byte range is then the rest of that download, not a new one."""
    return Download.objects.filter(
        shop=shop, grant=grant, file=file, downloaded_at__gte=now - RESUME_WINDOW
    ).exists()


def gate_get(*, shop: Shop, token: str) -> EmailGate | None:
    """Return the shop's e-mail gate request with this token, or None."""
    return (
        EmailGate.objects.select_related("release__product")
        .filter(shop=shop, token=token[:64])
        .first()
    )


@dataclass
class LibraryItem:
    """A grant in the fan's library with its download files and what each has left."""

    grant: Grant
    files: list[tuple[ReleaseFile, int]] = field(default_factory=list)


def _fan_grants(account) -> Q:
    # A grant made before the customer record was linked to the account has no account of its
    # own: it still belongs to the fan through the record.
    return Q(account=account) | Q(customer__account=account)


def library_for_account(*, account) -> list[LibraryItem]:
    """Return the fan's grants across every shop, newest first, with each download file and its
    remaining downloads (a fixed number of queries whatever the library's size)."""
    grants = (
        Grant.objects.filter(_fan_grants(account))
        .select_related("release__product", "shop")
        .prefetch_related(
            Prefetch(
                "release__files",
                queryset=ReleaseFile.objects.filter(role=ReleaseFile.Role.DOWNLOAD),
                to_attr="download_files",
            ),
            "allowances",
        )
        .order_by("-created_at", "-id")
    )
    items = []
    for grant in grants:
        used = {allowance.file_id: allowance.used for allowance in grant.allowances.all()}
        limit = grant.release.download_limit
        files = [(f, max(0, limit - used.get(f.pk, 0))) for f in grant.release.download_files]
        items.append(LibraryItem(grant=grant, files=files))
    return items


def library_file_get(*, account, grant_id: int, file_id: int) -> tuple[Grant, ReleaseFile]:
    """Return the fan's own grant and one of its release's download files; NotFound for anyone
    else's grant or a file of another release."""
    grant = (
        Grant.objects.filter(_fan_grants(account), pk=grant_id)
        .select_related("release__product", "shop")
        .first()
    )
    file = (
        ReleaseFile.objects.filter(
            pk=file_id, release_id=grant.release_id, role=ReleaseFile.Role.DOWNLOAD
        ).first()
        if grant
        else None
    )
    if grant is None or file is None:
        raise NotFound(_("No such download."))
    return grant, file


def order_downloads(*, shop: Shop, order: Order) -> list[tuple[Grant, list[FileLink]]]:
    """Return the paid order's active grants with fresh links to their files (empty for an
    unpaid, cancelled or refunded order)."""
    grants = (
        Grant.objects.filter(shop=shop, order=order, revoked_at__isnull=True)
        .select_related("release__product")
        .prefetch_related(
            Prefetch(
                "release__files",
                queryset=ReleaseFile.objects.filter(role=ReleaseFile.Role.DOWNLOAD),
                to_attr="download_files",
            ),
            "allowances",
        )
    )
    # A fixed number of queries whatever the number of grants: files and allowances come
    # from the prefetch.
    return [
        (
            grant,
            grant_links(
                grant,
                grant.release.download_files,
                used={allowance.file_id: allowance.used for allowance in grant.allowances.all()},
            ),
        )
        for grant in grants
    ]
