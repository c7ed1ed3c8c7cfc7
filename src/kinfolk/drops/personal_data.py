"""The drops' part in a person's data requests, registered with ``kinfolk.crm.personal_data``.

A drop knows a fan by e-mail address rather than by customer record: a hold, a waitlist place and
an e-mail about a drop (an offer from the waitlist, a refund after the last copy sold) each keep
the address they were made for, and the per-fan limit counts by it. So the person's rows in a
shop are those whose address is one of the customer's (its own, its account's, and those of the
records merged into it), or whose account is the customer's account.

An erasure replaces the address with one that names nobody and is unique per row (the database
allows one open hold and one waitlist place per address and edition), cuts the account, and takes
a fan still waiting off the waitlist; the rows stay, so that each copy's history (held, sold, freed)
and the drop's figures keep adding up. A merge moves nothing: the rows point at no customer, and
the merged record's address stays among the kept record's identifiers.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.db.models.functions import Lower

from kinfolk.crm import personal_data
from kinfolk.crm.models import Customer
from kinfolk.drops.models import DropMessage, Hold, WaitlistEntry
from kinfolk.shops.models import Shop


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _addresses(customer: Customer) -> list[str]:
    return [value for value in personal_data.identifiers_of(customer) if "@" in value]


def _of_person(model, shop: Shop, customer: Customer, *, email_field: str = "email"):
    """Return the ``model`` rows of the shop made for the customer's addresses or account."""
    match = Q(**{f"{email_field}_lower__in": _addresses(customer)})
    if customer.account_id and email_field == "email":
        match |= Q(account_id=customer.account_id)
    return (
        model.objects.filter(shop=shop)
        .alias(**{f"{email_field}_lower": Lower(email_field)})
        .filter(match)
    )


def drops_data_export(shop: Shop, customer: Customer) -> dict[str, Any]:
    """Return the person's holds, waitlist places and drop e-mails in the shop."""
    holds = _of_person(Hold, shop, customer).select_related("edition__product", "order")
    waitlist = _of_person(WaitlistEntry, shop, customer).select_related("edition__product")
    messages = _of_person(DropMessage, shop, customer, email_field="to").select_related(
        "edition__product"
    )
    return {
        "holds": [
            {
                "drop": hold.edition.product.name,
                "email": hold.email,
                "status": hold.status,
                "source": hold.source,
                "created_at": _iso(hold.created_at),
                "expires_at": _iso(hold.expires_at),
                "order": hold.order.number if hold.order else None,
            }
            for hold in holds.order_by("created_at", "id")
        ],
        "waitlist": [
            {
                "drop": entry.edition.product.name,
                "email": entry.email,
                "status": entry.status,
                "joined_at": _iso(entry.joined_at),
                "language": entry.language,
            }
            for entry in waitlist.order_by("joined_at", "id")
        ],
        "emails": [
            {
                "drop": message.edition.product.name,
                "kind": message.kind,
                "to": message.to,
                "sent_at": _iso(message.sent_at),
            }
            for message in messages.order_by("claimed_at", "id")
        ],
    }


def _nobody(kind: str, pk: int) -> str:
    """Return an address that names nobody, unique per row (``.invalid`` never delivers)."""
    return f"erased-{kind}-{pk}@erased.invalid"


def drops_data_erase(shop: Shop, customer: Customer) -> int:
    """Replace the person's address on their drop rows, cut their account, end their waiting;
    return how many rows changed."""
    changed = 0
    for hold in _of_person(Hold, shop, customer).select_for_update():
        Hold.objects.filter(pk=hold.pk).update(email=_nobody("hold", hold.pk), account=None)
        changed += 1
    for entry in _of_person(WaitlistEntry, shop, customer).select_for_update():
        status = (
            WaitlistEntry.Status.LEFT
            if entry.status == WaitlistEntry.Status.WAITING
            else entry.status
        )
        WaitlistEntry.objects.filter(pk=entry.pk).update(
            email=_nobody("waitlist", entry.pk), account=None, status=status
        )
        changed += 1
    for message in _of_person(DropMessage, shop, customer, email_field="to"):
        DropMessage.objects.filter(pk=message.pk).update(to=_nobody("message", message.pk))
        changed += 1
    return changed


def drops_merge(shop: Shop, source: Customer, target: Customer) -> int:
    """Move nothing (the rows name an address, not a customer); return 0."""
    return 0


def register_handlers() -> None:
    """Register the drops' handlers (called from ``DropsConfig.ready``)."""
    personal_data.register(
        "drops", export=drops_data_export, erase=drops_data_erase, merge=drops_merge
    )
