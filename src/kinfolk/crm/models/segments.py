"""Saved segments: a named filter over a shop's customers that other features reuse."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from kinfolk.shops.models import Shop


class SavedSegment(models.Model):
    """A named set of filters (``kinfolk.crm.segment_filters``); its members are computed when
    asked, so a segment always means "who matches now"."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="saved_segments")
    name = models.CharField(_("name"), max_length=100)
    # The filter as kinfolk.crm.segment_filters.SegmentFilter.as_dict() gives it.
    filters = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint("shop", Lower("name"), name="segment_unique_shop_name"),
        ]

    def __str__(self) -> str:
        return self.name
