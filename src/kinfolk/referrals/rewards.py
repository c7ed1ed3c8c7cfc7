"""Rewards: the shop's rules ("3 friends download → a bonus track"), and giving each fan a
rule's reward exactly once, also when the friends that complete it arrive at the same time.

A grant is one row per rule and fan (a unique constraint): the first transaction to insert it
gives the reward; any other finds it there and gives nothing. Delivery (a library grant of the
bonus release, or a single-use discount code) happens in the same transaction; its e-mail after
commit.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.crm.models import Customer
from kinfolk.referrals import tasks
from kinfolk.referrals.models import (
    MAX_WINDOW_DAYS,
    ReferralCredit,
    ReferralSettings,
    RewardGrant,
    RewardRule,
)
from kinfolk.releases.models import Grant, Release
from kinfolk.releases.services.grants import grant_give
from kinfolk.shops.models import Shop

# Codes without look-alike characters (no 0/O, 1/I/L): read aloud or typed from an e-mail.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
MAX_THRESHOLD = 1000
# A discount leaves something to pay: payment providers take no order of 0.
MAX_DISCOUNT_PERCENT = 90


def new_reward_code() -> str:
    """Return a fresh discount code (10 characters, about 50 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def friends_counted(*, shop: Shop, referrer: Customer, event: str) -> int:
    """Return how many different people the fan brought who did ``event``."""
    return (
        ReferralCredit.objects.filter(shop=shop, kind=event, referral__referrer=referrer)
        .values("referral__referred")
        .distinct()
        .count()
    )


def rewards_evaluate(*, shop: Shop, referrer: Customer, event: str) -> list[RewardGrant]:
    """Give the fan every active reward of ``event`` they have now earned and not yet had;
    return the grants made by this call."""
    rules = list(RewardRule.objects.filter(shop=shop, active=True, event=event))
    if not rules:
        return []
    had = set(
        RewardGrant.objects.filter(rule__in=rules, customer=referrer).values_list(
            "rule_id", flat=True
        )
    )
    due = [rule for rule in rules if rule.pk not in had]
    if not due:
        return []
    count = friends_counted(shop=shop, referrer=referrer, event=event)
    made = []
    for rule in due:
        if count >= rule.threshold:
            grant = reward_grant(shop=shop, rule=rule, customer=referrer)
            if grant is not None:
                made.append(grant)
    return made


@transaction.atomic
def reward_grant(*, shop: Shop, rule: RewardRule, customer: Customer) -> RewardGrant | None:
    """Give ``customer`` the reward of ``rule`` and deliver it; None when they already have it.

    Exactly once per rule and fan: the grant's row is inserted in a savepoint, and a second
    insert (the same rule completed by another request at the same moment) fails on the unique
    constraint and gives nothing.
    """
    if rule.shop_id != shop.pk or customer.shop_id != shop.pk:
        raise InvalidInput(_("This reward belongs to another shop."))
    grant = None
    for _attempt in range(3):
        try:
            with transaction.atomic():
                grant = RewardGrant.objects.create(
                    shop=shop,
                    rule=rule,
                    customer=customer,
                    granted_at=clock.now(),
                    code=new_reward_code() if rule.reward == RewardRule.Reward.DISCOUNT else "",
                )
            break
        except IntegrityError:
            if RewardGrant.objects.filter(rule=rule, customer=customer).exists():
                return None
            # Otherwise the fresh code was someone else's: draw again.
    if grant is None:
        raise IntegrityError("No free reward code after three draws.")
    if rule.reward == RewardRule.Reward.BONUS_RELEASE:
        library = grant_give(
            shop=shop, release=rule.release, customer=customer, source=Grant.Source.REWARD
        )
        RewardGrant.objects.filter(pk=grant.pk).update(release_grant=library)
        grant.release_grant = library
    grant_id = grant.pk
    transaction.on_commit(lambda: tasks.send_reward_email(grant_id))
    return grant


def _check_rule(
    *,
    shop: Shop,
    name: str,
    event: str,
    threshold: int,
    reward: str,
    release: Release | None,
    discount_percent: int | None,
) -> dict:
    """Return the rule's clean fields; raise InvalidInput naming the first wrong one."""
    errors: dict[str, str] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = _("Give the reward a name fans will recognise, e.g. “Bonus track”.")
    elif len(name) > 120:
        errors["name"] = _("Keep the name under 120 characters.")
    if event not in ReferralCredit.Kind.values:
        errors["event"] = _("Choose what friends must do.")
    if not isinstance(threshold, int) or not 1 <= threshold <= MAX_THRESHOLD:
        errors["threshold"] = _("Enter a number of friends from 1 to %(max)s.") % {
            "max": MAX_THRESHOLD
        }
    if reward == RewardRule.Reward.BONUS_RELEASE:
        if release is None or release.shop_id != shop.pk:
            errors["release"] = _("Choose one of your releases as the bonus.")
        discount_percent = None
    elif reward == RewardRule.Reward.DISCOUNT:
        if (
            not isinstance(discount_percent, int)
            or not 1 <= discount_percent <= MAX_DISCOUNT_PERCENT
        ):
            errors["discount_percent"] = _(
                "Enter a discount from 1 to 90 %: an order needs something left to pay."
            )
        release = None
    else:
        errors["reward"] = _("Choose a reward.")
    if errors:
        first = next(iter(errors))
        raise InvalidInput(errors[first], field=first, errors=errors)
    return {
        "name": name,
        "event": event,
        "threshold": threshold,
        "reward": reward,
        "release": release,
        "discount_percent": discount_percent,
    }


@transaction.atomic
def reward_rule_create(
    *,
    shop: Shop,
    name: str,
    event: str,
    threshold: int,
    reward: str,
    release: Release | None = None,
    discount_percent: int | None = None,
) -> RewardRule:
    """Create an active reward rule of the shop."""
    fields = _check_rule(
        shop=shop,
        name=name,
        event=event,
        threshold=threshold,
        reward=reward,
        release=release,
        discount_percent=discount_percent,
    )
    return RewardRule.objects.create(shop=shop, created_at=clock.now(), **fields)


@transaction.atomic
def reward_rule_update(
    *,
    shop: Shop,
    rule: RewardRule,
    name: str,
    event: str,
    threshold: int,
    reward: str,
    release: Release | None = None,
    discount_percent: int | None = None,
    active: bool = True,
) -> RewardRule:
    """Change a rule. Rewards already given stay given; a lower threshold applies from the
    next friend counted."""
    if rule.shop_id != shop.pk:
        raise InvalidInput(_("This reward belongs to another shop."))
    fields = _check_rule(
        shop=shop,
        name=name,
        event=event,
        threshold=threshold,
        reward=reward,
        release=release,
        discount_percent=discount_percent,
    )
    for key, value in {**fields, "active": bool(active)}.items():
        setattr(rule, key, value)
    rule.save()
    return rule


@transaction.atomic
def reward_rule_set_active(*, shop: Shop, rule: RewardRule, active: bool) -> RewardRule:
    """Stop (or start again) giving a rule's reward; rewards already given stay given."""
    if rule.shop_id != shop.pk:
        raise InvalidInput(_("This reward belongs to another shop."))
    RewardRule.objects.filter(pk=rule.pk).update(active=active)
    rule.active = active
    return rule


@transaction.atomic
def referral_settings_update(*, shop: Shop, window_days: int) -> ReferralSettings:
    """Set how many days a visit through a share link counts for the fan who shared it."""
    if not isinstance(window_days, int) or not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise InvalidInput(
            _("Enter a number of days from 1 to %(max)s.") % {"max": MAX_WINDOW_DAYS},
            field="window_days",
        )
    settings, _created = ReferralSettings.objects.update_or_create(
        shop=shop, defaults={"window_days": window_days, "updated_at": clock.now()}
    )
    return settings
