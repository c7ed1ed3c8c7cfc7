"""From raw transactions to the RFM summary: days, repeat purchases, calibration and holdout."""

from __future__ import annotations

import numpy as np
import pytest

from kinfolk.clv import RfmSummary, summarize
from kinfolk.clv.transactions import history_patterns


def by_customer(summary: RfmSummary) -> dict:
    return {
        customer: {
            "x": int(summary.frequency[i]),
            "t_x": float(summary.recency[i]),
            "T": float(summary.T[i]),
            "m": float(summary.monetary_value[i]),
            "holdout": int(summary.holdout_frequency[i]),
        }
        for i, customer in enumerate(summary.customer_ids.tolist())
    }


def test_purchases_on_one_day_count_once_and_add_up():
    summary = summarize(
        ["ann", "ann", "ann", "ann"],
        ["2024-01-01", "2024-01-08", "2024-01-08", "2024-01-15"],
        [10.0, 5.0, 7.0, 30.0],
        calibration_end="2024-01-29",
    )
    ann = by_customer(summary)["ann"]
    # Two repeat days, 1 and 2 weeks after the first; the second day's two purchases are one of 12.
    assert ann == {"x": 2, "t_x": 2.0, "T": 4.0, "m": 21.0, "holdout": 0}
    assert summary.first_value.tolist() == [10.0]


def test_first_day_purchases_are_not_repeat_purchases():
    summary = summarize(
        [1, 1, 1], ["2024-03-01", "2024-03-01", "2024-03-05"], [4.0, 6.0, 8.0], unit="day"
    )
    assert by_customer(summary)[1] == {"x": 1, "t_x": 4.0, "T": 4.0, "m": 8.0, "holdout": 0}
    assert summary.first_value.tolist() == [10.0]


def test_a_single_customer_with_a_single_purchase():
    summary = summarize([7], ["2024-01-01"], [19.99], calibration_end="2024-01-15")
    assert len(summary) == 1
    assert summary.repeat_customers == 0
    assert by_customer(summary)[7] == {"x": 0, "t_x": 0.0, "T": 2.0, "m": 0.0, "holdout": 0}


def test_only_purchase_on_the_calibration_end_is_in_calibration():
    summary = summarize(
        ["a", "b"], ["2024-01-01", "2024-01-29"], [1.0, 2.0], calibration_end="2024-01-29"
    )
    assert by_customer(summary)["b"] == {"x": 0, "t_x": 0.0, "T": 0.0, "m": 0.0, "holdout": 0}
    assert summary.excluded_customers == 0


def test_later_transactions_go_to_the_holdout():
    summary = summarize(
        ["a", "a", "a", "a", "a", "late"],
        ["2024-01-01", "2024-01-08", "2024-01-30", "2024-01-30", "2024-02-12", "2024-02-01"],
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        calibration_end="2024-01-29",
    )
    a = by_customer(summary)["a"]
    # Calibration: first purchase and one repeat; holdout: two purchase days (30 Jan, 12 Feb).
    assert a == {"x": 1, "t_x": 1.0, "T": 4.0, "m": 2.0, "holdout": 2}
    # A customer first seen after the calibration end is unknown to the calibration period.
    assert summary.customer_ids.tolist() == ["a"]
    assert summary.excluded_customers == 1
    assert summary.calibration_end == np.datetime64("2024-01-29")
    assert summary.observation_end == np.datetime64("2024-02-12")
    assert summary.holdout_duration == pytest.approx(2.0)


def test_observation_end_ignores_what_comes_after():
    summary = summarize(
        [1, 1, 1],
        ["2024-01-01", "2024-01-10", "2024-03-01"],
        [1.0, 1.0, 1.0],
        calibration_end="2024-01-05",
        observation_end="2024-01-31",
        unit="day",
    )
    assert summary.holdout_frequency.tolist() == [1]
    assert summary.holdout_duration == 26.0


def test_default_calibration_end_is_the_last_day():
    summary = summarize([1, 2], ["2024-01-01", "2024-01-15"], [1.0, 1.0])
    assert summary.calibration_end == np.datetime64("2024-01-15")
    assert summary.holdout_duration == 0.0
    assert summary.T.tolist() == [2.0, 0.0]


