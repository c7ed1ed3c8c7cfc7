"""Reads of share links, referrals and rewards: the shop first, never another shop's rows."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kinfolk.core.errors import NotFound
from kinfolk.referrals.models import RewardRule
from kinfolk.shops.models import Shop


def reward_rule_get_for_shop(*, shop: Shop, rule_id: int) -> RewardRule:
    """Return the shop's reward rule with this id; raise NotFound for any other."""
    rule = RewardRule.objects.filter(shop=shop, pk=rule_id).first()
    if rule is None:
        raise NotFound(_("No such reward."))
    return rule
