"""What the shop derives from the timeline about value: RFM scores and predicted lifetime value."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kinfolk.crm.models.customers import Customer
from kinfolk.shops.models import Shop


class Segment(models.TextChoices):
    """Named RFM segments (the R × FM grid in ``kinfolk.crm.rfm_scoring``)."""

    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALIST = "potential_loyalist", _("Potential loyalist")
    NEW = "new", _("New")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANT_LOSE = "cant_lose", _("Can't lose")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class CustomerScore(models.Model):
    """A purchasing customer's RFM scores within the shop; customers without a purchase have none."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="score"
    )
    # Repeated from the customer so that the shop's lists filter and sort on one index.
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customer_scores")
    last_purchase_at = models.DateTimeField(_("last purchase"))
    frequency = models.PositiveIntegerField(_("paid orders"))
    monetary = models.BigIntegerField(_("total paid"))  # minor units of the shop's currency
    recency_score = models.PositiveSmallIntegerField(_("R"))
    frequency_score = models.PositiveSmallIntegerField(_("F"))
    monetary_score = models.PositiveSmallIntegerField(_("M"))
    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices)
    scored_at = models.DateTimeField()
    # Predicted value (kinfolk.clv, written by crm.services.value): null until the shop's first fit.
    p_alive = models.FloatField(_("probability alive"), null=True, blank=True)
    purchases_90d = models.FloatField(_("expected purchases, 90 days"), null=True, blank=True)
    purchases_365d = models.FloatField(_("expected purchases, 365 days"), null=True, blank=True)
    expected_spend = models.BigIntegerField(_("expected order value"), null=True, blank=True)
    clv = models.BigIntegerField(_("lifetime value"), null=True, blank=True)  # minor units
    # Which estimate stands behind the figures (ValueModelFit.Method): the fitted models, or the
    # pooled / RFM-based fallback for a shop with too little history.
    value_method = models.CharField(max_length=20, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["shop", "segment"], name="score_shop_segment"),
            models.Index(
                fields=["shop", "recency_score", "frequency_score", "monetary_score"],
                name="score_shop_rfm",
            ),
            models.Index(fields=["shop", "monetary"], name="score_shop_monetary"),
            models.Index(fields=["shop", "clv"], name="score_shop_clv"),
            # The customers list sorted by paid orders or last purchase: few distinct values or
            # many ties, so the customer id completes the order within the index.
            models.Index(fields=["shop", "frequency", "customer"], name="score_shop_frequency"),
            models.Index(
                fields=["shop", "last_purchase_at", "customer"], name="score_shop_last_purchase"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(recency_score__range=(1, 5))
                & Q(frequency_score__range=(1, 5))
                & Q(monetary_score__range=(1, 5)),
                name="score_rfm_quintiles",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.rfm} {self.segment}"

    @property
    def rfm(self) -> str:
        """Return the three scores as the usual code, e.g. ``"545"``."""
        return f"{self.recency_score}{self.frequency_score}{self.monetary_score}"


class ValueModelFit(models.Model):
    """One fit of the shop's lifetime-value models: parameters, quality, and the holdout check."""

    class Method(models.TextChoices):
        MODEL = "model", _("BG/NBD and Gamma-Gamma fitted to the shop's history")
        POOLED = "pooled", _("Shop-wide averages (too little history for a fit)")
        RFM = "rfm", _("RFM-based estimate (too little history for a fit)")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="value_fits")
    fitted_at = models.DateTimeField()
    method = models.CharField(max_length=20, choices=Method.choices)
    # Why the fallback was used, in words a maker reads ("12 repeat buyers; 50 needed").
    reason = models.TextField(blank=True)
    customers = models.PositiveIntegerField()
    repeat_buyers = models.PositiveIntegerField()
    # {"bgnbd": {"r":..,"alpha":..,"a":..,"b":..,"log_likelihood":..}, "gamma_gamma": {...}}
    params = models.JSONField(default=dict, blank=True)
    # The calibration/holdout check: periods with predicted and actual repeat purchases.
    holdout = models.JSONField(default=dict, blank=True)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-fitted_at", "-id"]
        indexes = [models.Index(fields=["shop", "fitted_at"])]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.method} {self.fitted_at:%Y-%m-%d}"
