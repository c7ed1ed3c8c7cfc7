"""Editions of N numbered copies, the copies themselves, holds on them, and waitlists.

The ledger's invariant — every copy is exactly one of free, held or sold — lives in the copy's
own row, guarded by CHECK constraints, so that no code path can leave a copy half-sold:

* free: no hold, no order;
* held: a hold and its expiry, no order;
* sold: an order (and the hold it was paid through, kept for the record).

A held copy whose hold has expired counts as free at once: every query that looks for a free
copy accepts ``state = held AND held_until <= now`` as free, so an expiry never waits for a
worker. Copy numbers are the copies' own numbers 1..N (unique per edition): the fan learns the
number when the payment assigns the copy to the order.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from kinfolk.catalog.models import Product, Variant
from kinfolk.orders.models import Order
from kinfolk.shops.models import Shop


class Edition(models.Model):
    """A limited edition of ``size`` numbered copies of one product variant."""

    class EarlyAccess(models.TextChoices):
        NONE = "none", _("No early access")
        LIST = "list", _("Chosen fans")
        PAST_BUYERS = "past_buyers", _("Fans who bought from the shop before")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="editions")
    product = models.OneToOneField(Product, on_delete=models.PROTECT, related_name="edition")
    variant = models.OneToOneField(Variant, on_delete=models.PROTECT, related_name="edition")
    size = models.PositiveIntegerField(_("copies"))
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True)
    early_access = models.CharField(
        _("early access"), max_length=20, choices=EarlyAccess.choices, default=EarlyAccess.NONE
    )
    early_access_opens_at = models.DateTimeField(_("early access opens"), null=True, blank=True)
    per_fan_limit = models.PositiveIntegerField(_("copies per fan"), default=1)
    hold_minutes = models.PositiveIntegerField(_("hold time (minutes)"), default=10)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=1), name="edition_size_positive"),
            models.CheckConstraint(
                condition=Q(per_fan_limit__gte=1), name="edition_limit_positive"
            ),
            models.CheckConstraint(condition=Q(hold_minutes__gte=1), name="edition_hold_positive"),
            models.CheckConstraint(
                condition=Q(closes_at__isnull=True) | Q(closes_at__gt=models.F("opens_at")),
                name="edition_closes_after_opening",
            ),
            models.CheckConstraint(
                condition=Q(early_access="none")
                | Q(early_access_opens_at__lt=models.F("opens_at")),
                name="edition_early_access_before_opening",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} ({self.size})"

    @property
    def hold_duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.hold_minutes)


def new_verification_code() -> str:
    """Return a code printed on a certificate: 12 characters, no look-alikes (0/O, 1/I/L)."""
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(12))


class Copy(models.Model):
    """One numbered copy of an edition; see the module's docstring for its three states."""

    class State(models.TextChoices):
        FREE = "free", _("Free")
        HELD = "held", _("Held")
        SOLD = "sold", _("Sold")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="copies")
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=4, choices=State.choices, default=State.FREE)
    hold = models.OneToOneField(
        "Hold", on_delete=models.PROTECT, null=True, blank=True, related_name="copy"
    )
    held_until = models.DateTimeField(null=True, blank=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="edition_copies"
    )
    sold_at = models.DateTimeField(null=True, blank=True)
    verification_code = models.CharField(max_length=12, unique=True, default=new_verification_code)

    class Meta:
        ordering = ["edition", "number"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "number"], name="copy_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="copy_number_positive"),
            models.CheckConstraint(
                condition=(
                    Q(
                        state="free",
                        hold__isnull=True,
                        held_until__isnull=True,
                        order__isnull=True,
                        sold_at__isnull=True,
                    )
                    | Q(
                        state="held",
                        hold__isnull=False,
                        held_until__isnull=False,
                        order__isnull=True,
                        sold_at__isnull=True,
                    )
                    | Q(
                        state="sold",
                        order__isnull=False,
                        held_until__isnull=True,
                        sold_at__isnull=False,
                    )
                ),
                name="copy_one_state",
            ),
        ]
        indexes = [models.Index(fields=["edition", "state", "number"], name="copy_edition_state")]

    def __str__(self) -> str:
        return f"No. {self.number} of {self.edition_id} ({self.state})"


class Hold(models.Model):
    """A fan's claim on one copy for a while; paying through it sells them a copy."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")  # until expires_at; after that it has lapsed
        PAID = "paid", _("Paid")
        RELEASED = "released", _("Released")
        LAPSED = "lapsed", _("Lapsed")

    class Source(models.TextChoices):
        RESERVE = "reserve", _("Reserved by the fan")
        WAITLIST = "waitlist", _("Offered from the waitlist")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="holds")
    # The public id in URLs and forms: guessing another fan's hold is hopeless.
    token = models.CharField(max_length=32, unique=True)
    email = models.EmailField()  # normalised; the fan's key for the per-fan limit
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.RESERVE)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="edition_holds"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One open hold per fan and edition: a second tab gets the first hold, not a second.
            models.UniqueConstraint(
                "edition",
                Lower("email"),
                condition=Q(status="active"),
                name="hold_one_active_per_fan",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="hold_expires_later"
            ),
        ]
        indexes = [models.Index(fields=["edition", "status", "expires_at"])]

    def __str__(self) -> str:
        return f"hold {self.token[:8]} on {self.edition_id} ({self.status})"

    def is_live(self, now: dt.datetime) -> bool:
        """Return whether the hold still holds its copy at ``now``."""
        return self.status == self.Status.ACTIVE and self.expires_at > now


class EarlyAccessFan(models.Model):
    """A fan chosen for an edition's early access (mode "list"), by e-mail address."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="early_fans")
    email = models.EmailField()

    class Meta:
        constraints = [
            models.UniqueConstraint("edition", Lower("email"), name="early_fan_unique"),
        ]

    def __str__(self) -> str:
        return self.email


class WaitlistEntry(models.Model):
    """A fan waiting for a copy of a sold-out edition; offered one with a hold when one frees."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("Offered a copy")
        BOUGHT = "bought", _("Bought")
        PASSED = "passed", _("Offer lapsed or declined")
        LEFT = "left", _("Left the waitlist")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="waitlist")
    email = models.EmailField()
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    joined_at = models.DateTimeField()
    # The fan's language when they joined: the offer e-mail is written in it.
    language = models.CharField(max_length=10, default="en", blank=True)
    offer = models.OneToOneField(
        Hold, on_delete=models.SET_NULL, null=True, blank=True, related_name="waitlist_entry"
    )

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint("edition", Lower("email"), name="waitlist_one_per_fan"),
        ]
        indexes = [models.Index(fields=["edition", "status", "joined_at"])]

    def __str__(self) -> str:
        return f"{self.email} on {self.edition_id} ({self.status})"


class DropMessage(models.Model):
    """An e-mail about a drop, claimed before sending so that none is ever sent twice.

    ``key`` names what it is about: the offered hold's token for an offer from the waitlist,
    the order's id for the refund of a payment that came after every copy was sold.
    """

    class Kind(models.TextChoices):
        OFFER = "offer", _("A copy offered from the waitlist")
        SOLD_OUT_REFUND = "sold_out_refund", _("Sold out before the payment arrived: refunded")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=40)
    to = models.EmailField()
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "kind", "key"], name="dropmessage_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} to {self.to}"
