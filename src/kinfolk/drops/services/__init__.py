"""Writes of the drops ledger: editions, holds, sales of copies, waitlists."""

from kinfolk.drops.services.editions import edition_create
from kinfolk.drops.services.holds import (
    HoldOutcome,
    copies_free_for_order,
    copy_sell,
    hold_release,
    hold_take,
)
from kinfolk.drops.services.waitlist import waitlist_join, waitlist_leave, waitlist_offer_freed

__all__ = [
    "HoldOutcome",
    "copies_free_for_order",
    "copy_sell",
    "edition_create",
    "hold_release",
    "hold_take",
    "waitlist_join",
    "waitlist_leave",
    "waitlist_offer_freed",
]
