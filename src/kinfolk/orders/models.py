"""Carts, orders with their lines and status history, payments, refunds and payment callbacks."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kinfolk.catalog.models import Variant
from kinfolk.core import clock
from kinfolk.core.errors import InvalidTransition
from kinfolk.core.prepared import insert
from kinfolk.crm.models import Customer
from kinfolk.shops.models import Shop


class Cart(models.Model):
    """A visitor's basket in one shop, found by the token kept in their session."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="carts")
    token = models.CharField(max_length=43, unique=True, default=secrets.token_urlsafe)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    # What the fan chose to pay for one, where the product lets them pay more than its price
    # (a pay-what-you-want release); NULL means the variant's price. Checked against the
    # catalogue by ``cart_add``; the server never takes any other amount from the client.
    unit_price = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cartline_unique_variant"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cartline_quantity_positive"),
        ]

    @property
    def price_each(self) -> int:
        """Return what one costs on this line: the fan's own price, else the variant's."""
        return self.variant.price if self.unit_price is None else self.unit_price


def new_order_number() -> str:
    """Return an order number fans can read out: 8 characters without 0/O or 1/I."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(8))


class Order(models.Model):
    """An order and its status state machine; every change leaves an OrderEvent row."""

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        PAID = "paid", _("Paid")
        PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    # Which status may follow which: anything else is refused and nothing changes.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.AWAITING_PAYMENT: frozenset({Status.PAID, Status.CANCELLED}),
        Status.PAID: frozenset(
            {Status.PARTIALLY_SHIPPED, Status.SHIPPED, Status.DELIVERED, Status.REFUNDED}
        ),
        # Partially shipped may repeat: each further parcel of a split order is a change of its own.
        Status.PARTIALLY_SHIPPED: frozenset(
            {Status.PARTIALLY_SHIPPED, Status.SHIPPED, Status.REFUNDED}
        ),
        Status.SHIPPED: frozenset({Status.DELIVERED, Status.REFUNDED}),
        Status.DELIVERED: frozenset({Status.REFUNDED}),
        Status.CANCELLED: frozenset(),
        Status.REFUNDED: frozenset(),
    }

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders")
    number = models.CharField(max_length=12, default=new_order_number)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    email = models.EmailField()
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT
    )
    currency = models.CharField(max_length=3)
    subtotal = models.PositiveBigIntegerField()
    # A reward or code taken off the subtotal (never below zero); ``discount_label`` says what.
    discount = models.PositiveBigIntegerField(default=0)
    discount_label = models.CharField(max_length=120, blank=True)
    shipping = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField()
    shipping_address = models.JSONField(default=dict, blank=True)
    shipping_country = models.CharField(max_length=2, blank=True)
    shipping_method = models.CharField(max_length=80, blank=True)
    payment_provider = models.CharField(max_length=20)
    idempotency_key = models.CharField(max_length=64)
    # Lets a guest open their order page from the confirmation e-mail without an account.
    access_token = models.CharField(max_length=43, default=secrets.token_urlsafe)
    language = models.CharField(max_length=10, default="en")
    placed_at = models.DateTimeField(db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "number"], name="order_unique_shop_number"),
            models.UniqueConstraint(
                fields=["shop", "idempotency_key"], name="order_unique_idempotency_key"
            ),
            models.CheckConstraint(
                condition=Q(
                    total=models.F("subtotal") - models.F("discount") + models.F("shipping")
                ),
                name="order_total_is_sum",
            ),
            models.CheckConstraint(
                condition=Q(discount__lte=models.F("subtotal")), name="order_discount_within"
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "status", "placed_at"]),
            models.Index(fields=["shop", "placed_at"]),
            models.Index(fields=["account", "placed_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"

    @property
    def needs_shipping(self) -> bool:
        return bool(self.shipping_country)

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]

    def transition_to(
        self, status: str, *, actor=None, actor_label: str = "", note: str = ""
    ) -> None:
        """Move to ``status`` and record who, when and why; raise InvalidTransition if not allowed.

        The caller holds the row lock (select_for_update) and saves the order.
        """
        if not self.can_transition_to(status):
            raise InvalidTransition(
                _("An order that is %(from)s cannot become %(to)s.")
                % {
                    "from": self.get_status_display().lower(),
                    "to": self.Status(status).label.lower(),
                }
            )
        previous, self.status = self.status, status
        insert(
            OrderEvent(
                order=self,
                from_status=previous,
                to_status=status,
                actor=actor if getattr(actor, "is_authenticated", False) else None,
                actor_label=actor_label or (str(actor) if actor else "system"),
                note=note,
                created_at=clock.now(),
            )
        )


class OrderLine(models.Model):
    """A line of an order; name, SKU and price are copied so later catalogue edits don't change it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(Variant, on_delete=models.SET_NULL, null=True, related_name="+")
    product_name = models.CharField(max_length=200)
    variant_name = models.CharField(max_length=120, blank=True)
    sku = models.CharField(max_length=64)
    product_kind = models.CharField(max_length=20)
    unit_price = models.PositiveBigIntegerField()
    quantity = models.PositiveIntegerField()
    shipped_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="orderline_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(shipped_quantity__lte=models.F("quantity")),
                name="orderline_not_overshipped",
            ),
        ]

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity


