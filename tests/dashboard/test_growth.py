"""The growth page: downloads, top sharers, the referral tree, the viral coefficient, channels
and followers, on a small hand-built data set whose figures are known exactly."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tests.dashboard.factories import new_shop, new_user
from tests.releases.test_setup import wav_bytes

from kinfolk.core import clock
from kinfolk.crm.models import Follow
from kinfolk.crm.services.customers import customer_get_or_create
from kinfolk.referrals.models import Referral, ReferralCredit, ShareLink, ShareVisit
from kinfolk.referrals.stats import viral_coefficient
from kinfolk.releases.models import Download
from kinfolk.releases.services import grant_give
from kinfolk.releases.services.setup import release_create, release_file_add

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def build(slug: str, owner) -> dict:
    """Return a shop where fans f1 and f2 share (f3 has a link nobody opened) and brought r1,
    r2, r3; r1 brought r4. In the last 30 days: 5 unique invitations (a, b, d, c and one visit
    without a visitor), 2 sharing fans, 4 people referred: K = 2.5 × 0.8 = 2.0. Older rows lie
    100 days back."""
    shop = new_shop(slug=slug, owner=owner)
    now = clock.now()
    people = {
        key: customer_get_or_create(shop=shop, email=f"{key}@{slug}.example", name=key.upper())
        for key in ("f1", "f2", "f3", "r1", "r2", "r3", "r4", "old")
    }
    links = {
        key: ShareLink.objects.create(shop=shop, customer=people[key], created_at=now - 200 * DAY)
        for key in ("f1", "f2", "f3", "r1")
    }
    visits = [
        ("f1", "a", "x", 1),
        ("f1", "a", "x", 2),
        ("f1", "b", "x", 3),
        ("f1", "d", "direct", 3),
        ("f2", "c", "whatsapp", 4),
        ("f2", "", "kakaotalk", 5),
        ("f1", "z", "facebook", 100),
    ]
    ShareVisit.objects.bulk_create(
        ShareVisit(
            shop=shop,
            link=links[key],
            visitor=visitor,
            channel=channel,
            path="/",
            visited_at=now - days * DAY,
        )
        for key, visitor, channel, days in visits
    )
    referrals = {}
    for referrer, referred, channel, days in (
        ("f1", "r1", "x", 3),
        ("f1", "r2", "direct", 3),
        ("f2", "r3", "whatsapp", 4),
        ("r1", "r4", "direct", 2),
        ("f1", "old", "facebook", 100),
    ):
        referrals[referred] = Referral.objects.create(
            shop=shop,
            referrer=people[referrer],
            referred=people[referred],
            link=links[referrer],
            channel=channel,
            first_visit_at=now - days * DAY,
            created_at=now - days * DAY,
        )
    ReferralCredit.objects.create(
        shop=shop, referral=referrals["r1"], kind="download", subject_id="1", occurred_at=now
    )
    release = release_create(shop=shop, name="Night Drive", status="active")
    ep = release_create(shop=shop, name="Paper Moons", pricing="pwyw", price=0)
    song = release_file_add(
        shop=shop, release=release, upload=SimpleUploadedFile("a.wav", wav_bytes(0.01))
    )
    grant = grant_give(shop=shop, release=release, customer=people["r1"], source="free")
    ep_grant = grant_give(shop=shop, release=ep, customer=people["r1"], source="free")
    Download.objects.bulk_create(
        Download(
            shop=shop,
            release=rel,
            file=song if rel == release else None,
            grant=g,
            customer=people["r1"],
            downloaded_at=now - days * DAY,
        )
        for rel, g, days in (
            (release, grant, 0),
            (release, grant, 0),
            (release, grant, 5),
            (ep, ep_grant, 5),
            (release, grant, 100),
        )
    )
    for key, days in (("f1", 200), ("f2", 40), ("r1", 3)):
        Follow.objects.create(shop=shop, customer=people[key], followed_at=now - days * DAY)
    return {"shop": shop, "people": people, "release": release, "ep": ep}


@pytest.fixture
def owner():
    return new_user("owner@growth.example")


@pytest.fixture
def worlds(owner):
    other_owner = new_user("owner@other.example")
    return build("growing", owner), build("elsewhere", other_owner)


def test_the_viral_coefficient_of_a_known_data_set(worlds):
    """Given the hand-built shop, K over 30 days is exactly 5/2 × 4/5 = 2.0; over 365 days the
    older visit (a sixth visitor of f1's link) and the older referral count too: 6/2 × 5/6."""
    shop = worlds[0]["shop"]
    now = clock.now()
    month = viral_coefficient(shop=shop, since=now - 30 * DAY, until=now)
    assert (month.visits, month.invitations, month.sharing_fans, month.referred) == (6, 5, 2, 4)
    assert month.invitations_per_fan == 2.5
    assert month.conversion == 0.8
    assert month.k == pytest.approx(2.0)
    year = viral_coefficient(shop=shop, since=now - 365 * DAY, until=now)
    assert (year.invitations, year.sharing_fans, year.referred) == (6, 2, 5)
    assert year.k == pytest.approx(3 * 5 / 6)


def test_no_visits_gives_no_coefficient_rather_than_a_division_by_zero(owner):
    shop = new_shop(slug="quiet", owner=owner)
    now = clock.now()
    figures = viral_coefficient(shop=shop, since=now - 30 * DAY, until=now)
    assert figures.k is None and figures.conversion is None


def test_the_growth_page_shows_the_figures_of_its_period_only_and_of_its_shop_only(
    client, owner, worlds, django_assert_max_num_queries
):
    mine = worlds[0]
    client.force_login(owner)
    url = reverse("dashboard:growth", kwargs={"shop": mine["shop"].slug})
    with django_assert_max_num_queries(30):
        response = client.get(url, {"days": "30"})
    assert response.status_code == 200
    context = response.context
    assert context["downloads"] == 4
    assert [(row["row"].name, row["row"].count) for row in context["per_release"]] == [
        ("Night Drive", 3),
        ("Paper Moons", 1),
    ]
    sharers = [(fan.name, fan.friends, fan.visits, fan.credits) for fan in context["sharers"]]
    assert sharers == [("F1", 2, 4, 1), ("F2", 1, 2, 0), ("R1", 1, 0, 0)]
    tree = context["tree"]
    assert [(node.name, [child.name for child in node.children]) for node in tree] == [
        ("F1", ["R1", "R2"]),
        ("F2", ["R3"]),
    ]
    assert [child.name for child in tree[0].children[0].children] == ["R4"]
    assert tree[0].size == 3
    channels = {row.channel: (row.visits, row.referred) for row in context["channels"]}
    assert channels == {"x": (3, 1), "direct": (1, 2), "whatsapp": (1, 1), "kakaotalk": (1, 0)}
    followers = context["followers"]
    assert (followers.before, followers.now, followers.new) == (2, 3, 1)
    assert context["coefficient"].k == pytest.approx(2.0)
    page = response.content.decode()
    assert "2.00" in page
    assert (
        reverse(
            "dashboard:customer",
            kwargs={"shop": mine["shop"].slug, "customer_id": mine["people"]["f1"].pk},
        )
        in page
    )
    assert "elsewhere" not in page


def test_a_longer_period_counts_the_older_rows(client, owner, worlds):
    client.force_login(owner)
    url = reverse("dashboard:growth", kwargs={"shop": worlds[0]["shop"].slug})
    response = client.get(url, {"days": "365"})
    assert response.context["downloads"] == 5
    assert response.context["coefficient"].referred == 5
    unknown = client.get(url, {"days": "12345"})
    assert unknown.context["days"] == 90


def test_an_empty_shop_has_a_calm_page(client, owner):
    shop = new_shop(slug="brand-new", owner=owner)
    client.force_login(owner)
    response = client.get(reverse("dashboard:growth", kwargs={"shop": shop.slug}))
    assert response.status_code == 200
    assert response.context["chart_data"]["charts"] == {}
