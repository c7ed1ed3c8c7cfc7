"""Each fan's stage follows their timeline up and down, and every move says why."""

from __future__ import annotations

import datetime as dt

import pytest

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.crm.models import Customer, Interaction, Stage, StageChange
from kinfolk.crm.selectors import customer_stage_history, customers_by_stage, stage_rules_for
from kinfolk.crm.services import stage_rules_save, stages_recompute
from tests.crm.conftest import START, days

Kind = Interaction.Kind
pytestmark = pytest.mark.django_db


def stage_of(customer) -> str:
    return Customer.objects.values_list("stage", flat=True).get(pk=customer.pk)


def test_a_new_contact_is_aware_and_no_change_is_recorded(timeline):
    fan = timeline.customer("fan@example.com")
    timeline.event(fan, Kind.FOLLOW, START)

    assert stage_of(fan) == Stage.AWARENESS
    assert not StageChange.objects.exists()


def test_a_first_paid_order_moves_the_fan_to_identification_with_its_reason(timeline, shop):
    fan = timeline.customer("fan@example.com")
    order = timeline.paid(fan, START)

    change = customer_stage_history(shop=shop, customer=fan).get()
    assert (change.from_stage, change.to_stage, change.rule) == (
        Stage.AWARENESS,
        Stage.IDENTIFICATION,
        "purchase",
    )
    assert change.interaction_ids == [order.pk]
    assert change.evidence == {"count": 1, "threshold": 1, "window_days": 365}
    assert change.trigger == StageChange.Trigger.INTERACTION
    assert fan.stage == stage_of(fan) == Stage.IDENTIFICATION
    # The move is on the fan's timeline too, pointing at its record.
    on_timeline = Interaction.objects.get(customer=fan, kind=Kind.STAGE_CHANGED)
    assert on_timeline.subject_id == str(change.pk)
    assert on_timeline.data == {
        "from": "awareness",
        "to": "identification",
        "rule": "purchase",
        "interaction_ids": [order.pk],
    }


def test_a_second_order_within_a_year_is_a_relationship(timeline, shop):
    fan = timeline.customer("fan@example.com")
    first = timeline.paid(fan, START)
    second = timeline.paid(fan, START + days(200))

    change = customer_stage_history(shop=shop, customer=fan).last()
    assert (change.to_stage, change.rule) == (Stage.RELATIONSHIP, "repeat_purchase")
    assert change.interaction_ids == [first.pk, second.pk]


def test_a_fan_who_stops_buying_falls_back_one_stage_at_a_time(timeline, shop):
    # Given two orders 200 days apart: a relationship
    fan = timeline.customer("fan@example.com")
    timeline.paid(fan, START)
    second = timeline.paid(fan, START + days(200))
    assert stage_of(fan) == Stage.RELATIONSHIP

    # When the first order is more than a year old, one order is left in the window
    counts = stages_recompute(shop=shop, now=START + days(366))
    assert stage_of(fan) == Stage.IDENTIFICATION
    assert (counts["changed"], counts["down"], counts["up"]) == (1, 1, 0)
    drop = customer_stage_history(shop=shop, customer=fan).last()
    assert (drop.from_stage, drop.to_stage, drop.rule) == (
        Stage.RELATIONSHIP,
        Stage.IDENTIFICATION,
        "purchase",
    )
    assert drop.interaction_ids == [second.pk]
    assert drop.trigger == StageChange.Trigger.RECOMPUTE

    # And when the second one ages out too, only the contact is left
    stages_recompute(shop=shop, now=START + days(566))
    assert stage_of(fan) == Stage.AWARENESS
    last = customer_stage_history(shop=shop, customer=fan).last()
    assert (last.to_stage, last.rule) == (Stage.AWARENESS, "known_contact")

    # A new order brings the fan back up at once
    timeline.paid(fan, START + days(600))
    assert stage_of(fan) == Stage.IDENTIFICATION
    assert [c.to_stage for c in customer_stage_history(shop=shop, customer=fan)] == [
        "identification",
        "relationship",
        "identification",
        "awareness",
        "identification",
    ]


