"""Reads of the fan gallery: the shop first, never another shop's rows."""

from __future__ import annotations

from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext as _

from kinfolk.core.errors import NotFound
from kinfolk.gallery.models import FanUpload
from kinfolk.shops.models import Shop


def upload_get_for_shop(*, shop: Shop, upload_id: int) -> FanUpload:
    """Return the shop's fan upload with this id (any status, for staff); raise NotFound else."""
    upload = FanUpload.objects.select_related("customer").filter(shop=shop, pk=upload_id).first()
    if upload is None:
        raise NotFound(_("No such upload."))
    return upload


def upload_get_public(*, shop: Shop, upload_id: int, staff: bool = False) -> FanUpload:
    """Return the shop's upload if anyone may see it (approved), or any of its uploads for the
    shop's ``staff``; raise NotFound else."""
    uploads = FanUpload.objects.filter(shop=shop, pk=upload_id)
    if not staff:
        uploads = uploads.filter(status=FanUpload.Status.APPROVED)
    upload = uploads.first()
    if upload is None:
        raise NotFound(_("No such upload."))
    return upload


def uploads_approved(*, shop: Shop) -> QuerySet[FanUpload]:
    """Return the shop's approved uploads with their fans and products, newest first."""
    return (
        FanUpload.objects.filter(shop=shop, status=FanUpload.Status.APPROVED)
        .select_related("customer", "product")
        .order_by("-submitted_at", "-id")
    )


def uploads_for_review(*, shop: Shop, status: str) -> QuerySet[FanUpload]:
    """Return the shop's uploads in ``status`` with fans, products and moderators; the queue of
    pending ones oldest first (first come, first reviewed), decided ones newest first."""
    order = (
        ("submitted_at", "id") if status == FanUpload.Status.PENDING else ("-submitted_at", "-id")
    )
    return (
        FanUpload.objects.filter(shop=shop, status=status)
        .select_related("customer", "product", "moderated_by")
        .order_by(*order)
    )


def upload_counts(*, shop: Shop) -> dict[str, int]:
    """Return how many of the shop's uploads are in each status (every status, zero included)."""
    counts = dict.fromkeys(FanUpload.Status.values, 0)
    rows = FanUpload.objects.filter(shop=shop).values_list("status").annotate(n=Count("id"))
    counts.update(dict(rows))
    return counts


def uploads_of_customer(*, shop: Shop, customer) -> QuerySet[FanUpload]:
    """Return the customer's uploads in the shop, oldest first."""
    return FanUpload.objects.filter(shop=shop, customer=customer).order_by("submitted_at", "id")


def uploads_submitted_since(*, shop: Shop, account, since) -> int:
    """Return how many uploads the account sent the shop since ``since`` (any status)."""
    return FanUpload.objects.filter(shop=shop, account=account, submitted_at__gte=since).count()


def pending_bytes_of_account(*, shop: Shop, account) -> int:
    """Return the bytes of the account's uploads in the shop still waiting for review."""
    rows = FanUpload.objects.filter(shop=shop, account=account, status=FanUpload.Status.PENDING)
    return rows.aggregate(total=Sum("size"))["total"] or 0
