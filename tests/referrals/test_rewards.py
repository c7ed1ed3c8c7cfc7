"""Rewards: earned by distinct friends, given exactly once (also when friends arrive at the same
moment in several processes), delivered as a library grant or a single-use code, e-mailed."""

from __future__ import annotations

import multiprocessing
import queue

import pytest
from django.db import connection

from kinfolk.crm.models import Interaction
from kinfolk.referrals.models import RewardGrant
from kinfolk.referrals.rewards import reward_rule_create
from kinfolk.referrals.services import referral_credit
from kinfolk.releases.models import Grant
from tests.referrals.race_credits import credit_friends


def _download(shop, friend, code, subject=1):
    return referral_credit(
        shop=shop, customer=friend, kind="download", subject_id=subject, referral_code=code
    )


@pytest.mark.django_db(transaction=True)
def test_three_different_friends_earn_the_bonus_release_once(
    shop, sharer, link, bonus_rule, make_fan, smtp_server, run_tasks
):
    # Given "3 friends download → a bonus release", and a friend downloading two things
    first = make_fan(shop)
    _download(shop, first, link.code, subject=1)
    _download(shop, first, link.code, subject=2)
    _download(shop, make_fan(shop), link.code)
    assert not RewardGrant.objects.exists()  # two people, not three

    # When a third friend downloads, and then a fourth
    _download(shop, make_fan(shop), link.code)
    _download(shop, make_fan(shop), link.code)

    # Then the fan has the reward once, the release in their library, and one e-mail
    grant = RewardGrant.objects.get()
    assert (grant.rule_id, grant.customer_id, grant.code) == (bonus_rule.pk, sharer.pk, "")
    library = Grant.objects.get(customer=sharer)
    assert (library.source, library.release_id, grant.release_grant_id) == (
        "reward",
        bonus_rule.release_id,
        library.pk,
    )
    run_tasks()
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "sharer@example.com"
    assert "Night Drive (single)" in smtp_server.bodies(message)


@pytest.mark.django_db(transaction=True)
def test_a_discount_reward_gives_a_code_emailed_in_the_fans_language(
    shop, sharer, link, make_fan, smtp_server, run_tasks
):
    sharer.account.preferred_language = "ko"
    sharer.account.save()
    reward_rule_create(
        shop=shop,
        name="Thanks",
        event="signup",
        threshold=1,
        reward="discount",
        discount_percent=15,
    )
    referral_credit(
        shop=shop, customer=make_fan(shop), kind="signup", subject_id="x", referral_code=link.code
    )
    grant = RewardGrant.objects.get()
    assert len(grant.code) == 10 and grant.code.isalnum()
    run_tasks()
    body = smtp_server.bodies(smtp_server.messages[0])
    assert grant.code in body
    assert "할인" in body or "%" in body
    assert Interaction.objects.filter(customer=sharer, kind="referral").count() == 1


@pytest.mark.django_db
def test_an_inactive_rule_gives_nothing(shop, link, bonus_rule, make_fan):
    bonus_rule.active = False
    bonus_rule.save()
    for _ in range(3):
        _download(shop, make_fan(shop), link.code)
    assert not RewardGrant.objects.exists()


PROCESSES = 6
FRIENDS_PER_PROCESS = 5


@pytest.mark.django_db(transaction=True)
def test_friends_crediting_at_once_in_several_processes_give_one_reward(
    shop, link, bonus_rule, make_product
):
    # Given a fan whose bonus needs 3 friends, and 30 friends in 6 processes with a discount too
    discount = reward_rule_create(
        shop=shop,
        name="5 friends",
        event="download",
        threshold=5,
        reward="discount",
        discount_percent=20,
    )
    emails = [
        [f"friend-{p}-{n}@example.com" for n in range(FRIENDS_PER_PROCESS)]
        for p in range(PROCESSES)
    ]

    # When they all download through the link at the same moment
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    database_name = connection.settings_dict["NAME"]
    processes = [
        context.Process(
            target=credit_friends,
            args=(database_name, shop.pk, link.code, batch, barrier, results),
        )
        for batch in emails
    ]
    for process in processes:
        process.start()
    outcomes: list[str] = []
    try:
        for _ in processes:
            _pid, theirs = results.get(timeout=600)
            outcomes.extend(theirs)
    except queue.Empty:
        pytest.fail("a crediting process did not report within 600 s")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()

    # Then every friend is credited, and each reward was given exactly once
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("credited") == PROCESSES * FRIENDS_PER_PROCESS
    assert RewardGrant.objects.filter(rule=bonus_rule).count() == 1
    assert RewardGrant.objects.filter(rule=discount).count() == 1
    assert Grant.objects.filter(source="reward", customer=link.customer).count() == 1
    assert RewardGrant.objects.filter(rule=discount).exclude(code="").count() == 1