def test_a_refunded_order_no_longer_counts_as_a_purchase(timeline, shop):
    fan = timeline.customer("fan@example.com")
    timeline.paid(fan, START, number="K1")
    timeline.paid(fan, START + days(1), number="K2")
    assert stage_of(fan) == Stage.RELATIONSHIP

    timeline.refunded(fan, START + days(2), number="K2")
    assert stage_of(fan) == Stage.IDENTIFICATION
    timeline.refunded(fan, START + days(3), number="K1")
    assert stage_of(fan) == Stage.AWARENESS


def test_coming_back_on_three_distinct_days_is_identification(timeline, shop):
    fan = timeline.customer("fan@example.com")
    # Three downloads the same day are one visit
    for hour in range(3):
        timeline.event(fan, Kind.DOWNLOAD, START + dt.timedelta(hours=hour))
    timeline.event(fan, Kind.FOLLOW, START + days(30))
    assert stage_of(fan) == Stage.AWARENESS

    last = timeline.event(fan, Kind.DOWNLOAD, START + days(60))
    change = customer_stage_history(shop=shop, customer=fan).get()
    assert (change.to_stage, change.rule) == (Stage.IDENTIFICATION, "returning")
    assert change.evidence == {"count": 3, "threshold": 3, "window_days": 90}
    assert change.interaction_ids[-1] == last.pk

    # Ninety days later the first visit has left the window
    stages_recompute(shop=shop, now=START + days(91))
    assert stage_of(fan) == Stage.AWARENESS


def test_days_are_the_shops_calendar_days(make_shop, make_timeline):
    # 23:30 and 00:30 in Seoul are two days there, though one day in UTC
    seoul = make_timeline(make_shop(time_zone="Asia/Seoul"))
    fan = seoul.customer("fan@example.com")
    evening = dt.datetime(2025, 3, 1, 14, 30, tzinfo=dt.UTC)
    seoul.event(fan, Kind.DOWNLOAD, evening - days(5))
    seoul.event(fan, Kind.DOWNLOAD, evening)
    seoul.event(fan, Kind.DOWNLOAD, evening + dt.timedelta(hours=1))
    assert stage_of(fan) == Stage.IDENTIFICATION

    utc = make_timeline(make_shop(time_zone="UTC"))
    other = utc.customer("fan@example.com")
    utc.event(other, Kind.DOWNLOAD, evening - days(5))
    utc.event(other, Kind.DOWNLOAD, evening)
    utc.event(other, Kind.DOWNLOAD, evening + dt.timedelta(hours=1))
    assert stage_of(other) == Stage.AWARENESS


def test_days_follow_the_shops_clock_across_a_change_to_summer_time(make_shop, make_timeline):
    """Given a shop in Berlin, where clocks go forward at 01:00 UTC on 30 March 2025,
    when a fan acts at 23:30 on the 29th, 23:30 on the 30th and 00:30 on the 31st (local time),
    then those are three days there (one offset for all three would make them two)
    and a recomputation a week later agrees."""
    berlin = make_timeline(make_shop(time_zone="Europe/Berlin"))
    fan = berlin.customer("fan@example.com")
    for moment in ("2025-03-29 22:30", "2025-03-30 21:30", "2025-03-30 22:30"):
        at = dt.datetime.fromisoformat(moment).replace(tzinfo=dt.UTC)
        berlin.event(fan, Kind.DOWNLOAD, at)
    assert stage_of(fan) == Stage.IDENTIFICATION
    week_later = dt.datetime(2025, 4, 6, tzinfo=dt.UTC)
    assert stages_recompute(shop=berlin.shop, now=week_later)["changed"] == 0

    utc = make_timeline(make_shop(time_zone="UTC"))
    other = utc.customer("fan@example.com")
    for moment in ("2025-03-29 22:30", "2025-03-30 21:30", "2025-03-30 22:30"):
        utc.event(other, Kind.DOWNLOAD, dt.datetime.fromisoformat(moment).replace(tzinfo=dt.UTC))
    assert stage_of(other) == Stage.AWARENESS


def test_uploading_content_is_identification(timeline, shop):
    fan = timeline.customer("fan@example.com")
    upload = timeline.event(fan, Kind.UPLOAD, START)
    change = customer_stage_history(shop=shop, customer=fan).get()
    assert (change.to_stage, change.rule, change.interaction_ids) == (
        Stage.IDENTIFICATION,
        "upload",
        [upload.pk],
    )


