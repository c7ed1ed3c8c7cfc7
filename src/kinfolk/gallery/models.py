"""Fans' photos and short videos in a shop's gallery, shown once staff approve them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kinfolk.catalog.models import Product
from kinfolk.core.storage import private_storage
from kinfolk.crm.models import Customer
from kinfolk.shops.models import Shop


class FanUpload(models.Model):
    """A photo or video a fan gave a shop. Kept in the private storage: nobody but staff sees
    it until it is approved. Photos are stored re-encoded, without location metadata."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Photo")
        VIDEO = "video", _("Video")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not shown")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="fan_uploads")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="fan_uploads")
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fan_uploads",
    )
    # What it shows, when the fan says ("wearing the shirt"); optional.
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="fan_uploads"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    file = models.FileField(storage=private_storage, upload_to="gallery/%Y/%m/", max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    caption = models.CharField(_("caption"), max_length=300, blank=True)
    # The name shown with the item ("Photo: Mina K."); the fan's choice at upload.
    credit = models.CharField(_("credit"), max_length=80, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    submitted_at = models.DateTimeField()
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rejection_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "status", "submitted_at"]),
            models.Index(fields=["shop", "customer"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
