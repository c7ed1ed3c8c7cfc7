"""Visits through a share link: recorded (not crawlers'), channel known, first touch kept in a
cookie for the shop's window, and the person credited once to the first fan, never to oneself."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from kinfolk.core import clock
from kinfolk.crm.models import Interaction
from kinfolk.referrals.first_touch import cookie_name
from kinfolk.referrals.models import Referral, ReferralCredit, ShareVisit
from kinfolk.referrals.rewards import referral_settings_update
from kinfolk.referrals.services import (
    referral_code_from_request,
    referral_credit,
    share_link_get_or_create,
)
from tests.referrals.conftest import BROWSER

pytestmark = pytest.mark.django_db


def _visit(client, shop, code, *, extra: str = "", **headers):
    url = reverse("storefront:shop", args=[shop.slug]) + f"?via={code}{extra}"
    headers.setdefault("HTTP_USER_AGENT", BROWSER)
    return client.get(url, **headers)


def test_a_visit_through_a_link_is_recorded_kept_in_a_cookie_and_redirected_clean(
    client, shop, link
):
    # Given a fan's share link
    # When a friend opens it with another query parameter and the X button's channel
    response = _visit(client, shop, link.code, extra="&ch=x&page=2")

    # Then the visit is recorded with its channel, and the friend lands on the clean address
    assert response.status_code == 302
    assert response["Location"] == f"/{shop.slug}/?page=2"
    visit = ShareVisit.objects.get()
    assert (visit.link_id, visit.channel, visit.path) == (link.pk, "x", f"/{shop.slug}/")
    assert visit.visitor
    cookie = response.cookies[cookie_name(shop.pk)]
    assert cookie["max-age"] == 30 * 86400 and cookie["httponly"]


@pytest.mark.parametrize(
    ("referer", "channel"),
    [
        ("https://t.co/abc", "x"),
        ("https://l.facebook.com/l.php?u=x", "facebook"),
        ("https://web.whatsapp.com/", "whatsapp"),
        ("https://mail.google.com/mail/u/0/", "email"),
        ("https://blog.example.org/post", "other"),
        ("", "direct"),
    ],
)
def test_the_channel_comes_from_the_referring_site_without_ch(client, shop, link, referer, channel):
    headers = {"HTTP_REFERER": referer} if referer else {}
    _visit(client, shop, link.code, **headers)
    assert ShareVisit.objects.get().channel == channel


def test_an_unknown_ch_falls_back_to_the_referer(client, shop, link):
    _visit(client, shop, link.code, extra="&ch=myspace", HTTP_REFERER="https://t.me/x")
    assert ShareVisit.objects.get().channel == "telegram"


@pytest.mark.parametrize(
    "agent",
    [
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Twitterbot/1.0",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "WhatsApp/2.23.20.0 A",
        "TelegramBot (like TwitterBot)",
        "facebookexternalhit/1.1;kakaotalk-scrap/1.0;",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "",
    ],
)
def test_link_previews_and_robots_are_not_visits(client, shop, link, agent):
    response = _visit(client, shop, link.code, HTTP_USER_AGENT=agent)
    assert response.status_code == 302
    assert not ShareVisit.objects.exists()
    assert cookie_name(shop.pk) not in response.cookies


def test_unknown_codes_and_another_shops_codes_are_ignored(client, shop, make_shop, make_fan, link):
    other = make_shop("elsewhere")
    others_link = share_link_get_or_create(shop=other, customer=make_fan(other))
    for code in ("nosuchcode", "<script>", others_link.code):
        response = _visit(client, shop, code)
        assert response.status_code == 302 and response["Location"] == f"/{shop.slug}/"
    assert not ShareVisit.objects.exists()


def test_a_page_without_via_costs_no_query(shop, django_assert_num_queries):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from kinfolk.referrals.middleware import ShareVisitMiddleware

    middleware = ShareVisitMiddleware(lambda request: HttpResponse("ok"))
    with django_assert_num_queries(0):
        assert middleware(RequestFactory().get(f"/{shop.slug}/?page=2")).status_code == 200


def test_first_touch_wins_over_a_second_link(client, shop, link, make_fan):
    # Given a friend who arrived through the sharer's link
    second = share_link_get_or_create(shop=shop, customer=make_fan(shop))
    _visit(client, shop, link.code)

    # When they later follow another fan's link
    response = _visit(client, shop, second.code)

    # Then the visit counts for the second link, but the cookie still names the first
    assert cookie_name(shop.pk) not in response.cookies
    assert ShareVisit.objects.filter(link=second).count() == 1
    request = _request_with(client, shop)
    assert referral_code_from_request(request, shop=shop) == link.code


def _request_with(client, shop):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.COOKIES.update({k: v.value for k, v in client.cookies.items()})
    return request


def test_the_cookie_counts_inside_the_window_and_not_after(client, shop, link):
    # Given a shop whose window is 7 days and a visit through a link now
    referral_settings_update(shop=shop, window_days=7)
    start = clock.now()
    response = _visit(client, shop, link.code)
    assert response.cookies[cookie_name(shop.pk)]["max-age"] == 7 * 86400
    request = _request_with(client, shop)

    # Then six days later it still counts, eight days later (a browser keeping it) it does not
    with clock.frozen(start + dt.timedelta(days=6, hours=23)):
        assert referral_code_from_request(request, shop=shop) == link.code
    with clock.frozen(start + dt.timedelta(days=8)):
        assert referral_code_from_request(request, shop=shop) == ""


def test_a_tampered_cookie_counts_as_none(client, shop, link):
    _visit(client, shop, link.code)
    request = _request_with(client, shop)
    name = cookie_name(shop.pk)
    request.COOKIES[name] = request.COOKIES[name][:-2] + "xx"
    assert referral_code_from_request(request, shop=shop) == ""


def test_an_expired_cookie_is_replaced_by_the_next_link(client, shop, link, make_fan):
    second = share_link_get_or_create(shop=shop, customer=make_fan(shop))
    start = clock.now()
    with clock.frozen(start):
        _visit(client, shop, link.code)
    with clock.frozen(start + dt.timedelta(days=31)):
        response = _visit(client, shop, second.code)
        assert cookie_name(shop.pk) in response.cookies
        assert referral_code_from_request(_request_with(client, shop), shop=shop) == second.code


def test_self_referral_gives_nothing(shop, sharer, link, make_fan):
    # The same record, the same account, the same address in another record's spelling
    assert (
        referral_credit(
            shop=shop, customer=sharer, kind="download", subject_id=1, referral_code=link.code
        )
        is None
    )
    assert not Referral.objects.exists() and not ReferralCredit.objects.exists()


def test_a_person_referred_by_two_fans_credits_only_the_first(shop, link, make_fan):
    # Given a friend attributed to the first fan
    friend = make_fan(shop)
    second = share_link_get_or_create(shop=shop, customer=make_fan(shop))
    referral_credit(
        shop=shop, customer=friend, kind="signup", subject_id="a", referral_code=link.code
    )

    # When the friend's next action carries the second fan's code
    referral_credit(
        shop=shop, customer=friend, kind="download", subject_id=7, referral_code=second.code
    )

    # Then both credits go to the first fan; the second gets nothing
    referral = Referral.objects.get()
    assert referral.referrer_id == link.customer_id
    assert set(referral.credits.values_list("kind", flat=True)) == {"signup", "download"}


def test_credits_are_idempotent_and_land_on_the_referrers_timeline(shop, sharer, link, make_fan):
    friend = make_fan(shop, name="Friend Lee")
    for _ in range(3):
        referral_credit(
            shop=shop, customer=friend, kind="download", subject_id=42, referral_code=link.code
        )
    assert ReferralCredit.objects.count() == 1
    event = Interaction.objects.get(kind=Interaction.Kind.REFERRAL)
    assert event.customer_id == sharer.pk
    assert event.data["event"] == "download" and event.data["referred_id"] == friend.pk


def test_nobody_is_credited_for_a_customer_nobody_brought(shop, make_fan):
    assert referral_credit(shop=shop, customer=make_fan(shop), kind="order", subject_id="1") is None
    assert not ReferralCredit.objects.exists()


def test_a_customer_the_shop_knew_before_the_visit_is_nobodys_referral(shop, link, make_fan):
    # Given a long-time buyer, known to the shop for a year
    start = clock.now()
    with clock.frozen(start - dt.timedelta(days=365)):
        regular = make_fan(shop, "regular@example.com")

    # When they follow a friend's link today and buy (the cookie's first visit is today)
    with clock.frozen(start):
        credit = referral_credit(
            shop=shop,
            customer=regular,
            kind="order",
            subject_id="A1",
            referral_code=link.code,
            first_visit_at=start,
        )

    # Then the friend is credited nothing and nobody is their referrer
    assert credit is None
    assert not Referral.objects.exists() and not ReferralCredit.objects.exists()


def test_a_customer_new_since_the_visit_is_referred_within_a_little_slack(shop, link, make_fan):
    # Given a first visit through the link, and a customer created a few seconds "before" it
    # by another process's clock
    start = clock.now()
    with clock.frozen(start - dt.timedelta(seconds=3)):
        friend = make_fan(shop, "friend@example.com")

    # When they do something that counts
    with clock.frozen(start + dt.timedelta(minutes=2)):
        credit = referral_credit(
            shop=shop,
            customer=friend,
            kind="signup",
            subject_id="a",
            referral_code=link.code,
            first_visit_at=start,
        )

    # Then the fan who shared the link is credited
    assert credit is not None and credit.referral.referrer_id == link.customer_id


def test_without_the_visits_time_a_customer_older_than_the_link_is_nobodys(shop, sharer, make_fan):
    # Given a customer known before the fan made their link, and a credit that carries only
    # the code (the e-mail gate keeps no visit time)
    start = clock.now()
    with clock.frozen(start - dt.timedelta(days=2)):
        regular = make_fan(shop, "regular@example.com")
    with clock.frozen(start):
        link = share_link_get_or_create(shop=shop, customer=sharer)
        credit = referral_credit(
            shop=shop, customer=regular, kind="download", subject_id=1, referral_code=link.code
        )

    # Then nobody is credited
    assert credit is None and not Referral.objects.exists()
