"""The batch recomputation agrees with the updates made as events arrive, changes nothing when
run twice, and never reaches into another shop."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinfolk.crm.models import Customer, CustomerScore, Interaction, Stage, StageChange
from kinfolk.crm.selectors import customers_by_stage
from kinfolk.crm.services import rfm_recompute, stages_recompute
from tests.crm.conftest import START, days

Kind = Interaction.Kind
pytestmark = pytest.mark.django_db

EVENT_KINDS = [
    Kind.ORDER_PAID,
    Kind.ORDER_REFUNDED,
    Kind.DOWNLOAD,
    Kind.FOLLOW,
    Kind.UPLOAD,
    Kind.REPLY,
    Kind.RSVP,
    Kind.POST,
    Kind.MESSAGE_SENT,
]


def play(timeline, customers, events) -> None:
    """Record ``events`` (customer index, kind, day) in day order on ``timeline``."""
    for n, (who, kind, day) in enumerate(sorted(events, key=lambda e: e[2])):
        fan, at = customers[who], START + days(day)
        if kind == Kind.ORDER_PAID:
            timeline.paid(fan, at, number=f"O{who}-{n}")
        elif kind == Kind.ORDER_REFUNDED:
            # Refunds the fan's first order, whether or not there was one yet.
            timeline.refunded(fan, at, number=f"O{who}-0")
        else:
            timeline.event(fan, kind, at)


def stages(shop) -> list[str]:
    return list(
        Customer.objects.filter(shop=shop).order_by("email").values_list("stage", flat=True)
    )


def last_reasons(shop) -> list[tuple[str, str, dict]]:
    reasons = {}
    for change in StageChange.objects.filter(shop=shop).select_related("customer"):
        reasons[change.customer.email] = (change.to_stage, change.rule, change.evidence)
    return [reasons[email] for email in sorted(reasons)]


def twin_shops(make_shop, make_timeline, events, customers=4):
    """Play the same events in two shops: one updated live, one recomputed once at the end."""
    live = make_timeline(make_shop())
    batch = make_timeline(make_shop(), update_stage=False)
    for timeline in (live, batch):
        fans = [timeline.customer(f"fan{n}@example.com") for n in range(customers)]
        play(timeline, fans, events)
    end = START + days(max((e[2] for e in events), default=0))
    stages_recompute(shop=batch.shop, now=end)
    return live.shop, batch.shop


MIXED_EVENTS = [
    (0, Kind.ORDER_PAID, 0),
    (0, Kind.ORDER_PAID, 40),
    (1, Kind.DOWNLOAD, 1),
    (1, Kind.DOWNLOAD, 5),
    (1, Kind.FOLLOW, 9),
    (2, Kind.ORDER_PAID, 3),
    (2, Kind.ORDER_PAID, 4),
    (2, Kind.ORDER_REFUNDED, 20),
    (2, Kind.RSVP, 50),
    (3, Kind.MESSAGE_SENT, 2),
    (3, Kind.UPLOAD, 30),
]


def test_incremental_updates_reach_the_same_stages_as_one_recomputation(make_shop, make_timeline):
    live, batch = twin_shops(make_shop, make_timeline, MIXED_EVENTS)
    assert (
        stages(live)
        == stages(batch)
        == [
            Stage.RELATIONSHIP,
            Stage.IDENTIFICATION,
            Stage.COMMUNITY,
            Stage.IDENTIFICATION,
        ]
    )
    assert last_reasons(live) == last_reasons(batch)


def events_within(last_day: int):
    return st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from(EVENT_KINDS), st.integers(0, last_day)),
        max_size=12,
    )


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=events_within(89))
def test_within_the_shortest_window_live_stages_equal_the_batch(make_shop, make_timeline, events):
    # No window is shorter than 90 days, so nothing ages out and no recomputation is due.
    live, batch = twin_shops(make_shop, make_timeline, events, customers=3)
    assert stages(live) == stages(batch)
    end = START + days(max((e[2] for e in events), default=0))
    assert stages_recompute(shop=live, now=end)["changed"] == 0


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=events_within(500))
def test_over_years_the_nightly_recomputation_brings_live_stages_to_the_batch(
    make_shop, make_timeline, events
):
    # Events move stages as they arrive; what aged out meanwhile waits for the recomputation.
    live, batch = twin_shops(make_shop, make_timeline, events, customers=3)
    end = START + days(max((e[2] for e in events), default=0))
    stages_recompute(shop=live, now=end)
    assert stages(live) == stages(batch)


def test_a_second_recomputation_changes_and_records_nothing(make_shop, make_timeline):
    _, shop = twin_shops(make_shop, make_timeline, MIXED_EVENTS)
    later = START + days(400)
    first = stages_recompute(shop=shop, now=later)
    assert first["changed"] > 0
    changes = StageChange.objects.count()
    timeline_rows = Interaction.objects.count()

    again = stages_recompute(shop=shop, now=later)
    assert (again["changed"], again["up"], again["down"]) == (0, 0, 0)
    assert again["customers"] == first["customers"] == 4
    assert StageChange.objects.count() == changes
    assert Interaction.objects.count() == timeline_rows


def test_recomputation_counts_match_the_funnel(make_shop, make_timeline):
    _, shop = twin_shops(make_shop, make_timeline, MIXED_EVENTS)
    counts = stages_recompute(shop=shop, now=START + days(50))
    assert {stage: counts[stage] for stage in Stage.values} == customers_by_stage(shop=shop)


def test_recomputing_in_small_chunks_gives_the_same_result(make_shop, make_timeline):
    events = [(n % 7, Kind.ORDER_PAID, n) for n in range(20)]
    events += [(n, Kind.RSVP, 3) for n in range(0, 7, 3)]
    whole = make_timeline(make_shop(), update_stage=False)
    chunked = make_timeline(make_shop(), update_stage=False)
    for timeline in (whole, chunked):
        play(timeline, [timeline.customer(f"fan{n}@example.com") for n in range(7)], events)
    now = START + days(20)
    assert stages_recompute(shop=whole.shop, now=now) == stages_recompute(
        shop=chunked.shop, now=now, chunk_size=2
    )
    assert stages(whole.shop) == stages(chunked.shop)


def test_the_number_of_queries_does_not_grow_with_the_customers(
    make_shop, make_timeline, django_assert_max_num_queries
):
    def shop_with(customers):
        timeline = make_timeline(make_shop(), update_stage=False)
        for n in range(customers):
            fan = timeline.customer(f"fan{n}@example.com")
            timeline.paid(fan, START)
            timeline.paid(fan, START + days(n % 3))
        return timeline.shop

    small, large = shop_with(3), shop_with(30)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        stages_recompute(shop=small, now=START + days(5))
    with CaptureQueriesContext(connection) as many:
        stages_recompute(shop=large, now=START + days(5))
    assert len(many) == len(few)
    with django_assert_max_num_queries(len(few) + 2):
        rfm_recompute(shop=large, now=START + days(5))


def test_one_shops_recomputation_never_touches_another_shop(make_shop, make_timeline):
    # Given two shops whose stages and scores are stale in the same way
    ours, theirs = (make_timeline(make_shop(), update_stage=False) for _ in range(2))
    for timeline in (ours, theirs):
        fan = timeline.customer("fan@example.com")
        timeline.paid(fan, START)
        timeline.paid(fan, START + days(1))
    before = (
        list(Customer.objects.filter(shop=theirs.shop).values_list("stage", "stage_changed_at")),
        Interaction.objects.filter(shop=theirs.shop).count(),
    )

    # When only our shop is recomputed
    stages_recompute(shop=ours.shop, now=START + days(2))
    rfm_recompute(shop=ours.shop, now=START + days(2))

    # Then theirs is exactly as it was
    assert stages(ours.shop) == [Stage.RELATIONSHIP]
    assert (
        list(Customer.objects.filter(shop=theirs.shop).values_list("stage", "stage_changed_at")),
        Interaction.objects.filter(shop=theirs.shop).count(),
    ) == before
    assert not StageChange.objects.filter(shop=theirs.shop).exists()
    assert not CustomerScore.objects.filter(shop=theirs.shop).exists()
    assert CustomerScore.objects.filter(shop=ours.shop).count() == 1


def test_each_recomputed_change_is_on_its_own_fans_timeline(make_shop, make_timeline):
    """Given many fans whose stages are stale in different ways,
    when one recomputation moves them all,
    then every StageChange has exactly one timeline row, on its own fan's timeline, that names
    it and says the same move."""
    timeline = make_timeline(make_shop(), update_stage=False)
    for n in range(12):
        fan = timeline.customer(f"fan{n}@example.com")
        for day in range(n % 4):
            timeline.paid(fan, START + days(day))
        if n % 3 == 0:
            timeline.event(fan, Kind.RSVP, START + days(5))

    counts = stages_recompute(shop=timeline.shop, now=START + days(6), chunk_size=5)

    changes = list(StageChange.objects.filter(shop=timeline.shop))
    assert counts["changed"] == len(changes) == 10
    rows = {
        row.subject_id: row
        for row in Interaction.objects.filter(shop=timeline.shop, kind=Kind.STAGE_CHANGED)
    }
    assert len(rows) == len(changes)
    for change in changes:
        row = rows[str(change.pk)]
        assert row.customer_id == change.customer_id
        assert row.data == {
            "from": change.from_stage,
            "to": change.to_stage,
            "rule": change.rule,
            "interaction_ids": change.interaction_ids,
        }
