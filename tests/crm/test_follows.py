"""Following a shop: one click for a fan with an account, a way to log in for a visitor, the
shop's list of followers and its CSV, and the follows in a person's data requests."""

from __future__ import annotations

import csv
import io

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from kinfolk.core.errors import InvalidInput
from kinfolk.crm import personal_data
from kinfolk.crm.models import Customer, Follow, Interaction
from kinfolk.crm.services import customer_get_or_create
from kinfolk.crm.services.follows import follow_start, follow_stop
from kinfolk.shops.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def fan(make_user):
    return make_user("mina@example.com", name="Mina Kim")


@pytest.fixture
def owner(shop):
    return Membership.objects.get(shop=shop).user


def kinds(shop) -> list[str]:
    return list(
        Interaction.objects.filter(shop=shop)
        .order_by("occurred_at", "id")
        .values_list("kind", flat=True)
    )


def test_following_twice_is_one_follow_and_unfollowing_leaves_a_trace(shop, fan):
    """Given a fan, when they follow twice and then stop,
    then one Follow existed, linked to their account's customer, and the timeline holds one
    FOLLOW and one UNFOLLOW; stopping again changes nothing."""
    first = follow_start(shop=shop, account=fan, source="shop")
    again = follow_start(shop=shop, account=fan, source="release:3")

    assert first.pk == again.pk and Follow.objects.count() == 1
    assert first.customer.account_id == fan.pk and first.source == "shop"
    assert kinds(shop) == [Interaction.Kind.FOLLOW]

    assert follow_stop(shop=shop, account=fan) is True
    assert follow_stop(shop=shop, account=fan) is False
    assert not Follow.objects.exists()
    assert kinds(shop) == [Interaction.Kind.FOLLOW, Interaction.Kind.UNFOLLOW]


def test_an_unconfirmed_account_cannot_follow(shop, make_user):
    """Given an account whose address is unconfirmed, when it follows, then it is refused and
    no customer is made for that address."""
    stranger = make_user("someone-else@example.com", email_confirmed_at=None)
    with pytest.raises(InvalidInput):
        follow_start(shop=shop, account=stranger)
    assert not Customer.objects.filter(shop=shop).exists()


def test_a_visitor_is_sent_to_log_in_and_back(client, shop):
    """Given a visitor, when they press follow (plain form or htmx), then they are sent to log
    in with the way back to the page, and nobody follows."""
    url = reverse("storefront:follow", args=[shop.slug])
    plain = client.post(url, {"next": "/moonlit/p/vinyl/"})
    assert plain.status_code == 303
    assert plain["Location"] == reverse("accounts:login") + "?next=%2Fmoonlit%2Fp%2Fvinyl%2F"
    htmx = client.post(url, {"next": "/moonlit/"}, headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"].startswith(reverse("accounts:login"))
    assert not Follow.objects.exists()


def test_the_button_follows_and_unfollows(client, shop, fan):
    """Given a logged-in fan,
    when they press follow without JavaScript, then they follow and go back to the page;
    an outside ``next`` goes to the shop's page instead;
    with htmx the button comes back as "Following ✓ · Unfollow", then as "+ Follow"."""
    client.force_login(fan)
    url = reverse("storefront:follow", args=[shop.slug])

    plain = client.post(url, {"next": "/moonlit/gallery/", "action": "follow"})
    assert (plain.status_code, plain["Location"]) == (303, "/moonlit/gallery/")
    assert Follow.objects.filter(customer__account=fan).exists()
    outside = client.post(url, {"next": "https://evil.example/", "action": "follow"})
    assert outside["Location"] == reverse("storefront:shop", args=[shop.slug])

    stop = client.post(url, {"action": "unfollow"}, headers={"HX-Request": "true"})
    assert "+ Follow" in stop.content.decode() and not Follow.objects.exists()
    start = client.post(url, {"action": "follow"}, headers={"HX-Request": "true"})
    html = start.content.decode()
    assert "Following ✓" in html and "Unfollow" in html


def test_the_follow_button_tag(rf: RequestFactory, shop, fan):
    """Given a shop page, when ``{% follow_button shop %}`` renders, then a visitor gets a
    log-in link back to the page and a follower gets "Following ✓"."""
    from django.contrib.auth.models import AnonymousUser

    template = Template("{% load follows %}{% follow_button shop %}")
    request = rf.get("/moonlit/p/vinyl/")
    request.user = AnonymousUser()
    html = template.render(Context({"request": request, "shop": shop}))
    assert "next=%2Fmoonlit%2Fp%2Fvinyl%2F" in html and "<form" not in html

    follow_start(shop=shop, account=fan)
    request.user = fan
    html = template.render(Context({"request": request, "shop": shop}))
    assert "Following ✓" in html


def test_the_followers_page_lists_newest_first(
    client, shop, owner, make_user, make_shop, django_assert_max_num_queries
):
    """Given twelve followers of the shop and one of another shop, when staff open the list,
    then it shows the shop's followers newest first, the count, and no other shop's, in a
    bounded number of queries."""
    fans = [make_user(f"f{n}@example.com", name=f"Fan {n:02d}") for n in range(12)]
    for account in fans:
        follow_start(shop=shop, account=account)
    other_shop = make_shop("elsewhere")
    follow_start(shop=other_shop, account=make_user("outsider@example.com"))
    client.force_login(owner)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("dashboard:followers", kwargs={"shop": shop.slug}))

    html = response.content.decode()
    assert response.status_code == 200
    assert "12 fans follow" in html and "outsider@example.com" not in html
    assert html.index("Fan 11") < html.index("Fan 00")


