"""The shop's customer-share model as last computed: what was bought together, kept so that a
customer page and the shop's insights read one row instead of every paid order of the shop."""

from __future__ import annotations

from django.db import models

from kinfolk.shops.models import Shop


class ShareSnapshot(models.Model):
    """One shop's bought-together model (``kinfolk.crm.share``), refreshed in batch.

    ``data`` holds what the pure computations need to answer for any one fan without reading
    the other fans' orders: buyers per product, pairs bought together, the catalogue as it was,
    and the shop-wide figures. Its layout is versioned inside the document.
    """

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="share_snapshot")
    computed_at = models.DateTimeField()
    orders_counted = models.PositiveIntegerField(default=0)
    orders_without_items = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"share model of shop {self.shop_id} at {self.computed_at:%Y-%m-%d %H:%M}"
