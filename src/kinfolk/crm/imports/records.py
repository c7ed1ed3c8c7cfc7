"""What a reader makes of an import file: orders, customers and rejected lines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Item:
    """One line item of an imported order, as the file names it."""

    name: str
    quantity: int
    sku: str = ""

    def as_data(self) -> dict:
        """Return the item in the shape of an ``order_paid`` interaction's ``items``.

        The same keys as a live order's items, so that the CRM reads both alike; an imported
        item names no product of this shop's catalogue.
        """
        return {
            "product_id": None,
            "variant_id": None,
            "sku": self.sku,
            "name": self.name,
            "category": "",
            "quantity": self.quantity,
        }


@dataclass(slots=True)
class ImportedOrder:
    """One order of another system, ready to become timeline interactions.

    ``subject_type`` names the origin and ``subject_id`` the order there: together they are the
    key that makes a second import of the same order add nothing. ``total`` is what the order
    came to; ``refunded`` how much of it went back by the time of the export (``total`` for a
    full refund); ``paid_at`` is None for an order never paid, ``cancelled_at`` set for one
    cancelled. ``refund_parts`` names the refunds that make up ``refunded`` by their own ids
    when the file lists each (Bandcamp's refund lines), so that a refund of the same order
    met again in another file is recognised rather than added twice.
    """

    line: int
    subject_type: str
    subject_id: str
    email: str
    placed_at: dt.datetime
    currency: str
    total: int
    items: list[Item] = field(default_factory=list)
    name: str = ""
    country: str = ""
    paid_at: dt.datetime | None = None
    refunded: int = 0
    refunded_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None
    external: dict = field(default_factory=dict)
    refund_parts: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class ImportedRefund:
    """A refund whose order is not in the same file (it was imported before, or never).

    When the file names the order refunded (``part`` is then the refund's own id), the refund
    has the order's key (``subject_type``, ``subject_id``) and adds to that order's refunds;
    otherwise it has a key of its own and stands alone on the fan's timeline.
    """

    line: int
    subject_type: str
    subject_id: str
    email: str
    refunded_at: dt.datetime
    currency: str
    amount: int
    name: str = ""
    country: str = ""
    external: dict = field(default_factory=dict)
    part: str = ""


@dataclass(slots=True)
class ImportedCustomer:
    """One customer of another system's customer list."""

    line: int
    email: str
    name: str = ""
    country: str = ""
    accepts_email_marketing: bool = False
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A line that was not imported, by its line number in the file (the header is line 1)."""

    line: int
    reason: str
