"""One customer's page: profile, stage and why, value, timeline with orders and notes, and the
forms that add and remove notes, tags and dates, with bad input shown, never a 500."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from tests.crm.test_segment_filters import make_fan
from tests.dashboard.factories import new_shop, new_user

from kinfolk.core.money import format_money
from kinfolk.crm.models import Customer, CustomerDate, CustomerScore, Interaction, Tag
from kinfolk.crm.services import (
    customer_get_or_create,
    interaction_record,
    rfm_recompute,
    stages_recompute,
)
from kinfolk.crm.services.profiles import customer_date_add, customer_tag_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer(world_a):
    """Shop A's fan whose order was paid, with the stages brought up to date."""
    stages_recompute(shop=world_a.shop)
    return Customer.objects.get(pk=world_a.orders["paid"].customer_id)


def url(world, name: str, customer) -> str:
    return reverse(
        f"dashboard:{name}", kwargs={"shop": world.shop.slug, "customer_id": customer.pk}
    )


def test_the_page_shows_the_stage_and_why_the_value_and_the_timeline(
    staff_client, world_a, buyer, django_assert_max_num_queries
):
    """Given a fan with one paid order, scored, then the page names the stage and the rule that
    put them there in words, the order on the timeline with a link and its total, the RFM scores,
    and says that no value is predicted yet."""
    rfm_recompute(shop=world_a.shop)
    with django_assert_max_num_queries(13):
        response = staff_client.get(url(world_a, "customer", buyer))
    assert response.status_code == 200
    page = response.content.decode()
    order = world_a.orders["paid"]
    assert "Identification" in page
    assert "Bought: 1 paid order in the last 365 days." in page
    assert f'href="/dashboard/{world_a.shop.slug}/orders/{order.number}/"' in page
    assert format_money(order.total, "USD") in page  # the order's total on the timeline
    assert "2 × garage-drones shirt" in page  # its items
    assert "Order paid" in page and "Order placed" in page
    assert "Not predicted yet" in page
    assert "No (guest or imported)" in page
    assert 'id="customer-share"' in page or "customer_share" not in page


def test_the_predicted_value_is_shown_and_a_fallback_is_flagged(staff_client, world_a, buyer):
    rfm_recompute(shop=world_a.shop)
    CustomerScore.objects.filter(customer=buyer).update(
        p_alive=0.9,
        purchases_90d=0.4,
        purchases_365d=1.6,
        expected_spend=4200,
        clv=12345,
        value_method="pooled",
    )
    page = staff_client.get(url(world_a, "customer", buyer)).content.decode()
    assert "$123.45" in page and "90 %" in page and "1.6" in page
    assert "Estimate" in page and "Shop-wide averages" in page


