"""The gallery's part in a person's data requests, registered with ``kinfolk.crm.personal_data``.

A fan's photos and videos are personal data (their face, their friends, where they were): an
erasure deletes the uploads and their files, approved ones included. An export lists them with
what was said about them; the files themselves are not copied into the export. A merge moves the
uploads to the kept customer.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kinfolk.crm import personal_data
from kinfolk.crm.models import Customer
from kinfolk.gallery.models import FanUpload
from kinfolk.shops.models import Shop


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def gallery_data_export(shop: Shop, customer: Customer) -> list[dict[str, Any]]:
    """Return the customer's uploads in the shop: what, when, how it was credited and decided."""
    uploads = FanUpload.objects.filter(shop=shop, customer=customer).select_related("product")
    return [
        {
            "kind": upload.kind,
            "status": upload.status,
            "submitted_at": _iso(upload.submitted_at),
            "moderated_at": _iso(upload.moderated_at),
            "caption": upload.caption,
            "credit": upload.credit,
            "product": upload.product.name if upload.product else None,
            "content_type": upload.content_type,
            "size": upload.size,
            "width": upload.width,
            "height": upload.height,
            "rejection_reason": upload.rejection_reason,
        }
        for upload in uploads.order_by("submitted_at", "id")
    ]


def gallery_data_erase(shop: Shop, customer: Customer) -> int:
    """Delete the customer's uploads in the shop; their files go once the erasure commits.

    Return how many uploads were deleted.
    """
    uploads = FanUpload.objects.filter(shop=shop, customer=customer)
    names = [name for name in uploads.values_list("file", flat=True) if name]
    deleted = uploads.delete()[0]
    if names:
        storage = FanUpload._meta.get_field("file").storage
        # After commit: were the erasure rolled back, the rows would point at missing files.
        transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return deleted


def gallery_merge(shop: Shop, source: Customer, target: Customer) -> int:
    """Move the source's uploads to the target; return how many moved."""
    return FanUpload.objects.filter(shop=shop, customer=source).update(customer=target)


def register_handlers() -> None:
    """Register the gallery's handlers (called from ``GalleryConfig.ready``)."""
    personal_data.register(
        "gallery", export=gallery_data_export, erase=gallery_data_erase, merge=gallery_merge
    )
