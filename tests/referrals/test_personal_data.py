"""A person's referral data: exported, erased (anonymous counts kept), merged (one link a shop)."""

from __future__ import annotations

import json

import pytest

from kinfolk.referrals.models import Referral, RewardGrant, ShareLink, ShareVisit
from kinfolk.referrals.personal_data import (
    referrals_data_erase,
    referrals_data_export,
    referrals_merge,
)
from kinfolk.referrals.rewards import reward_grant
from kinfolk.referrals.services import referral_credit, share_link_get_or_create, share_visit_record

pytestmark = pytest.mark.django_db


def test_export_erase_and_merge(shop, sharer, link, discount_rule, make_fan):
    # Given a fan whose link brought a visit and a friend, with an unused reward code
    share_visit_record(shop=shop, link=link, channel="x", path="/", visitor="abc")
    friend = make_fan(shop)
    referral_credit(
        shop=shop, customer=friend, kind="signup", subject_id=1, referral_code=link.code
    )
    grant = reward_grant(shop=shop, rule=discount_rule, customer=sharer)

    # Export: their link, figures and reward, as JSON
    data = referrals_data_export(shop, sharer)
    json.dumps(data)
    assert data["share_link"] == link.code and data["visits_through_link"] == 1
    assert data["rewards"][0]["code"] == grant.code and len(data["referrals_made"]) == 1

    # Merge: a duplicate record with its own link folds into the fan's, visits and all
    duplicate = make_fan(shop)
    other_link = share_link_get_or_create(shop=shop, customer=duplicate)
    share_visit_record(shop=shop, link=other_link, channel="direct", path="/", visitor="def")
    referrals_merge(shop, duplicate, sharer)
    assert ShareLink.objects.filter(shop=shop, customer=sharer).count() == 1
    assert ShareVisit.objects.filter(link=link).count() == 2

    # Erase: the link gets a fresh code, the unused code is voided, the counts stay
    referrals_data_erase(shop, sharer)
    assert ShareLink.objects.get(pk=link.pk).code != link.code
    assert RewardGrant.objects.get(pk=grant.pk).code == ""
    assert Referral.objects.count() == 1 and ShareVisit.objects.count() == 2
