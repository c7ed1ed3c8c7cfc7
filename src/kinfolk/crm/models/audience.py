"""A fan's standing with a shop besides purchases: following it, and asking to join its mailing
list (the pending half of a double opt-in; the answer itself is a ConsentRecord)."""

from __future__ import annotations

import secrets

from django.db import models

from kinfolk.crm.models.customers import ConsentRecord, Customer
from kinfolk.shops.models import Shop


class Follow(models.Model):
    """A customer following a shop: one row while they follow; unfollowing deletes it (both
    leave an interaction on the timeline)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="follows")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="follows")
    followed_at = models.DateTimeField()
    # The page the fan followed from, e.g. "release:12", "shop".
    source = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["-followed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "customer"], name="follow_unique_customer"),
        ]
        indexes = [models.Index(fields=["shop", "followed_at"])]

    def __str__(self) -> str:
        return f"{self.customer} follows {self.shop}"


def new_consent_token() -> str:
    return secrets.token_urlsafe(32)


class ConsentRequest(models.Model):
    """A request to join a shop's mailing list, waiting for the person to confirm it from the
    e-mail sent to the address (double opt-in). Confirming records the ConsentRecord with the
    wording shown when the box was ticked; an unconfirmed request grants nothing."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="consent_requests")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="consent_requests"
    )
    topic = models.CharField(
        max_length=30,
        choices=ConsentRecord.Topic.choices,
        default=ConsentRecord.Topic.EMAIL_MARKETING,
    )
    token = models.CharField(max_length=64, unique=True, default=new_consent_token)
    # Where the box was ticked ("release:12", "checkout") and the exact words shown beside it.
    source = models.CharField(max_length=40)
    wording = models.TextField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    language = models.CharField(max_length=10, default="en")
    requested_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["shop", "customer", "requested_at"])]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.topic} requested"