class OrderEvent(models.Model):
    """One status change of an order: from, to, who, when, why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]


class Payment(models.Model):
    """One attempt to collect an order's total through a provider."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        REFUNDED = "refunded", _("Refunded")

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="payments")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    provider = models.CharField(max_length=20)
    reference = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    # The sum of this payment's refunds, whatever their state (asked for, on the way, failed and
    # to be tried again, or done): what can no longer be refunded. Kept with the refunds, in one
    # transaction under the order's lock; a CHECK constraint keeps it within the amount.
    refund_total = models.PositiveBigIntegerField(default=0)
    redirect_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "reference"],
                condition=~Q(reference=""),
                name="payment_unique_provider_reference",
            ),
            models.CheckConstraint(
                condition=Q(refund_total__lte=models.F("amount")),
                name="payment_not_overrefunded",
            ),
            # At most one approved payment per order: a duplicate callback can never pay twice.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status="approved"),
                name="payment_one_approved_per_order",
            ),
        ]

    @property
    def refundable(self) -> int:
        """Return what may still be refunded: an approved payment's amount less its refunds."""
        if self.status != self.Status.APPROVED:
            return 0
        return self.amount - self.refund_total


class Refund(models.Model):
    """Money of one payment given back to the fan, all of it or part, through its provider.

    Recorded as requested in the transaction that decides it; the provider is asked after commit
    (``orders.services.refunds.refund_send``) and its answer recorded here. The idempotency key
    goes to the provider with every try, so that however often it is asked, the money goes back
    once.
    """

    class Status(models.TextChoices):
        # Recorded; the worker is asking the provider.
        REQUESTED = "requested", _("Requested")
        # The provider took it but the money is not back yet; for bank transfers staff send it
        # themselves and mark it sent.
        PENDING = "pending", _("Pending")
        # The money went back to the fan.
        SUCCEEDED = "succeeded", _("Refunded")
        # The provider refused it (``message`` says why); staff may try again with the same key.
        FAILED = "failed", _("Failed")

    # Which status may follow which (anything else is refused): a failed refund is asked again,
    # a pending or failed one may be marked sent by staff who returned the money themselves.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.REQUESTED: frozenset({Status.PENDING, Status.SUCCEEDED, Status.FAILED}),
        Status.PENDING: frozenset({Status.SUCCEEDED}),
        Status.FAILED: frozenset({Status.REQUESTED, Status.SUCCEEDED}),
        Status.SUCCEEDED: frozenset(),
    }

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    provider_reference = models.CharField(max_length=100, blank=True)
    # The provider's last word: why it failed, or what staff have to do.
    message = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by_label = models.CharField(max_length=200, blank=True)
    # How many times the provider was asked (a "Try again" asks once more).
    attempts = models.PositiveSmallIntegerField(default=0)
    # Whether the fan is e-mailed once the money is back (``orders.emails``, "refunded"): not
    # when whoever decided the refund tells the fan themselves (a drop sold out).
    tell_fan = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            # Only a refund that succeeded has a date the money went back.
            models.CheckConstraint(
                condition=Q(status="succeeded", refunded_at__isnull=False)
                | (~Q(status="succeeded") & Q(refunded_at__isnull=True)),
                name="refund_refunded_at_when_succeeded",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.status})"

    @property
    def is_open(self) -> bool:
        """Return whether staff still have something to do or wait for (not yet refunded)."""
        return self.status != self.Status.SUCCEEDED

    def transition_to(self, status: str) -> None:
        """Move to ``status``; raise InvalidTransition if not allowed. The caller saves."""
        if status not in self.TRANSITIONS[self.status]:
            raise InvalidTransition(
                _("A refund that is %(from)s cannot become %(to)s.")
                % {
                    "from": self.get_status_display().lower(),
                    "to": self.Status(status).label.lower(),
                }
            )
        self.status = status


class PaymentCallback(models.Model):
    """Every callback a provider delivered, kept once per event id (duplicates are recognised)."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=64)
    payment = models.ForeignKey(
        Payment, on_delete=models.SET_NULL, null=True, related_name="callbacks"
    )
    payload = models.JSONField()
    outcome = models.CharField(max_length=40)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="callback_unique_event"),
        ]


class Shipment(models.Model):
    """A parcel sent for an order: carrier, tracking number and which lines it holds."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="shipments")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=80)
    tracking_number = models.CharField(max_length=80)
    shipped_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["shipped_at", "id"]


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="shipmentline_quantity_positive"
            ),
        ]


class OrderMessage(models.Model):
    """An e-mail about an order, claimed before sending so that none is ever sent twice."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=20)
    key = models.CharField(max_length=40, blank=True)
    to = models.EmailField()
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "kind", "key"], name="ordermessage_once"),
        ]
