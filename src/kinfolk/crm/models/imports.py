"""One run of bringing a shop's history in from another system (Shopify, Bandcamp, a CSV)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kinfolk.shops.models import Shop


class ImportRun(models.Model):
    """A file being imported: what it is, how far it got, what was rejected and why.

    Idempotency does not live here: imported events carry their origin and a unique constraint on
    the timeline (``interaction_unique_import``) makes a second import of the same lines add nothing.
    """

    class Format(models.TextChoices):
        SHOPIFY_ORDERS = "shopify_orders", _("Shopify orders export")
        SHOPIFY_CUSTOMERS = "shopify_customers", _("Shopify customers export")
        BANDCAMP = "bandcamp", _("Bandcamp sales report")
        GENERIC = "generic", _("CSV with a column mapping")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="import_runs")
    format = models.CharField(_("format"), max_length=30, choices=Format.choices)
    filename = models.CharField(_("file"), max_length=255)
    # The uploaded file, kept through Django's storage until the run is done.
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    # Generic CSV: which column holds what, e.g. {"email": "E-mail", "date": "Order date", ...}.
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    total_lines = models.PositiveIntegerField(default=0)
    processed_lines = models.PositiveIntegerField(default=0)
    customers_created = models.PositiveIntegerField(default=0)
    orders_imported = models.PositiveIntegerField(default=0)
    already_imported = models.PositiveIntegerField(default=0)
    # [{"line": 17, "reason": "..."}] in the file's line numbers (the header is line 1); lines
    # left out at the person's request (an erasure) come first, with "left_out": true.
    rejected = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_format_display()} · {self.filename}"
