"""Reads of share links, referrals and rewards: the shop first, never another shop's rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from kinfolk.core.errors import NotFound
from kinfolk.crm.models import Customer
from kinfolk.referrals.models import (
    Referral,
    ReferralCredit,
    RewardGrant,
    RewardRule,
    ShareLink,
    ShareVisit,
)
from kinfolk.releases.models import Release
from kinfolk.shops.models import Shop


def reward_rule_get_for_shop(*, shop: Shop, rule_id: int) -> RewardRule:
    """Return the shop's reward rule with this id; raise NotFound for any other."""
    rule = RewardRule.objects.filter(shop=shop, pk=rule_id).first()
    if rule is None:
        raise NotFound(_("No such reward."))
    return rule


def reward_rules_for_shop(*, shop: Shop) -> list[RewardRule]:
    """Return the shop's rules (active first), each with ``granted``: rewards given so far."""
    return list(
        RewardRule.objects.filter(shop=shop)
        .select_related("release__product")
        .annotate(granted=Count("grants"))
        .order_by("-active", "event", "threshold", "id")
    )


def reward_grants_for_shop(*, shop: Shop, limit: int = 100) -> list[RewardGrant]:
    """Return the shop's latest rewards given, with the fan, the rule and the order using it."""
    return list(
        RewardGrant.objects.filter(shop=shop)
        .select_related("customer", "rule", "redeemed_order")
        .order_by("-granted_at", "-id")[:limit]
    )


def releases_for_rewards(*, shop: Shop) -> list[Release]:
    """Return the shop's releases a rule may give as a bonus, by product name."""
    return list(
        Release.objects.filter(shop=shop).select_related("product").order_by("product__name")
    )


@dataclass
class RuleProgress:
    rule: RewardRule
    friends: int
    granted: RewardGrant | None

    @property
    def done(self) -> bool:
        return self.granted is not None

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.friends / self.rule.threshold))


@dataclass
class FanShopProgress:
    """One shop as a fan sees their word of mouth there."""

    shop: Shop
    customer: Customer
    link: ShareLink | None
    visits: int = 0
    friends: int = 0
    rules: list[RuleProgress] = field(default_factory=list)
    grants: list[RewardGrant] = field(default_factory=list)


def sharing_for_account(*, account) -> list[FanShopProgress]:
    """Return, for every shop the fan is a customer of, their link, visits, friends brought,
    progress to each active reward, and the rewards they got; a fixed number of queries."""
    customers = list(
        Customer.objects.filter(account=account, erased_at__isnull=True)
        .select_related("shop")
        .order_by("shop__name", "id")
    )
    if not customers:
        return []
    ids = [c.pk for c in customers]
    shop_ids = {c.shop_id for c in customers}
    links = {
        link.customer_id: link
        for link in ShareLink.objects.filter(customer_id__in=ids).annotate(
            visit_count=Count("visits")
        )
    }
    friends = dict(
        Referral.objects.filter(referrer_id__in=ids)
        .values("referrer_id")
        .annotate(n=Count("id"))
        .values_list("referrer_id", "n")
    )
    done = {
        (row["referral__referrer_id"], row["kind"]): row["n"]
        for row in ReferralCredit.objects.filter(referral__referrer_id__in=ids)
        .values("referral__referrer_id", "kind")
        .annotate(n=Count("referral__referred_id", distinct=True))
    }
    rules = list(
        RewardRule.objects.filter(shop_id__in=shop_ids, active=True).select_related(
            "release__product"
        )
    )
    grants = list(
        RewardGrant.objects.filter(customer_id__in=ids)
        .select_related("rule__release__product", "redeemed_order")
        .order_by("-granted_at", "-id")
    )
    result = []
    for customer in customers:
        link = links.get(customer.pk)
        mine = [g for g in grants if g.customer_id == customer.pk]
        by_rule = {g.rule_id: g for g in mine}
        result.append(
            FanShopProgress(
                shop=customer.shop,
                customer=customer,
                link=link,
                visits=link.visit_count if link else 0,
                friends=friends.get(customer.pk, 0),
                rules=[
                    RuleProgress(
                        rule=rule,
                        friends=done.get((customer.pk, rule.event), 0),
                        granted=by_rule.get(rule.pk),
                    )
                    for rule in rules
                    if rule.shop_id == customer.shop_id
                ],
                grants=mine,
            )
        )
    return result


def share_link_stats(*, shop: Shop, link: ShareLink) -> dict:
    """Return a link's visits, unique visitors and friends brought."""
    visits = ShareVisit.objects.filter(shop=shop, link=link).aggregate(
        visits=Count("id"), visitors=Count("visitor", distinct=True, filter=~Q(visitor=""))
    )
    visits["friends"] = Referral.objects.filter(shop=shop, link=link).count()
    return visits
