"""Reads of stages and RFM segment counts."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from kinfolk.crm.models import Customer, CustomerScore, Segment, Stage, StageChange, StageRules
from kinfolk.shops.models import Shop


def stage_rules_for(*, shop: Shop) -> StageRules:
    """Return the shop's stage rules as saved, or the defaults (unsaved) when it has none."""
    saved = StageRules.objects.filter(shop=shop).first()
    return saved if saved is not None else StageRules(shop=shop)


def customers_by_stage(*, shop: Shop) -> dict[str, int]:
    """Return how many of the shop's customers are at each stage (every stage, lowest first)."""
    counts = dict(
        Customer.objects.filter(shop=shop)
        .order_by()
        .values_list("stage")
        .annotate(n=Count("id"))
        .values_list("stage", "n")
    )
    return {stage: counts.get(stage, 0) for stage in Stage.values}


def customer_stage_history(*, shop: Shop, customer: Customer) -> QuerySet[StageChange]:
    """Return the customer's stage changes, oldest first (none for another shop's customer)."""
    return StageChange.objects.filter(shop=shop, customer=customer).order_by("changed_at", "id")


def rfm_segment_counts(*, shop: Shop) -> dict[str, int]:
    """Return how many of the shop's scored customers are in each RFM segment (every segment)."""
    counts = dict(
        CustomerScore.objects.filter(shop=shop)
        .order_by()
        .values_list("segment")
        .annotate(n=Count("customer_id"))
        .values_list("segment", "n")
    )
    return {segment: counts.get(segment, 0) for segment in Segment.values}
