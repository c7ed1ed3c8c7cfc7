"""Reads of following: whether a fan follows a shop, and the shop's followers."""

from __future__ import annotations

from django.db.models import QuerySet

from kinfolk.crm.models import Follow
from kinfolk.shops.models import Shop


def follow_exists(*, shop: Shop, account) -> bool:
    """Return whether the account's customer in the shop follows it (False for a visitor)."""
    if account is None or not account.is_authenticated:
        return False
    return Follow.objects.filter(shop=shop, customer__account=account).exists()


def followers_for_shop(*, shop: Shop) -> QuerySet[Follow]:
    """Return the shop's follows with their customers, newest first."""
    return (
        Follow.objects.filter(shop=shop).select_related("customer").order_by("-followed_at", "-id")
    )


def follower_count(*, shop: Shop) -> int:
    """Return how many customers follow the shop."""
    return Follow.objects.filter(shop=shop).count()
