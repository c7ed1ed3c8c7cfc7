"""The pages of share links and rewards: the share panel and social tags on shop and product
pages, the fan's progress page, the dashboard's rewards pages, checkout's discount field."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kinfolk.referrals.models import RewardRule
from kinfolk.referrals.rewards import reward_grant
from kinfolk.referrals.services import referral_credit, share_link_get_or_create
from kinfolk.referrals.web import remember_customer

pytestmark = pytest.mark.django_db


def test_a_visitor_sees_plain_share_buttons_and_social_tags(client, shop, product):
    html = client.get(reverse("storefront:shop", args=[shop.slug])).content.decode()
    assert '<meta property="og:title" content="moonlit' in html.lower() or "og:title" in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert "https://twitter.com/intent/tweet?" in html and "ch%3Dx" in html
    assert "?via=" not in html and '<script src="http' not in html


def test_a_logged_in_fan_gets_their_personal_link(client, shop, product, sharer):
    client.force_login(sharer.account)
    html = client.get(
        reverse("storefront:product", args=[shop.slug, product.slug])
    ).content.decode()
    link = share_link_get_or_create(shop=shop, customer=sharer)
    assert f"/{shop.slug}/p/{product.slug}/?via={link.code}" in html
    assert reverse("storefront:sharing") in html


def test_a_visitor_remembered_by_the_gate_gets_their_link_past_the_page_cache(
    client, shop, product, make_fan, rf
):
    fan = make_fan(shop)
    session = client.session
    request = rf.get("/")
    request.session = session
    remember_customer(request, fan)
    session.save()
    client.cookies["sessionid"] = session.session_key
    html = client.get(
        reverse("storefront:product", args=[shop.slug, product.slug])
    ).content.decode()
    assert f"?via={share_link_get_or_create(shop=shop, customer=fan).code}" in html


def test_the_fans_progress_page(
    client, shop, sharer, link, bonus_rule, make_fan, make_shop, django_assert_max_num_queries
):
    # Given a fan with one friend who downloaded, a reward in progress and a discount granted
    referral_credit(
        shop=shop, customer=make_fan(shop), kind="download", subject_id=1, referral_code=link.code
    )
    discount = RewardRule.objects.create(
        shop=shop,
        name="Big thanks",
        event="signup",
        threshold=1,
        reward="discount",
        discount_percent=10,
        created_at=link.created_at,
    )
    grant = reward_grant(shop=shop, rule=discount, customer=sharer)
    other = make_shop()
    make_fan(other, "sharer@example.com")  # unlinked record: not theirs to see
    client.force_login(sharer.account)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("storefront:sharing"))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"?via={link.code}" in html
    assert "1 of 3 friends downloaded" in html
    assert grant.code in html and "not used yet" in html


def test_the_progress_page_needs_a_login(client):
    response = client.get(reverse("storefront:sharing"))
    assert response.status_code == 302


def test_the_dashboard_lists_creates_edits_and_turns_off_rewards(
    client, shop, release, make_fan, django_assert_max_num_queries
):
    owner = shop.memberships.first().user
    client.force_login(owner)
    url = reverse("dashboard:rewards", args=[shop.slug])
    response = client.post(
        reverse("dashboard:reward_new", args=[shop.slug]),
        {
            "name": "Bonus track",
            "event": "download",
            "threshold": "3",
            "reward": "bonus_release",
            "release": str(release.pk),
        },
    )
    assert response.status_code == 302
    rule = RewardRule.objects.get()
    for n in range(5):
        reward_grant(
            shop=shop,
            rule=RewardRule.objects.create(
                shop=shop,
                name=f"R{n}",
                event="order",
                threshold=1,
                reward="discount",
                discount_percent=5,
                created_at=rule.created_at,
            ),
            customer=make_fan(shop),
        )
    with django_assert_max_num_queries(12):
        html = client.get(url).content.decode()
    assert "Bonus track" in html and "3 friends download" in html
    edit = reverse("dashboard:reward_edit", args=[shop.slug, rule.pk])
    bad = client.post(
        edit,
        {
            "name": "Bonus track",
            "event": "download",
            "threshold": "3",
            "reward": "discount",
            "discount_percent": "0",
            "active": "on",
        },
    )
    assert bad.status_code == 400 and "Bonus track" in bad.content.decode()
    client.post(reverse("dashboard:reward_active", args=[shop.slug, rule.pk]), {"active": "0"})
    rule.refresh_from_db()
    assert not rule.active
    client.post(reverse("dashboard:reward_window", args=[shop.slug]), {"window_days": "14"})
    assert shop.referral_settings.window_days == 14


def test_another_shops_rule_is_not_found(client, shop, make_shop, bonus_rule):
    other = make_shop()
    client.force_login(other.memberships.first().user)
    response = client.get(reverse("dashboard:reward_edit", args=[other.slug, bonus_rule.pk]))
    assert response.status_code == 404


def test_checkout_offers_the_fans_code_and_shows_the_discount(
    client, shop, product, sharer, discount_rule
):
    grant = reward_grant(shop=shop, rule=discount_rule, customer=sharer)
    client.force_login(sharer.account)
    client.post(
        reverse("storefront:cart-add", args=[shop.slug]),
        {"product": product.slug, "variant": product.variants.get().pk, "quantity": "1"},
    )
    page = client.get(reverse("storefront:checkout", args=[shop.slug])).content.decode()
    assert f'name="use_discount" value="{grant.code}"' in page
    applied = client.post(
        reverse("storefront:checkout", args=[shop.slug]),
        {"email": "sharer@example.com", "use_discount": grant.code, "idempotency_key": "a" * 32},
    )
    html = applied.content.decode()
    assert applied.status_code == 200
    assert "−₩3,500" in html or "3,500" in html