def test_times_of_day_are_dropped_and_units_apply():
    stamps = np.array(["2024-01-01T23:59", "2024-01-02T00:01", "2024-01-31T12:00"], "datetime64[m]")
    days = summarize([5, 5, 5], stamps, [1.0, 2.0, 3.0], unit="day")
    assert by_customer(days)[5] == {"x": 2, "t_x": 30.0, "T": 30.0, "m": 2.5, "holdout": 0}
    months = summarize([5, 5, 5], stamps, [1.0, 2.0, 3.0], unit="month")
    assert months.T[0] == pytest.approx(30 / (365.25 / 12))


def test_integer_and_text_ids_give_the_same_summary():
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 300, 2000)
    dates = np.datetime64("2024-01-01") + rng.integers(0, 200, 2000)
    amounts = rng.uniform(1, 100, 2000).round(2)
    numbers = summarize(ids * 1000 + 17, dates, amounts, calibration_end="2024-05-01")
    texts = summarize([f"c{i:04d}" for i in ids], dates, amounts, calibration_end="2024-05-01")
    for field in ("frequency", "recency", "T", "monetary_value", "holdout_frequency"):
        np.testing.assert_allclose(getattr(numbers, field), getattr(texts, field))
    assert [int(i) for i in numbers.customer_ids[:3]] == [
        int(t[1:]) * 1000 + 17 for t in texts.customer_ids[:3]
    ]


def test_matches_a_per_customer_loop():
    """The vectorised summary against a plain reading of the definitions."""
    rng = np.random.default_rng(11)
    n = 3000
    ids = rng.integers(0, 400, n)
    offsets = rng.integers(0, 120, n)
    dates = np.datetime64("2024-01-01") + offsets
    amounts = rng.uniform(1, 50, n).round(2)
    cal_end = 80
    summary = summarize(ids, dates, amounts, calibration_end=np.datetime64("2024-01-01") + cal_end)
    rows = by_customer(summary)
    for customer in np.unique(ids):
        mine = offsets[ids == customer]
        values = amounts[ids == customer]
        if mine.min() > cal_end:
            assert customer not in rows
            continue
        per_day = {day: values[mine == day].sum() for day in np.unique(mine)}
        cal_days = sorted(day for day in per_day if day <= cal_end)
        repeat = cal_days[1:]
        row = rows[customer]
        assert row["x"] == len(repeat)
        assert row["t_x"] == pytest.approx((cal_days[-1] - cal_days[0]) / 7)
        assert row["T"] == pytest.approx((cal_end - cal_days[0]) / 7)
        expected_m = np.mean([per_day[day] for day in repeat]) if repeat else 0.0
        assert row["m"] == pytest.approx(expected_m)
        assert row["holdout"] == sum(1 for day in per_day if day > cal_end)


def test_history_patterns_group_identical_customers():
    summary = summarize(
        [1, 1, 2, 2, 3, 4],
        ["2024-01-01", "2024-01-08", "2024-01-01", "2024-01-08", "2024-01-01", "2024-01-01"],
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        calibration_end="2024-01-15",
    )
    x, t_x, T, weights, index = history_patterns(summary)
    assert len(x) == 2 and weights.sum() == 4
    np.testing.assert_array_equal(x[index], summary.frequency)
    np.testing.assert_allclose(t_x[index], summary.recency)
    np.testing.assert_allclose(T[index], summary.T)


@pytest.mark.parametrize(
    ("ids", "dates", "amounts", "message"),
    [
        ([1, 2], ["2024-01-01"], [1.0, 2.0], "same length"),
        ([1], ["2024-01-01"], [float("nan")], "finite"),
        ([], [], [], "no transactions"),
    ],
)
def test_bad_input_is_refused(ids, dates, amounts, message):
    with pytest.raises(ValueError, match=message):
        summarize(ids, np.array(dates, dtype="datetime64[D]"), amounts)


def test_unknown_unit_and_reversed_ends_are_refused():
    with pytest.raises(ValueError, match="unknown time unit"):
        summarize([1], ["2024-01-01"], [1.0], unit="fortnight")
    with pytest.raises(ValueError, match="observation end"):
        summarize(
            [1], ["2024-01-01"], [1.0], calibration_end="2024-02-01", observation_end="2024-01-15"
        )


def test_from_arrays_checks_the_histories():
    with pytest.raises(ValueError, match="recency"):
        RfmSummary.from_arrays([1], [5.0], [4.0])
    with pytest.raises(ValueError, match="recency"):
        RfmSummary.from_arrays([0], [1.0], [4.0])
    summary = RfmSummary.from_arrays([0, 2], [0.0, 3.0], [4.0, 4.0], [9.0, 12.0])
    assert summary.monetary_value.tolist() == [0.0, 12.0]
    assert summary.repeat_customers == 1