@pytest.mark.parametrize("kind", [Kind.REPLY, Kind.DATES_GIVEN])
def test_two_way_contact_is_a_relationship(timeline, shop, kind):
    fan = timeline.customer("fan@example.com")
    timeline.event(fan, kind, START)
    change = customer_stage_history(shop=shop, customer=fan).get()
    assert (change.to_stage, change.rule) == (Stage.RELATIONSHIP, "two_way_contact")


@pytest.mark.parametrize("kind", [Kind.REFERRAL, Kind.GROUP_JOINED, Kind.RSVP, Kind.POST])
def test_taking_part_is_community_until_it_fades(timeline, shop, kind):
    # Given a fan with a relationship who then takes part
    fan = timeline.customer("fan@example.com")
    timeline.paid(fan, START)
    timeline.paid(fan, START + days(10))
    timeline.event(fan, kind, START + days(20))
    assert stage_of(fan) == Stage.COMMUNITY
    assert customer_stage_history(shop=shop, customer=fan).last().rule == "participation"

    # When half a year passes without taking part, the purchases still hold the relationship
    stages_recompute(shop=shop, now=START + days(201))
    assert stage_of(fan) == Stage.RELATIONSHIP


def test_the_shops_messages_and_notes_never_move_a_stage(timeline, shop):
    fan = timeline.customer("fan@example.com")
    for kind in (Kind.MESSAGE_SENT, Kind.NOTE, Kind.ORDER_SHIPPED, Kind.ORDER_DELIVERED):
        for day in range(5):
            timeline.event(fan, kind, START + days(day))
    assert stage_of(fan) == Stage.AWARENESS
    assert stages_recompute(shop=shop, now=START + days(5))["changed"] == 0


def test_each_change_leaves_exactly_one_timeline_row(timeline, shop):
    fan = timeline.customer("fan@example.com")
    for day in range(0, 400, 40):
        timeline.paid(fan, START + days(day))
        timeline.event(fan, Kind.RSVP, START + days(day + 1))
    stages_recompute(shop=shop, now=START + days(900))
    changes = StageChange.objects.filter(customer=fan).count()
    assert changes >= 3
    assert Interaction.objects.filter(customer=fan, kind=Kind.STAGE_CHANGED).count() == changes


def test_the_shop_can_adjust_its_rules(timeline, shop):
    assert stage_rules_for(shop=shop).return_min_days == 3
    fan = timeline.customer("fan@example.com")
    timeline.event(fan, Kind.DOWNLOAD, START)
    timeline.event(fan, Kind.DOWNLOAD, START + days(1))
    assert stage_of(fan) == Stage.AWARENESS

    with clock.frozen(START + days(1)):
        rules = stage_rules_save(shop=shop, return_min_days=2, community_window_days=30)
    assert (rules.return_min_days, rules.community_window_days) == (2, 30)
    assert stage_rules_for(shop=shop).pk == rules.pk
    stages_recompute(shop=shop, now=START + days(1))
    change = customer_stage_history(shop=shop, customer=fan).get()
    assert (change.to_stage, change.evidence["threshold"]) == (Stage.IDENTIFICATION, 2)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"purchase_window_days": 0}, "purchase_window_days"),
        ({"return_window_days": 99999}, "return_window_days"),
        ({"repeat_purchase_min_orders": 1}, "repeat_purchase_min_orders"),
        ({"community_min_actions": 0}, "community_min_actions"),
        ({"return_min_days": "3"}, "return_min_days"),
    ],
)
def test_rules_that_make_no_sense_are_refused_field_by_field(shop, values, field):
    with pytest.raises(InvalidInput) as info:
        stage_rules_save(shop=shop, **values)
    assert set(info.value.errors) == {field}
    assert stage_rules_for(shop=shop).pk is None


def test_the_funnel_counts_every_stage(make_timeline, make_shop):
    shop = make_shop()
    timeline = make_timeline(shop)
    for n in range(3):
        timeline.customer(f"aware{n}@example.com")
    buyer = timeline.customer("buyer@example.com")
    timeline.paid(buyer, START)
    assert customers_by_stage(shop=shop) == {
        "awareness": 3,
        "identification": 1,
        "relationship": 0,
        "community": 0,
    }
