"""Following and mailing-list requests in a person's data requests (``kinfolk.crm.personal_data``).

A Follow says that a person follows a shop, and when and from which page; a ConsentRequest keeps
the address's pending "join the mailing list" request with the IP address it came from and the
words shown. An erasure deletes both: the person stops following, and a request not yet confirmed
can no longer be confirmed. The proof of consent actually given stays in ConsentRecord (handled by
the CRM's own erasure). A merge moves both to the kept record; a shop is followed once per
customer, so when both records follow it the earlier follow is kept.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Min

from kinfolk.crm import personal_data
from kinfolk.crm.models import ConsentRequest, Customer, Follow
from kinfolk.shops.models import Shop


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def follows_export(shop: Shop, customer: Customer) -> list[dict[str, Any]]:
    """Return the customer's follow of the shop (a list of at most one)."""
    return [
        {"followed_at": _iso(follow.followed_at), "source": follow.source}
        for follow in Follow.objects.filter(shop=shop, customer=customer)
    ]


def follows_erase(shop: Shop, customer: Customer) -> int:
    """Delete the customer's follow of the shop; return the rows deleted."""
    return Follow.objects.filter(shop=shop, customer=customer).delete()[0]


def follows_merge(shop: Shop, source: Customer, target: Customer) -> int:
    """Move the source's follow to the target, keeping one follow with the earlier date."""
    mine = Follow.objects.filter(shop=shop, customer=source)
    theirs = Follow.objects.filter(shop=shop, customer=target)
    if not mine.exists():
        return 0
    if not theirs.exists():
        return mine.update(customer=target)
    earliest = Follow.objects.filter(shop=shop, customer__in=[source, target]).aggregate(
        at=Min("followed_at")
    )["at"]
    theirs.update(followed_at=earliest)
    mine.delete()
    return 1


def consent_requests_export(shop: Shop, customer: Customer) -> list[dict[str, Any]]:
    """Return the customer's mailing-list requests in the shop, oldest first."""
    return [
        {
            "topic": request.topic,
            "source": request.source,
            "wording": request.wording,
            "ip_address": request.ip_address,
            "language": request.language,
            "requested_at": _iso(request.requested_at),
            "confirmed_at": _iso(request.confirmed_at),
            "confirmed_ip": request.confirmed_ip,
        }
        for request in ConsentRequest.objects.filter(shop=shop, customer=customer).order_by(
            "requested_at", "id"
        )
    ]


def consent_requests_erase(shop: Shop, customer: Customer) -> int:
    """Delete the customer's mailing-list requests in the shop; return the rows deleted."""
    return ConsentRequest.objects.filter(shop=shop, customer=customer).delete()[0]


def consent_requests_merge(shop: Shop, source: Customer, target: Customer) -> int:
    """Move the source's mailing-list requests to the target; return how many moved."""
    return ConsentRequest.objects.filter(shop=shop, customer=source).update(customer=target)


def register_handlers() -> None:
    """Register the handlers of follows and mailing-list requests (``CrmConfig.ready``)."""
    personal_data.register(
        "follows", export=follows_export, erase=follows_erase, merge=follows_merge
    )
    personal_data.register(
        "consent_requests",
        export=consent_requests_export,
        erase=consent_requests_erase,
        merge=consent_requests_merge,
    )