def test_the_followers_csv_is_safe_for_spreadsheets(client, shop, owner, make_user):
    """Given a follower whose name is a spreadsheet formula, when staff download the CSV,
    then the cell starts with an apostrophe and every follower is there."""
    follow_start(shop=shop, account=make_user("x@example.com", name='=HYPERLINK("http://x")'))
    follow_start(shop=shop, account=make_user("y@example.com", name="김민지"))
    client.force_login(owner)

    response = client.get(reverse("dashboard:followers_csv", kwargs={"shop": shop.slug}))

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3
    names = {row[0] for row in rows[1:]}
    assert names == {'\'=HYPERLINK("http://x")', "김민지"}


def test_another_shops_staff_cannot_see_the_followers(client, shop, fan, make_user, make_shop):
    """Given staff of another shop, when they open this shop's followers, then 404."""
    follow_start(shop=shop, account=fan)
    stranger = make_user("owner@elsewhere.example")
    make_shop("elsewhere", owner=stranger)
    client.force_login(stranger)
    for name in ("dashboard:followers", "dashboard:followers_csv"):
        assert client.get(reverse(name, kwargs={"shop": shop.slug})).status_code == 404


def test_follows_in_personal_data_requests(shop, fan):
    """Given a fan following the shop under two records,
    then the export lists the follow, a merge keeps one follow with the earlier date, and an
    erasure deletes it."""
    handlers = {h.name: h for h in personal_data.handlers()}
    first = follow_start(shop=shop, account=fan)
    twin = customer_get_or_create(shop=shop, email="mina.twin@example.com")
    later = Follow.objects.create(
        shop=shop, customer=twin, followed_at=first.followed_at.replace(year=2099)
    )

    assert handlers["follows"].export(shop, first.customer)[0]["followed_at"]
    assert handlers["follows"].merge(shop, twin, first.customer) == 1
    kept = Follow.objects.get()
    assert kept.customer_id == first.customer_id and kept.followed_at == first.followed_at
    assert not Follow.objects.filter(pk=later.pk).exists()

    assert handlers["follows"].erase(shop, first.customer) == 1
    assert not Follow.objects.exists()
    assert handlers["consent_requests"].export(shop, first.customer) == []
