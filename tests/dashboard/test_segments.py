"""Saved segments: saving the list's filters under a name unique in the shop, showing who is
in one now, renaming, replacing its filters and deleting it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from tests.crm.test_segment_filters import make_fan
from tests.dashboard.factories import new_shop, new_user

from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.crm.models import SavedSegment
from kinfolk.crm.segment_filters import SegmentFilter
from kinfolk.crm.services.segments import segment_delete, segment_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return new_user()


@pytest.fixture
def shop(owner):
    shop = new_shop(slug="band", owner=owner)
    make_fan(shop, "close@example.com", stage="relationship", country="KR")
    make_fan(shop, "far@example.com", stage="awareness", country="KR")
    make_fan(shop, "community@example.com", stage="community", country="JP")
    return shop


@pytest.fixture
def staff(client, owner):
    client.force_login(owner)
    return client


def test_saving_creates_renames_and_replaces_filters(shop, owner):
    segment = segment_save(
        shop=shop, name="  Close   fans ", filters=SegmentFilter(stages=("relationship",)), by=owner
    )
    assert (segment.name, segment.filters, segment.created_by) == (
        "Close fans",
        {"stages": ["relationship"]},
        owner,
    )
    segment_save(shop=shop, segment=segment, name="Closest fans")
    segment.refresh_from_db()
    assert (segment.name, segment.filters) == ("Closest fans", {"stages": ["relationship"]})
    segment_save(
        shop=shop, segment=segment, name="Closest fans", filters=SegmentFilter(consent=True)
    )
    segment.refresh_from_db()
    assert segment.filters == {"consent": True}


def test_a_name_in_use_in_any_case_is_a_clear_error_but_another_shop_may_use_it(shop, owner):
    segment_save(shop=shop, name="VIP", filters=SegmentFilter())
    other = segment_save(shop=shop, name="Others", filters=SegmentFilter())
    for attempt in ({"name": "vip"}, {"name": "VIP ", "segment": other}):
        with pytest.raises(InvalidInput) as info:
            segment_save(shop=shop, filters=SegmentFilter(), **attempt)
        assert info.value.field == "name" and "already a segment" in info.value.message
    elsewhere = new_shop(slug="elsewhere", owner=owner)
    assert segment_save(shop=elsewhere, name="VIP").name == "VIP"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_an_empty_or_too_long_name_is_refused(shop, name):
    with pytest.raises(InvalidInput):
        segment_save(shop=shop, name=name, filters=SegmentFilter())
    assert not SavedSegment.objects.exists()


def test_another_shops_segment_cannot_be_changed_or_deleted(shop, owner):
    theirs = segment_save(shop=new_shop(slug="theirs", owner=new_user()), name="Theirs")
    with pytest.raises(NotFound):
        segment_save(shop=shop, segment=theirs, name="Mine now")
    with pytest.raises(NotFound):
        segment_delete(shop=shop, segment=theirs)
    assert SavedSegment.objects.get(pk=theirs.pk).name == "Theirs"


def test_save_as_segment_from_the_list_then_open_it(staff, shop):
    """Given the list filtered to Korean fans at the relationship stage, when staff save it as
    a segment, then the segment page lists exactly those fans."""
    url = reverse("dashboard:customers", kwargs={"shop": shop.slug})
    page = staff.get(url, {"f": "1", "stage": "relationship", "country": "KR"}).content.decode()
    assert "Save as segment" in page
    response = staff.post(
        reverse("dashboard:segment_new", kwargs={"shop": shop.slug}),
        {"f": "1", "stage": "relationship", "country": "KR", "name": "Korean close fans"},
    )
    assert response.status_code == 302
    segment = SavedSegment.objects.get(shop=shop)
    assert segment.filters == {"stages": ["relationship"], "countries": ["KR"]}
    page = staff.get(response["Location"]).content.decode()
    assert "Korean close fans" in page
    assert "close@example.com" in page
    assert "far@example.com" not in page and "community@example.com" not in page


def test_the_new_segment_form_shows_the_filters_and_a_duplicate_name_keeps_what_was_typed(
    staff, shop
):
    segment_save(shop=shop, name="Close fans", filters=SegmentFilter())
    url = reverse("dashboard:segment_new", kwargs={"shop": shop.slug})
    page = staff.get(url, {"f": "1", "stage": "community"}).content.decode()
    assert "Stage: Community" in page
    response = staff.post(url, {"f": "1", "stage": "community", "name": "close FANS"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is already a segment called “close FANS”" in page
    assert 'value="close FANS"' in page and 'name="stage" value="community"' in page
    assert SavedSegment.objects.count() == 1


def test_changed_filters_on_a_segment_page_can_be_saved_into_it(staff, shop):
    segment = segment_save(shop=shop, name="Koreans", filters=SegmentFilter(countries=("KR",)))
    page_url = reverse("dashboard:segment", kwargs={"shop": shop.slug, "segment_id": segment.pk})
    page = staff.get(page_url).content.decode()
    assert "close@example.com" in page and "far@example.com" in page
    assert "Save these filters to the segment" not in page
    changed = staff.get(page_url, {"f": "1", "country": "KR", "stage": "awareness"})
    page = changed.content.decode()
    assert "far@example.com" in page and "close@example.com" not in page
    assert "Save these filters to the segment" in page
    response = staff.post(
        reverse("dashboard:segment_update", kwargs={"shop": shop.slug, "segment_id": segment.pk}),
        {"name": "Koreans", "f": "1", "country": "KR", "stage": "awareness"},
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.filters == {"stages": ["awareness"], "countries": ["KR"]}


def test_renaming_to_a_taken_name_is_refused_and_deleting_removes_only_the_segment(staff, shop):
    segment_save(shop=shop, name="Taken")
    segment = segment_save(shop=shop, name="Mine", filters=SegmentFilter(stages=("community",)))
    update = reverse(
        "dashboard:segment_update", kwargs={"shop": shop.slug, "segment_id": segment.pk}
    )
    response = staff.post(update, {"name": "taken"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "already a segment" in page and "<h1>Mine</h1>" in page
    assert staff.post(update, {"name": "Ours"}).status_code == 302
    assert SavedSegment.objects.get(pk=segment.pk).name == "Ours"
    delete = reverse(
        "dashboard:segment_delete", kwargs={"shop": shop.slug, "segment_id": segment.pk}
    )
    response = staff.post(delete)
    assert response.status_code == 302
    assert not SavedSegment.objects.filter(pk=segment.pk).exists()
    assert shop.customers.count() == 3


def test_the_segments_list_describes_each_segment_in_words(
    staff, shop, django_assert_max_num_queries
):
    segment_save(shop=shop, name="Close", filters=SegmentFilter(stages=("relationship",)))
    segment_save(shop=shop, name="All", filters=SegmentFilter())
    with django_assert_max_num_queries(8):
        response = staff.get(reverse("dashboard:segments", kwargs={"shop": shop.slug}))
    page = response.content.decode()
    assert "Stage: Relationship" in page and "Every customer" in page
    assert page.index(">All<") < page.index(">Close<")