def test_a_note_added_appears_on_the_timeline_with_its_author(staff_client, world_a, buyer):
    response = staff_client.post(
        url(world_a, "customer_note_add", buyer), {"text": "Asked about a <b>repress</b>."}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#timeline")
    page = staff_client.get(response["Location"]).content.decode()
    assert "Asked about a &lt;b&gt;repress&lt;/b&gt;." in page
    assert world_a.owner.email in page
    note = Interaction.objects.get(customer=buyer, kind="note")
    assert (note.source, note.data["by"]) == ("dashboard", world_a.owner.email)


def test_an_empty_note_is_refused_next_to_the_field(staff_client, world_a, buyer):
    response = staff_client.post(url(world_a, "customer_note_add", buyer), {"text": "  "})
    assert response.status_code == 400
    assert "Write a note first." in response.content.decode()
    assert not Interaction.objects.filter(kind="note").exists()


def test_tags_are_added_and_removed(staff_client, world_a, buyer):
    response = staff_client.post(url(world_a, "customer_tag_add", buyer), {"name": "Wholesale"})
    assert response.status_code == 302
    tag = Tag.objects.get(shop=world_a.shop)
    assert list(buyer.tags.all()) == [tag]
    page = staff_client.get(url(world_a, "customer", buyer)).content.decode()
    assert "Remove tag Wholesale" in page
    response = staff_client.post(url(world_a, "customer_tag_remove", buyer), {"tag_id": tag.pk})
    assert response.status_code == 302
    assert not buyer.tags.exists()


def test_a_200_character_tag_is_refused_and_kept_in_the_field(staff_client, world_a, buyer):
    name = "t" * 200
    response = staff_client.post(url(world_a, "customer_tag_add", buyer), {"name": name})
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 50 characters" in page
    assert f'value="{name}"' in page
    assert not Tag.objects.exists()


def test_removing_another_shops_tag_is_refused_with_a_message(
    staff_client, world_a, world_b, buyer
):
    theirs = customer_tag_add(shop=world_b.shop, customer=world_b.customers[0], name="VIP")
    response = staff_client.post(url(world_a, "customer_tag_remove", buyer), {"tag_id": theirs.pk})
    assert response.status_code == 404
    assert "No such tag." in response.content.decode()
    assert world_b.customers[0].tags.get() == theirs
    response = staff_client.post(url(world_a, "customer_tag_remove", buyer), {"tag_id": "x"})
    assert response.status_code == 400


def test_dates_are_added_and_removed(staff_client, world_a, buyer):
    response = staff_client.post(
        url(world_a, "customer_date_add", buyer),
        {"kind": "birthday", "label": "", "month": "2", "day": "29", "year": ""},
    )
    assert response.status_code == 302
    date = CustomerDate.objects.get(customer=buyer)
    assert (date.month, date.day, date.year) == (2, 29, None)
    assert "02-29" in staff_client.get(url(world_a, "customer", buyer)).content.decode()
    response = staff_client.post(url(world_a, "customer_date_delete", buyer), {"date_id": date.pk})
    assert response.status_code == 302
    assert not CustomerDate.objects.exists()


def test_april_31_is_refused_next_to_the_day_and_keeps_what_was_typed(staff_client, world_a, buyer):
    response = staff_client.post(
        url(world_a, "customer_date_add", buyer),
        {"kind": "anniversary", "label": "Wedding", "month": "4", "day": "31", "year": "2010"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This month has 30 days." in page
    assert 'value="Wedding"' in page and 'value="2010"' in page
    assert not CustomerDate.objects.exists()


def test_removing_another_customers_date_is_refused(staff_client, world_a, buyer):
    other = world_a.customers[0] if world_a.customers[0] != buyer else world_a.customers[1]
    theirs = customer_date_add(shop=world_a.shop, customer=other, kind="birthday", month=1, day=2)
    response = staff_client.post(
        url(world_a, "customer_date_delete", buyer), {"date_id": theirs.pk}
    )
    assert response.status_code == 404
    assert "No such date." in response.content.decode()
    assert CustomerDate.objects.filter(pk=theirs.pk).exists()


def test_the_timeline_pages_newest_first_in_the_shops_time_zone(client, db):
    """Given 60 notes at known times in a Seoul shop, the page shows the newest 50 in Seoul
    time, and "older" shows the remaining 10."""
    import datetime as dt

    from kinfolk.core import clock

    owner = new_user()
    shop = new_shop(slug="seoul-band", owner=owner, time_zone="Asia/Seoul")
    fan = customer_get_or_create(shop=shop, email="fan@example.com")
    start = dt.datetime(2026, 1, 1, 15, 30, tzinfo=dt.UTC)  # 00:30 on Jan 2 in Seoul
    for n in range(60):
        with clock.frozen(start + dt.timedelta(hours=n)):
            interaction_record(
                shop=shop,
                customer=fan,
                kind="note",
                source="dashboard",
                data={"text": f"note number {n:02d}", "by": "x@example.com"},
            )
    client.force_login(owner)
    page_url = reverse("dashboard:customer", kwargs={"shop": shop.slug, "customer_id": fan.pk})
    first = client.get(page_url).content.decode()
    numbers = [int(n) for n in re.findall(r"note number (\d\d)", first)]
    assert numbers == list(range(59, 9, -1))
    assert 'datetime="2026-01-02T00:30:00+09:00"' not in first  # the oldest is on page 2
    older = re.search(r'href="(\?older=[^"#]+)#timeline" rel="next"', first).group(1)
    second = client.get(page_url + older).content.decode()
    assert [int(n) for n in re.findall(r"note number (\d\d)", second)] == list(range(9, -1, -1))
    assert 'datetime="2026-01-02T00:30:00+09:00"' in second


def test_an_erased_customer_is_shown_as_such(staff_client, world_a):
    from kinfolk.core import clock

    fan = make_fan(world_a.shop, "gone@example.com")
    Customer.objects.filter(pk=fan.pk).update(erased_at=clock.now(), email="", name="")
    response = staff_client.get(url(world_a, "customer", fan))
    assert response.status_code == 200
    assert "Erased customer" in response.content.decode()


def test_the_customer_pages_open_in_korean(staff_client, world_a, buyer):
    """Given a reader whose browser asks for Korean, every customer page opens."""
    customer_tag_add(shop=world_a.shop, customer=buyer, name="VIP")
    customer_date_add(shop=world_a.shop, customer=buyer, kind="birthday", month=2, day=29)
    shop = world_a.shop.slug
    for page in (
        reverse("dashboard:customers", kwargs={"shop": shop}),
        reverse("dashboard:customers", kwargs={"shop": shop}) + "?f=1&clv_min=x&stage=community",
        reverse("dashboard:customers_export", kwargs={"shop": shop}),
        url(world_a, "customer", buyer),
        reverse("dashboard:segments", kwargs={"shop": shop}),
        reverse("dashboard:segment", kwargs={"shop": shop, "segment_id": world_a.segment.pk}),
        reverse("dashboard:segment_new", kwargs={"shop": shop}),
    ):
        response = staff_client.get(page, HTTP_ACCEPT_LANGUAGE="ko")
        assert response.status_code == 200, page
        assert response.get("Content-Language") == "ko", page


@pytest.mark.parametrize(
    "older",
    ["nonsense", "MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "fA"],
)
def test_a_hostile_timeline_cursor_shows_the_newest_page(staff_client, world_a, buyer, older):
    response = staff_client.get(url(world_a, "customer", buyer), {"older": older})
    assert response.status_code == 200
    assert "Order paid" in response.content.decode()
