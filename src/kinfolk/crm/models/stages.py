"""The shop's stage rules and every change of a customer's stage."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kinfolk.crm.models.customers import Customer, Stage
from kinfolk.shops.models import Shop


class StageRules(models.Model):
    """A shop's adjustments to the stage rules; a shop without a row uses the defaults.

    The defaults and why they are what they are: ``kinfolk.crm.stage_rules``.
    """

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="stage_rules")
    purchase_window_days = models.PositiveIntegerField(
        _("purchase window (days)"),
        default=365,
        help_text=_("Paid orders older than this no longer count towards a stage."),
    )
    repeat_purchase_min_orders = models.PositiveIntegerField(
        _("paid orders for a relationship"), default=2
    )
    return_window_days = models.PositiveIntegerField(_("return window (days)"), default=90)
    return_min_days = models.PositiveIntegerField(
        _("active days for identification"),
        default=3,
        help_text=_("Distinct days with an action of the fan within the return window."),
    )
    engagement_window_days = models.PositiveIntegerField(
        _("uploads and replies window (days)"), default=365
    )
    community_window_days = models.PositiveIntegerField(_("community window (days)"), default=180)
    community_min_actions = models.PositiveIntegerField(
        _("community actions for the community stage"), default=1
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("stage rules")
        verbose_name_plural = _("stage rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(purchase_window_days__gte=1)
                & Q(return_window_days__gte=1)
                & Q(engagement_window_days__gte=1)
                & Q(community_window_days__gte=1),
                name="stage_rules_windows_positive",
            ),
            models.CheckConstraint(
                condition=Q(repeat_purchase_min_orders__gte=2)
                & Q(return_min_days__gte=1)
                & Q(community_min_actions__gte=1),
                name="stage_rules_thresholds_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"stage rules · {self.shop_id}"


class StageChange(models.Model):
    """One move of a customer from one stage to another, with the rule and events behind it."""

    class Trigger(models.TextChoices):
        INTERACTION = "interaction", _("A new interaction")
        RECOMPUTE = "recompute", _("Recomputation")

    shop = models.ForeignKey(
        Shop,
        on_delete=models.CASCADE,
        related_name="stage_changes",
        # Every index of the table starts with the shop: one on the shop alone would only
        # cost writes.
        db_index=False,
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    changed_at = models.DateTimeField()
    # The rule that holds for the new stage (kinfolk.crm.stage_rules.Rule).
    rule = models.CharField(max_length=30)
    # The first and last of the interactions that satisfied the rule.
    interaction_ids = models.JSONField(default=list, blank=True)
    # What the rule counted, its window and its threshold at the time.
    evidence = models.JSONField(default=dict, blank=True)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["shop", "customer", "changed_at"]),
            models.Index(fields=["shop", "changed_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_stage=models.F("to_stage")), name="stage_change_changes"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_stage} → {self.to_stage} ({self.rule})"
