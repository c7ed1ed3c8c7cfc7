"""A discount reward always leaves something to pay, and a merge of two records that both earned
one rule's reward keeps one of them."""

from __future__ import annotations

import pytest

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.crm.models import Customer
from kinfolk.crm.services.merges import customer_merge
from kinfolk.dashboard.reward_forms import RewardRuleForm
from kinfolk.orders.models import Order
from kinfolk.referrals.models import RewardGrant, RewardRule
from kinfolk.referrals.rewards import reward_grant, reward_rule_create, reward_rule_update

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("percent", [91, 100])
def test_a_rule_may_not_take_more_than_90_percent(shop, discount_rule, percent):
    # Given a shop creating or changing a discount rule
    fields = {
        "name": "Big thanks",
        "event": "order",
        "threshold": 1,
        "reward": "discount",
        "discount_percent": percent,
    }

    # When it asks for more than 90 % off, in the service or in the dashboard's form
    for attempt in (
        lambda: reward_rule_create(shop=shop, **fields),
        lambda: reward_rule_update(shop=shop, rule=discount_rule, **fields),
    ):
        with pytest.raises(InvalidInput) as refused:
            attempt()
        assert refused.value.field == "discount_percent"
    form = RewardRuleForm(data={**fields, "discount_percent": str(percent)})

    # Then it is refused, saying why, and the stored rule is unchanged
    assert not form.is_valid() and "discount_percent" in form.errors
    assert RewardRule.objects.get().discount_percent == 10
    assert reward_rule_create(shop=shop, **{**fields, "discount_percent": 90}).pk


def _both_earned(shop, make_fan, rule):
    source = make_fan(shop, "old-address@example.com")
    target = make_fan(shop, "fan@example.com")
    return (
        source,
        target,
        reward_grant(shop=shop, rule=rule, customer=source),
        reward_grant(shop=shop, rule=rule, customer=target),
    )


def _order(shop, customer) -> Order:
    return Order.objects.create(
        shop=shop,
        customer=customer,
        number=f"N{customer.pk:07d}",
        email=customer.email,
        currency=shop.currency,
        subtotal=10000,
        discount=1000,
        total=9000,
        placed_at=clock.now(),
    )


def test_a_merge_of_two_records_with_one_rules_reward_keeps_the_targets(
    shop, discount_rule, make_fan
):
    # Given two records of one person, each with an unused code of the same rule
    source, target, _source_grant, target_grant = _both_earned(shop, make_fan, discount_rule)

    # When staff merge them
    customer_merge(shop=shop, source=source, target=target)

    # Then the merge completes and the person keeps one reward: the target's
    assert not Customer.objects.filter(pk=source.pk).exists()
    assert list(RewardGrant.objects.values_list("pk", "customer_id")) == [
        (target_grant.pk, target.pk)
    ]


def test_a_merge_keeps_the_reward_already_used_for_an_order(shop, discount_rule, make_fan):
    # Given two records with one rule's reward, the source's code used for an order
    source, target, source_grant, _target_grant = _both_earned(shop, make_fan, discount_rule)
    order = _order(shop, source)
    RewardGrant.objects.filter(pk=source_grant.pk).update(
        redeemed_order=order, redeemed_at=clock.now()
    )

    # When staff merge them
    customer_merge(shop=shop, source=source, target=target)

    # Then the used reward is the one kept, now the target's
    kept = RewardGrant.objects.get()
    assert (kept.pk, kept.customer_id, kept.redeemed_order_id) == (
        source_grant.pk,
        target.pk,
        order.pk,
    )
