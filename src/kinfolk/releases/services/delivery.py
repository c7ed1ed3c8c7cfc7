"""Handing out files: counting a download against its grant's allowance, recording it, giving
and taking back the grants of paid orders, and e-mailing fresh links."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kinfolk.catalog.models import Product
from kinfolk.core import clock
from kinfolk.core.errors import Conflict, Forbidden, NotFound
from kinfolk.crm.models import Interaction
from kinfolk.crm.services import interaction_record
from kinfolk.orders.models import Order, OrderLine
from kinfolk.releases.models import Download, DownloadAllowance, Grant, Release, ReleaseFile
from kinfolk.releases.services.grants import grant_give
from kinfolk.shops.models import Shop


class GrantRevoked(Forbidden):
    """The order behind the grant was cancelled or refunded."""

    default_code = "revoked"


class LimitReached(Conflict):
    """Every download this grant allows for the file was used."""

    status = 403
    default_code = "limit_reached"


@dataclass(frozen=True)
class DownloadTaken:
    """A counted download: how many of the allowance are used now, and whether it was the
    customer's first download of the release (a referral counts then)."""

    download: Download
    used: int
    first: bool


@transaction.atomic
def download_take(*, shop: Shop, grant: Grant, file: ReleaseFile) -> DownloadTaken:
    """Count one download of ``file`` under ``grant``, record it and put it on the fan's timeline.

    The allowance is taken with one conditional UPDATE (``used < limit``), so that downloads
    started at the same moment never pass the release's limit; LimitReached when none is left.
    """
    release = grant.release
    if grant.shop_id != shop.pk or file.release_id != release.pk:
        raise NotFound(_("This download link is not valid."))
    if file.role != ReleaseFile.Role.DOWNLOAD:
        raise NotFound(_("This download link is not valid."))
    if grant.revoked_at is not None:
        raise GrantRevoked(_("This download was withdrawn: its order was cancelled or refunded."))
    # The row exists after the first download: try the UPDATE first and make the row only when
    # it found none (one statement fewer on every later download).
    allowance = DownloadAllowance.objects.filter(grant=grant, file=file)
    taken = allowance.filter(used__lt=release.download_limit).update(used=F("used") + 1)
    if not taken and not allowance.exists():
        DownloadAllowance.objects.get_or_create(grant=grant, file=file)
        taken = allowance.filter(used__lt=release.download_limit).update(used=F("used") + 1)
    if not taken:
        raise LimitReached(
            _(
                "You have used all %(count)s downloads of this file. Ask the shop if you need "
                "another."
            )
            % {"count": release.download_limit}
        )
    customer = grant.customer
    used = allowance.values_list("used", flat=True).get()
    # Only a file's first download under this grant can be the customer's first of the release.
    first = used == 1 and not Download.objects.filter(release=release, customer=customer).exists()
    now = clock.now()
    download = Download.objects.create(
        shop=shop,
        release=release,
        file=file,
        grant=grant,
        customer=customer,
        downloaded_at=now,
    )
    interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.DOWNLOAD,
        source=Interaction.Source.STOREFRONT,
        occurred_at=now,
        subject_type="release",
        subject_id=release.pk,
        data={"file": file.name, "grant": grant.pk},
        defer_stage=True,
    )
    return DownloadTaken(download=download, used=used, first=first)


def download_count_anonymous(*, shop: Shop, file: ReleaseFile) -> Download:
    """Record a download of a free, ungated release by a visitor the shop does not know: it
    counts in the shop's figures and on nobody's timeline (there is no allowance to take)."""
    release = file.release
    if release.shop_id != shop.pk or file.role != ReleaseFile.Role.DOWNLOAD:
        raise NotFound(_("This download link is not valid."))
    return Download.objects.create(shop=shop, release=release, file=file, downloaded_at=clock.now())


# What ``grants_give_for_order`` reads of each order line, loaded with the lines by the orders
# app (``orders.extensions.reads_order_lines``).
ORDER_LINE_RELATIONS = ("variant__product__release",)


def _releases_of(shop: Shop, order: Order) -> list[Release]:
    """Return the shop's releases the order's lines bought, each once: from the lines the orders
    app loaded with their releases, else read here."""
    lines = order.lines.all()
    products = [line.variant.product for line in lines if line.variant_id]
    if not all(Product.release.is_cached(product) for product in products):
        variant_ids = OrderLine.objects.filter(order=order, variant__isnull=False).values(
            "variant_id"
        )
        return list(Release.objects.filter(shop=shop, product__variants__in=variant_ids).distinct())
    releases: dict[int, Release] = {}
    for product in products:
        release = getattr(product, "release", None)
        if release is not None and release.shop_id == shop.pk:
            release.product = product
            releases.setdefault(release.pk, release)
    return list(releases.values())


def grants_give_for_order(*, shop: Shop, order: Order) -> int:
    """Give the buyer a grant for each release on the paid ``order``; return how many lines were
    releases. Runs inside the order's payment transaction (orders extension)."""
    releases = _releases_of(shop, order)
    count = 0
    for release in releases:
        grant_give(
            shop=shop,
            release=release,
            customer=order.customer,
            source=Grant.Source.ORDER,
            order=order,
        )
        count += 1
    return count


def grants_revoke_for_order(*, shop: Shop, order: Order) -> int:
    """Stop the downloads of a cancelled or refunded order; return how many grants stopped."""
    return Grant.objects.filter(shop=shop, order=order, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )


@transaction.atomic
def fresh_links_send(*, shop: Shop, grant: Grant) -> None:
    """E-mail fresh download links of ``grant`` to its customer's own address (after commit)."""
    if grant.shop_id != shop.pk:
        raise NotFound(_("No such download."))
    if grant.revoked_at is not None:
        raise GrantRevoked(_("This download was withdrawn: its order was cancelled or refunded."))
    if not grant.customer.email:
        raise NotFound(_("No such download."))
    from kinfolk.releases.tasks import send_release_email

    grant_id = grant.pk
    transaction.on_commit(lambda: send_release_email("links", str(grant_id)))
