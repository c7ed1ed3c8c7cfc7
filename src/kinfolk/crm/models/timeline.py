"""The append-only timeline of everything that happened between a shop and a customer."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kinfolk.crm.models.customers import Customer
from kinfolk.shops.models import Shop


class Interaction(models.Model):
    """One fan-facing event on a customer's timeline. Rows are only ever added, except imported
    history that a later import brings up to date (a refund withdraws or lowers an imported
    order's ``order_paid``: ``crm.imports.writer``)."""

    class Kind(models.TextChoices):
        ACCOUNT_CREATED = "account_created", _("Account created")
        ORDER_PLACED = "order_placed", _("Order placed")
        ORDER_PAID = "order_paid", _("Order paid")
        ORDER_SHIPPED = "order_shipped", _("Order shipped")
        ORDER_DELIVERED = "order_delivered", _("Order delivered")
        ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
        ORDER_REFUNDED = "order_refunded", _("Order refunded")
        # Part of a live order's payment given back: the order still stands as a purchase
        # (unlike ``order_refunded``), and it is no action of the fan's.
        ORDER_PARTIALLY_REFUNDED = "order_partially_refunded", _("Order partly refunded")
        MESSAGE_SENT = "message_sent", _("Message sent")
        NOTE = "note", _("Staff note")
        STAGE_CHANGED = "stage_changed", _("Stage changed")
        DOWNLOAD = "download", _("Downloaded")
        FOLLOW = "follow", _("Followed")
        UNFOLLOW = "unfollow", _("Stopped following")
        CONSENT = "consent", _("Mailing list choice")
        REFERRAL = "referral", _("Referred someone")
        UPLOAD = "upload", _("Uploaded")
        RSVP = "rsvp", _("Signed up for an event")
        GROUP_JOINED = "group_joined", _("Joined a group")
        POST = "post", _("Posted")
        REPLY = "reply", _("Replied")
        DATES_GIVEN = "dates_given", _("Gave important dates")
        DROP_RESERVED = "drop_reserved", _("Reserved a numbered copy")
        WAITLIST_JOINED = "waitlist_joined", _("Joined a drop's waitlist")

    class Source(models.TextChoices):
        STOREFRONT = "storefront", _("Storefront")
        DASHBOARD = "dashboard", _("Dashboard")
        PAYMENT = "payment", _("Payment provider")
        IMPORT = "import", _("Import")
        SYSTEM = "system", _("System")

    shop = models.ForeignKey(
        Shop,
        on_delete=models.CASCADE,
        related_name="interactions",
        # Every index of the table starts with the shop: one on the shop alone would only
        # cost writes.
        db_index=False,
    )
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
            # The stage recomputation's grouped query and its refunds subquery read everything
            # they need from these two indexes without visiting the table (benchmarks/crm.py:
            # 65-70 s without them, 38-50 s with them, at 1M customers / 5M rows on SQLite).
            models.Index(
                fields=[
                    "shop",
                    "customer",
                    "kind",
                    "occurred_at",
                    "subject_type",
                    "subject_id",
                    "id",
                ],
                name="interaction_stage_signals",
            ),
            models.Index(
                fields=["shop", "kind", "occurred_at", "subject_type", "subject_id"],
                name="interaction_kind_subject",
            ),
        ]
        constraints = [
            # An imported event names its origin (e.g. subject "shopify_order" "#1001"): importing
            # the same file twice adds nothing twice.
            models.UniqueConstraint(
                fields=["shop", "kind", "subject_type", "subject_id"],
                condition=Q(source="import"),
                name="interaction_unique_import",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.customer} · {self.occurred_at:%Y-%m-%d}"
