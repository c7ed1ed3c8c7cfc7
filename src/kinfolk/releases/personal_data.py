"""The releases' part in a person's data requests, registered with ``kinfolk.crm.personal_data``.

A fan's grants (what they may download, and why), their downloads and their allowances belong
to the customer record: an erasure keeps them as anonymous counts (the CRM blanks the record
itself and unlinks its account), so the shop's download figures stay right; the grants lose
their own link to the account too, so that the person's library no longer lists them. The e-mail gate's requests hold the address,
the IP address and the wording the visitor saw: an erasure deletes them.

A merge moves grants, downloads and allowances to the kept customer. Both may hold a free grant
of the same release (one per person and release): the source's duplicate is folded into the
target's (its downloads move over, the allowance keeps the larger count) and deleted.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from kinfolk.crm import personal_data
from kinfolk.crm.models import Customer
from kinfolk.releases.models import Download, DownloadAllowance, EmailGate, Grant
from kinfolk.shops.models import Shop


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _gates(shop: Shop, customer: Customer):
    emails = {
        e for e in (customer.email, customer.account.email if customer.account_id else "") if e
    }
    query = Q(grant__customer=customer)
    for email in emails:
        query |= Q(email__iexact=email)
    return EmailGate.objects.filter(query, shop=shop)


def releases_data_export(shop: Shop, customer: Customer) -> dict[str, Any]:
    """Return the customer's grants, downloads and download requests in the shop."""
    grants = Grant.objects.filter(shop=shop, customer=customer).select_related("release__product")
    downloads = Download.objects.filter(shop=shop, customer=customer).select_related(
        "release__product", "file"
    )
    return {
        "grants": [
            {
                "release": grant.release.product.name,
                "source": grant.source,
                "order": grant.order_id,
                "created_at": _iso(grant.created_at),
                "revoked_at": _iso(grant.revoked_at),
            }
            for grant in grants.order_by("created_at", "id")
        ],
        "downloads": [
            {
                "release": download.release.product.name,
                "file": download.file.name if download.file else None,
                "downloaded_at": _iso(download.downloaded_at),
            }
            for download in downloads.order_by("downloaded_at", "id")
        ],
        "download_requests": [
            {
                "release": gate.release.product.name,
                "email": gate.email,
                "language": gate.language,
                "ip_address": gate.ip_address,
                "mailing_list_ticked": gate.wants_marketing,
                "wording": gate.marketing_wording,
                "requested_at": _iso(gate.requested_at),
                "confirmed_at": _iso(gate.confirmed_at),
            }
            for gate in _gates(shop, customer).select_related("release__product").order_by("id")
        ],
    }


def releases_data_erase(shop: Shop, customer: Customer) -> int:
    """Delete the customer's download requests in the shop and unlink their grants from the
    account; return how many rows changed."""
    deleted, _rows = _gates(shop, customer).delete()
    unlinked = (
        Grant.objects.filter(shop=shop, customer=customer)
        .exclude(account__isnull=True)
        .update(account=None)
    )
    return deleted + unlinked


def releases_merge(shop: Shop, source: Customer, target: Customer) -> int:
    """Move the source's grants and downloads to the target; return how many rows moved."""
    moved = 0
    target_free = dict(
        Grant.objects.filter(shop=shop, customer=target, order__isnull=True).values_list(
            "release_id", "pk"
        )
    )
    for grant in Grant.objects.filter(
        shop=shop, customer=source, order__isnull=True, release_id__in=list(target_free)
    ):
        kept_id = target_free[grant.release_id]
        moved += Download.objects.filter(grant=grant).update(grant_id=kept_id, customer=target)
        for allowance in DownloadAllowance.objects.filter(grant=grant):
            kept, _created = DownloadAllowance.objects.get_or_create(
                grant_id=kept_id, file_id=allowance.file_id
            )
            if allowance.used > kept.used:
                DownloadAllowance.objects.filter(pk=kept.pk).update(used=allowance.used)
        EmailGate.objects.filter(grant=grant).update(grant_id=kept_id)
        grant.delete()
    moved += Grant.objects.filter(shop=shop, customer=source).update(
        customer=target, account=target.account
    )
    moved += Download.objects.filter(shop=shop, customer=source).update(customer=target)
    return moved


def register_handlers() -> None:
    """Register the releases' handlers (called from ``ReleasesConfig.ready``)."""
    personal_data.register(
        "releases", export=releases_data_export, erase=releases_data_erase, merge=releases_merge
    )
