"""Fixtures of the referrals tests: fans of a shop, a free release, share links and rules."""

from __future__ import annotations

import itertools

import pytest

from kinfolk.crm.services import customer_get_or_create
from kinfolk.referrals.rewards import reward_rule_create
from kinfolk.referrals.services import share_link_get_or_create
from kinfolk.releases.models import Release

# A browser's User-Agent: requests without one are taken for robots.
BROWSER = (
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Mobile Safari/537.36"
)
_serial = itertools.count(1)


@pytest.fixture
def make_fan(db, make_user):
    """Return a factory of a shop's customers: ``make_fan(shop, account=True)``."""

    def make(shop, email: str | None = None, *, account: bool = False, name: str = ""):
        email = email or f"fan{next(_serial)}@example.com"
        user = make_user(email, name=name or "Fan") if account else None
        return customer_get_or_create(shop=shop, email=email, name=name, account=user)

    return make


@pytest.fixture
def sharer(shop, make_fan):
    """A fan of the shop with an account, who shares."""
    return make_fan(shop, "sharer@example.com", account=True, name="Sharer Kim")


@pytest.fixture
def link(shop, sharer):
    return share_link_get_or_create(shop=shop, customer=sharer)


@pytest.fixture
def release(shop, make_product):
    product = make_product(shop, name="Night Drive (single)", kind="digital", price=0, stock=None)
    return Release.objects.create(shop=shop, product=product)


@pytest.fixture
def bonus_rule(shop, release):
    return reward_rule_create(
        shop=shop,
        name="Bonus track",
        event="download",
        threshold=3,
        reward="bonus_release",
        release=release,
    )


@pytest.fixture
def discount_rule(shop):
    return reward_rule_create(
        shop=shop,
        name="10% for a friend",
        event="order",
        threshold=1,
        reward="discount",
        discount_percent=10,
    )
