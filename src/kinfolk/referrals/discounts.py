"""Reward codes at checkout: found, offered and taken through ``kinfolk.orders.extensions``.

A code is the fan's own: it works for an order placed by the customer it was granted to (the
same record, account or e-mail address), once. Taking it is one conditional UPDATE
(``redeemed_order IS NULL``) inside the order's transaction, so two checkouts with the same
code at the same moment place one order between them. An order that is cancelled or refunded
gives its code back (``reward_discount_release``).
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from kinfolk.accounts.models import normalize_email
from kinfolk.core import clock
from kinfolk.core.errors import Conflict, InvalidInput
from kinfolk.orders import extensions
from kinfolk.orders.extensions import Discount
from kinfolk.referrals.models import RewardGrant, RewardRule
from kinfolk.referrals.rewards import CODE_LENGTH, MAX_DISCOUNT_PERCENT
from kinfolk.shops.models import Shop

NAME = "rewards"


def _percent(grant: RewardGrant) -> int:
    # A rule made before the cap may say more; an order must keep something to pay.
    return min(grant.rule.discount_percent or 0, MAX_DISCOUNT_PERCENT)


def _label(grant: RewardGrant) -> str:
    return _("Reward: %(percent)s%% off (code %(code)s)") % {
        "percent": _percent(grant),
        "code": grant.code,
    }


def _discount(grant: RewardGrant) -> Discount:
    return Discount(
        code=grant.code,
        label=_label(grant),
        percent=_percent(grant),
        token=str(grant.pk),
    )


def _belongs_to(grant: RewardGrant, *, email: str, account) -> bool:
    owner = grant.customer
    if account is not None and owner.account_id and owner.account_id == account.pk:
        return True
    return bool(owner.email and email) and normalize_email(owner.email) == normalize_email(email)


def reward_discount_find(*, shop: Shop, code: str, email: str = "", account=None):
    """Return the discount of the shop's reward code ``code``, None for no such code; raise
    InvalidInput for someone else's code or one already used."""
    code = code.strip().upper().replace(" ", "").replace("-", "")
    if len(code) != CODE_LENGTH:
        return None
    grant = (
        RewardGrant.objects.filter(shop=shop, code=code).select_related("rule", "customer").first()
    )
    if grant is None:
        return None
    if not _belongs_to(grant, email=email, account=account):
        raise InvalidInput(
            _(
                "This code was given to another fan. Use it with the e-mail address it was "
                "sent to, or log in to their account."
            ),
            field="discount_code",
            code="not_yours",
        )
    if grant.redeemed_order_id is not None:
        raise InvalidInput(
            _("This code has already been used."), field="discount_code", code="used"
        )
    return _discount(grant)


def reward_discount_redeem(*, shop: Shop, order, discount: Discount) -> None:
    """Mark the reward's code used by ``order``; raise Conflict when another order took it."""
    taken = RewardGrant.objects.filter(
        shop=shop, pk=int(discount.token), redeemed_order__isnull=True
    ).update(redeemed_order=order, redeemed_at=clock.now())
    if not taken:
        raise Conflict(
            _("This code has just been used for another order. Nothing was charged."),
            field="discount_code",
            code="used",
        )


def reward_discount_release(*, shop: Shop, order) -> int:
    """Give back the reward code ``order`` took, the order being cancelled or refunded; return
    the codes freed (0 or 1). One conditional UPDATE: only a code this very order holds."""
    return RewardGrant.objects.filter(shop=shop, redeemed_order=order).update(
        redeemed_order=None, redeemed_at=None
    )


def reward_discount_offers(*, shop: Shop, account) -> list[Discount]:
    """Return the logged-in fan's unused reward codes in the shop."""
    grants = (
        RewardGrant.objects.filter(
            Q(customer__account=account),
            shop=shop,
            rule__reward=RewardRule.Reward.DISCOUNT,
            redeemed_order__isnull=True,
        )
        .exclude(code="")
        .select_related("rule")
    )
    return [_discount(grant) for grant in grants]


def register_discounts() -> None:
    """Register the reward codes with checkout (from ``ReferralsConfig.ready``)."""
    extensions.register_discounts(
        NAME,
        find=reward_discount_find,
        redeem=reward_discount_redeem,
        offers=reward_discount_offers,
    )
