"""Staff notes go on the timeline with who wrote them; tags are the shop's own, made on first
use; important dates must exist, may lack a year, and only a date the fan gives counts as the
fan's contact."""

from __future__ import annotations

import datetime as dt

import pytest

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.crm.models import Customer, CustomerDate, Interaction, Tag
from kinfolk.crm.services import customer_get_or_create
from kinfolk.crm.services.profiles import (
    customer_date_add,
    customer_date_remove,
    customer_note_add,
    customer_tag_add,
    customer_tag_remove,
)

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 10, 3, tzinfo=dt.UTC)  # 12:00 on March 10 in Seoul


@pytest.fixture
def fan(shop):
    return customer_get_or_create(shop=shop, email="minji@example.com", name="Kim Minji")


@pytest.fixture
def stranger(make_shop):
    return customer_get_or_create(shop=make_shop("other"), email="minji@example.com")


def test_a_note_goes_on_the_timeline_with_its_author(shop, fan, make_user):
    staff = make_user("staff@moonlit.example")
    note = customer_note_add(shop=shop, customer=fan, text="  Loves the blue vinyl.\n", by=staff)
    stored = Interaction.objects.get(pk=note.pk)
    assert (stored.kind, stored.source) == ("note", "dashboard")
    assert stored.data == {"text": "Loves the blue vinyl.", "by": "staff@moonlit.example"}
    assert Customer.objects.get(pk=fan.pk).stage == "awareness"  # a note is not the fan's act


@pytest.mark.parametrize("text", ["", "   \n ", "x" * 5001])
def test_an_empty_or_endless_note_is_refused(shop, fan, make_user, text):
    with pytest.raises(InvalidInput) as info:
        customer_note_add(shop=shop, customer=fan, text=text, by=make_user())
    assert info.value.field == "text"
    assert not Interaction.objects.filter(kind="note").exists()


def test_nothing_is_written_about_another_shops_customer(shop, stranger, make_user):
    with pytest.raises(NotFound):
        customer_note_add(shop=shop, customer=stranger, text="hi", by=make_user())
    with pytest.raises(NotFound):
        customer_tag_add(shop=shop, customer=stranger, name="VIP")
    with pytest.raises(NotFound):
        customer_date_add(shop=shop, customer=stranger, kind="birthday", month=1, day=1)
    assert not Tag.objects.exists() and not CustomerDate.objects.exists()


def test_a_tag_is_created_on_first_use_and_reused_in_any_case(shop, fan):
    other = customer_get_or_create(shop=shop, email="jae@example.com")
    first = customer_tag_add(shop=shop, customer=fan, name="  Met   in Busan ")
    again = customer_tag_add(shop=shop, customer=other, name="met in busan")
    customer_tag_add(shop=shop, customer=fan, name="MET IN BUSAN")  # already has it
    assert first.pk == again.pk and first.name == "Met in Busan"
    assert Tag.objects.filter(shop=shop).count() == 1
    assert list(fan.tags.values_list("name", flat=True)) == ["Met in Busan"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 51, "y" * 200])
def test_an_empty_or_too_long_tag_is_refused(shop, fan, name):
    with pytest.raises(InvalidInput) as info:
        customer_tag_add(shop=shop, customer=fan, name=name)
    assert info.value.field == "name"
    assert not Tag.objects.exists()


def test_removing_a_tag_keeps_it_for_others_and_another_shops_tag_is_not_found(shop, fan, stranger):
    other = customer_get_or_create(shop=shop, email="jae@example.com")
    vip = customer_tag_add(shop=shop, customer=fan, name="VIP")
    customer_tag_add(shop=shop, customer=other, name="VIP")
    theirs = customer_tag_add(shop=stranger.shop, customer=stranger, name="VIP")
    customer_tag_remove(shop=shop, customer=fan, tag_id=vip.pk)
    assert not fan.tags.exists() and other.tags.get() == vip
    with pytest.raises(NotFound):
        customer_tag_remove(shop=shop, customer=other, tag_id=theirs.pk)
    assert stranger.tags.get() == theirs


@pytest.mark.parametrize(
    ("month", "day", "year"),
    [(2, 29, None), (2, 29, 2024), (12, 31, 1990), (3, 10, 2026), (4, 30, None)],
)
def test_real_dates_are_kept_with_or_without_a_year(shop, fan, month, day, year):
    with clock.frozen(TODAY):
        date = customer_date_add(
            shop=shop, customer=fan, kind="birthday", month=month, day=day, year=year
        )
    stored = CustomerDate.objects.get(pk=date.pk)
    assert (stored.month, stored.day, stored.year) == (month, day, year)


@pytest.mark.parametrize(
    ("month", "day", "year", "field"),
    [
        (4, 31, None, "day"),
        (2, 30, None, "day"),
        (2, 29, 2023, "day"),
        (13, 1, None, "month"),
        (0, 1, None, "month"),
        (1, 0, None, "day"),
        (3, 11, 2026, "year"),  # tomorrow in Seoul
        (1, 1, 2027, "year"),
        (1, 1, 1800, "year"),
    ],
)
def test_dates_that_do_not_exist_or_are_to_come_are_refused(shop, fan, month, day, year, field):
    with clock.frozen(TODAY), pytest.raises(InvalidInput) as info:
        customer_date_add(shop=shop, customer=fan, kind="birthday", month=month, day=day, year=year)
    assert info.value.field == field
    assert not CustomerDate.objects.exists()


def test_the_same_date_twice_is_refused_and_an_unknown_occasion_too(shop, fan):
    customer_date_add(shop=shop, customer=fan, kind="anniversary", month=6, day=1)
    with pytest.raises(InvalidInput):
        customer_date_add(shop=shop, customer=fan, kind="anniversary", month=6, day=1)
    with pytest.raises(InvalidInput) as info:
        customer_date_add(shop=shop, customer=fan, kind="name-day", month=6, day=2)
    assert info.value.field == "kind"
    assert CustomerDate.objects.count() == 1


def test_a_date_staff_type_is_not_the_fans_contact_but_one_the_fan_gives_is(shop, fan):
    """Given a fan at awareness, a birthday staff type records no interaction and leaves the
    stage; a partner's birthday the fan gives on the storefront records ``dates_given`` and, as
    two-way contact, moves the fan to the relationship stage."""
    customer_date_add(shop=shop, customer=fan, kind="birthday", month=5, day=4)
    assert not Interaction.objects.filter(customer=fan).exists()
    assert Customer.objects.get(pk=fan.pk).stage == "awareness"
    customer_date_add(
        shop=shop, customer=fan, kind="partner_birthday", month=9, day=9, source="storefront"
    )
    given = Interaction.objects.get(customer=fan, kind="dates_given")
    assert given.data == {"kind": "partner_birthday", "month": 9, "day": 9}
    assert Customer.objects.get(pk=fan.pk).stage == "relationship"


def test_removing_a_date_only_removes_that_customers_date(shop, fan):
    other = customer_get_or_create(shop=shop, email="jae@example.com")
    mine = customer_date_add(shop=shop, customer=fan, kind="birthday", month=5, day=4)
    theirs = customer_date_add(shop=shop, customer=other, kind="birthday", month=5, day=4)
    with pytest.raises(NotFound):
        customer_date_remove(shop=shop, customer=fan, date_id=theirs.pk)
    customer_date_remove(shop=shop, customer=fan, date_id=mine.pk)
    assert list(CustomerDate.objects.values_list("pk", flat=True)) == [theirs.pk]
