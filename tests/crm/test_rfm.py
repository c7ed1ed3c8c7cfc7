"""RFM scores are quintiles within the shop that treat equal values alike, and every score
combination lands in one named segment."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinfolk.crm.models import CustomerScore, Segment
from kinfolk.crm.rfm_scoring import SEGMENT_GRID, quintile_scores, score, segment_for
from kinfolk.crm.selectors import rfm_segment_counts
from kinfolk.crm.services import rfm_recompute
from tests.crm.conftest import START, days


def test_ten_distinct_values_give_two_customers_per_quintile():
    assert quintile_scores(np.arange(10) * 1000).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_equal_values_share_a_score():
    scores = quintile_scores(np.array([1, 1, 1, 1, 1, 1, 2, 3, 4, 5]))
    assert len(set(scores[:6].tolist())) == 1
    assert scores.tolist() == [2, 2, 2, 2, 2, 2, 4, 4, 5, 5]


@pytest.mark.parametrize("values", [[42], [7, 7, 7, 7]])
def test_a_single_customer_or_all_equal_sit_in_the_middle(values):
    assert quintile_scores(np.array(values)).tolist() == [3] * len(values)


def test_no_customers_no_scores():
    result = score(np.array([]), np.array([]), np.array([]))
    assert result.recency.size == 0 and result.segments == []


@given(st.lists(st.integers(0, 50), min_size=1, max_size=60), st.randoms())
def test_scores_follow_the_values_and_not_their_order(values, random):
    scores = quintile_scores(np.array(values))
    assert set(scores.tolist()) <= {1, 2, 3, 4, 5}
    for a, b in itertools.combinations(range(len(values)), 2):
        if values[a] == values[b]:
            assert scores[a] == scores[b]
        elif values[a] < values[b]:
            assert scores[a] <= scores[b]
    shuffled = list(range(len(values)))
    random.shuffle(shuffled)
    again = quintile_scores(np.array([values[i] for i in shuffled]))
    assert again.tolist() == [scores[i] for i in shuffled]


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 5, Segment.CHAMPIONS),
        (5, 4, 3, Segment.CHAMPIONS),  # FM = 3.5 rounds up to 4
        (4, 5, 4, Segment.LOYAL),
        (3, 4, 4, Segment.LOYAL),
        (5, 2, 3, Segment.POTENTIAL_LOYALIST),
        (5, 1, 1, Segment.NEW),
        (4, 1, 1, Segment.PROMISING),
        (3, 3, 3, Segment.NEED_ATTENTION),
        (3, 1, 2, Segment.ABOUT_TO_SLEEP),
        (2, 4, 3, Segment.AT_RISK),
        (1, 5, 5, Segment.CANT_LOSE),
        (2, 5, 4, Segment.CANT_LOSE),
        (2, 2, 1, Segment.HIBERNATING),
        (1, 2, 2, Segment.HIBERNATING),
        (1, 1, 1, Segment.LOST),
    ],
)
def test_segments_follow_the_r_by_fm_grid(r, f, m, segment):
    assert segment_for(r, f, m) == segment


def test_every_score_has_a_segment_and_every_segment_is_reachable():
    reached = {segment_for(r, f, m) for r, f, m in itertools.product(range(1, 6), repeat=3)}
    assert reached == set(Segment.values)
    assert all(len(row) == 5 for row in SEGMENT_GRID) and len(SEGMENT_GRID) == 5


@pytest.mark.django_db
def test_quintiles_over_ten_customers_of_a_shop(timeline, shop):
    # Given ten customers, the k-th with k orders of k × 10,000, the last one k days before now
    now = START + days(100)
    for k in range(1, 11):
        fan = timeline.customer(f"fan{k}@example.com")
        for n in range(k):
            timeline.paid(fan, now - days(30 + n) - days(k), total=10000)
    # And one customer who never bought
    timeline.customer("browser@example.com")

    counts = rfm_recompute(shop=shop, now=now)

    assert counts == {"customers": 10, "created": 10, "updated": 0, "deleted": 0, "unchanged": 0}
    scores = CustomerScore.objects.filter(shop=shop).order_by("frequency")
    assert [s.frequency for s in scores] == list(range(1, 11))
    assert [s.monetary for s in scores] == [k * 10000 for k in range(1, 11)]
    assert [s.frequency_score for s in scores] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [s.monetary_score for s in scores] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # The bigger buyers also bought last longer ago: recency runs the other way
    assert [s.recency_score for s in scores] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    segments = [s.segment for s in scores]
    assert (segments[0], segments[-1]) == (Segment.NEW, Segment.CANT_LOSE)
    assert not CustomerScore.objects.filter(customer__email="browser@example.com").exists()


@pytest.mark.django_db
def test_a_single_customer_is_scored_in_the_middle(timeline, shop):
    fan = timeline.customer("fan@example.com")
    timeline.paid(fan, START, total=5000)
    rfm_recompute(shop=shop, now=START + days(3))
    row = CustomerScore.objects.get()
    assert (row.rfm, row.segment, row.frequency, row.monetary) == (
        "333",
        Segment.NEED_ATTENTION,
        1,
        5000,
    )
    assert row.last_purchase_at == START


@pytest.mark.django_db
def test_customers_with_equal_histories_get_equal_scores(timeline, shop):
    for n in range(4):
        fan = timeline.customer(f"twin{n}@example.com")
        timeline.paid(fan, START, total=20000)
    other = timeline.customer("other@example.com")
    timeline.paid(other, START - days(50), total=1000)
    rfm_recompute(shop=shop, now=START + days(1))
    twins = set(
        CustomerScore.objects.filter(customer__email__startswith="twin").values_list(
            "recency_score", "frequency_score", "monetary_score", "segment"
        )
    )
    assert len(twins) == 1


@pytest.mark.django_db
def test_refunded_orders_do_not_count_and_a_fully_refunded_customer_loses_the_score(timeline, shop):
    fan = timeline.customer("fan@example.com")
    timeline.paid(fan, START, total=1000, number="R1")
    timeline.paid(fan, START + days(1), total=5000, number="R2")
    keeper = timeline.customer("keeper@example.com")
    timeline.paid(keeper, START, total=3000)
    rfm_recompute(shop=shop, now=START + days(2))
    assert CustomerScore.objects.get(customer=fan).monetary == 6000

    timeline.refunded(fan, START + days(3), number="R2")
    counts = rfm_recompute(shop=shop, now=START + days(3))
    row = CustomerScore.objects.get(customer=fan)
    assert (row.frequency, row.monetary, row.last_purchase_at) == (1, 1000, START)
    assert counts["updated"] >= 1

    timeline.refunded(fan, START + days(4), number="R1")
    counts = rfm_recompute(shop=shop, now=START + days(4))
    assert counts["deleted"] == 1
    assert list(CustomerScore.objects.values_list("customer", flat=True)) == [keeper.pk]


@pytest.mark.django_db
def test_a_second_run_at_the_same_time_writes_nothing(timeline, shop):
    for n in range(6):
        fan = timeline.customer(f"fan{n}@example.com")
        for k in range(n + 1):
            timeline.paid(fan, START + days(k * 7), total=1000 * (n + 1))
    now = START + days(60)
    rfm_recompute(shop=shop, now=now)
    stamps = list(CustomerScore.objects.order_by("pk").values_list("scored_at", flat=True))

    again = rfm_recompute(shop=shop, now=now)
    assert (again["created"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert again["unchanged"] == 6
    assert list(CustomerScore.objects.order_by("pk").values_list("scored_at", flat=True)) == (
        stamps
    )


@pytest.mark.django_db
def test_segment_counts_list_every_segment(timeline, shop):
    fan = timeline.customer("fan@example.com")
    timeline.paid(fan, START)
    rfm_recompute(shop=shop, now=START)
    counts = rfm_segment_counts(shop=shop)
    assert list(counts) == Segment.values
    assert counts[Segment.NEED_ATTENTION] == 1
    assert sum(counts.values()) == 1
