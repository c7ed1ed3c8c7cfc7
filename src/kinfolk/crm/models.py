"""A shop's record of each person (Customer) and the append-only timeline (Interaction)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from kinfolk.shops.models import Shop


class Customer(models.Model):
    """A person as one shop knows them; linked to an account when there is one.

    Guests and imported customers have no account; when they sign up with the same address, their
    customer records are linked to the new account.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customers")
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer_records",
    )
    email = models.EmailField(_("e-mail address"), blank=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "shop",
                Lower("email"),
                condition=~Q(email=""),
                name="customer_unique_shop_email",
            ),
            models.UniqueConstraint(
                fields=["shop", "account"],
                condition=Q(account__isnull=False),
                name="customer_unique_shop_account",
            ),
        ]
        indexes = [models.Index(fields=["shop", "created_at"])]

    def __str__(self) -> str:
        return self.name or self.email or f"customer {self.pk}"


class Interaction(models.Model):
    """One fan-facing event on a customer's timeline. Rows are only ever added."""

    class Kind(models.TextChoices):
        ACCOUNT_CREATED = "account_created", _("Account created")
        ORDER_PLACED = "order_placed", _("Order placed")
        ORDER_PAID = "order_paid", _("Order paid")
        ORDER_SHIPPED = "order_shipped", _("Order shipped")
        ORDER_DELIVERED = "order_delivered", _("Order delivered")
        ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
        ORDER_REFUNDED = "order_refunded", _("Order refunded")
        MESSAGE_SENT = "message_sent", _("Message sent")
        NOTE = "note", _("Staff note")

    class Source(models.TextChoices):
        STOREFRONT = "storefront", _("Storefront")
        DASHBOARD = "dashboard", _("Dashboard")
        PAYMENT = "payment", _("Payment provider")
        IMPORT = "import", _("Import")
        SYSTEM = "system", _("System")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="interactions")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SYSTEM)
    subject_type = models.CharField(max_length=40, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "customer", "occurred_at"]),
            models.Index(fields=["shop", "kind", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.customer} · {self.occurred_at:%Y-%m-%d}"
