"""Putting a fan's reservations and waitlist places on their timeline in the shop.

The entry is written by the background worker after the reservation commits, not inside it: on
SQLite the reserve's transaction holds the database's one write lock, and during a drop every
millisecond it holds it is a millisecond every other fan waits. The hold itself is the record
that counts; the timeline entry follows it a moment later.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from django.db import transaction

from kinfolk.crm.services import customer_get_or_create, interaction_record
from kinfolk.shops.models import Shop


def timeline_note_after_commit(
    *,
    shop: Shop,
    edition_id: int,
    email: str,
    account,
    kind: str,
    occurred_at: dt.datetime,
    data: dict | None = None,
) -> None:
    """Have the worker put ``kind`` on the fan's timeline once the current transaction commits
    (nothing when it rolls back)."""
    from kinfolk.drops import tasks

    transaction.on_commit(
        partial(
            tasks.record_on_timeline,
            shop_id=shop.pk,
            edition_id=edition_id,
            email=email,
            account_id=account.pk if account is not None else None,
            kind=kind,
            occurred_at=occurred_at.isoformat(),
            data=data or {},
        )
    )


@transaction.atomic
def timeline_note(
    *,
    shop: Shop,
    edition_id: int,
    email: str,
    account,
    kind: str,
    occurred_at: dt.datetime,
    data: dict | None = None,
) -> None:
    """Put ``kind`` about the edition on the timeline of the shop's customer with this address,
    creating the customer on first contact."""
    customer = customer_get_or_create(shop=shop, email=email, account=account)
    interaction_record(
        shop=shop,
        customer=customer,
        kind=kind,
        source="storefront",
        occurred_at=occurred_at,
        subject_type="edition",
        subject_id=edition_id,
        data=data or {},
    )
