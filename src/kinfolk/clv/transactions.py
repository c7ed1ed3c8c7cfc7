"""From raw transactions to the per-customer RFM summary the purchase and spend models read.

The summary follows Fader, Hardie & Lee (2005) and the ``lifetimes`` package: purchases are counted
per day (several purchases on one day are one purchase of their summed value); the first purchase
day starts a customer's observation and is not a repeat purchase.

* ``frequency`` (x): repeat purchase days up to and including the calibration end;
* ``recency`` (t_x): time from the first to the last purchase day in the calibration period;
* ``T``: time from the first purchase day to the calibration end;
* ``monetary_value``: mean of the day totals of the repeat purchases (0 without repeats);
* ``holdout_frequency``: purchase days after the calibration end, up to the observation end.

Times are in ``unit`` (weeks by default). Customers whose first purchase comes after the calibration
end are left out: the calibration period knows nothing about them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Length of each time unit in days. A month is a twelfth of the Julian year.
UNIT_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}


def unit_days(unit: str) -> float:
    """Return the length of ``unit`` in days; raise ``ValueError`` for an unknown unit."""
    try:
        return UNIT_DAYS[unit]
    except KeyError:
        raise ValueError(
            f"unknown time unit {unit!r}; choose one of {', '.join(UNIT_DAYS)}"
        ) from None


def to_day(value: date | str | np.datetime64) -> np.datetime64:
    """Return ``value`` (a date, an ISO date string or a datetime64) as a day."""
    return np.datetime64(value, "D")


@dataclass(frozen=True, eq=False)
class RfmSummary:
    """Per-customer RFM summary of a calibration period (and of the holdout after it).

    Every array has one entry per customer, in the order of ``customer_ids``. ``recency_days`` and
    ``age_days`` hold the same times as ``recency`` and ``T`` in whole days when the summary was
    built from dated transactions; they let the models group identical histories.
    """

    customer_ids: NDArray
    frequency: NDArray[np.int64]
    recency: NDArray[np.float64]
    T: NDArray[np.float64]
    monetary_value: NDArray[np.float64]
    first_value: NDArray[np.float64]
    holdout_frequency: NDArray[np.int64]
    unit: str = "week"
    calibration_end: np.datetime64 | None = None
    observation_end: np.datetime64 | None = None
    holdout_duration: float = 0.0
    excluded_customers: int = 0
    recency_days: NDArray[np.int64] | None = field(default=None, repr=False)
    age_days: NDArray[np.int64] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.frequency)

    @property
    def repeat_customers(self) -> int:
        """Return how many customers bought again after their first purchase day."""
        return int(np.count_nonzero(self.frequency))

    @classmethod
    def from_arrays(
        cls,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike | None = None,
        *,
        customer_ids: ArrayLike | None = None,
        holdout_frequency: ArrayLike | None = None,
        holdout_duration: float = 0.0,
        unit: str = "week",
    ) -> RfmSummary:
        """Build a summary from ready-made RFM columns (for example a published data set)."""
        x = np.asarray(frequency, dtype=np.int64)
        t_x = np.asarray(recency, dtype=np.float64)
        age = np.asarray(T, dtype=np.float64)
        n = len(x)
        if not (len(t_x) == len(age) == n):
            raise ValueError("frequency, recency and T must have the same length")
        if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > age) or np.any((x == 0) & (t_x != 0)):
            raise ValueError(
                "need frequency >= 0, 0 <= recency <= T and recency 0 when frequency 0"
            )
        unit_days(unit)
        money = (
            np.zeros(n) if monetary_value is None else np.asarray(monetary_value, dtype=np.float64)
        )
        return cls(
            customer_ids=np.arange(n) if customer_ids is None else np.asarray(customer_ids),
            frequency=x,
            recency=t_x,
            T=age,
            monetary_value=np.where(x > 0, money, 0.0),
            first_value=np.full(n, np.nan),
            holdout_frequency=(
                np.zeros(n, dtype=np.int64)
                if holdout_frequency is None
                else np.asarray(holdout_frequency, dtype=np.int64)
            ),
            unit=unit,
            holdout_duration=float(holdout_duration),
        )


def summarize(
    customer_ids: ArrayLike,
    dates: ArrayLike | Iterable[date],
    amounts: ArrayLike,
    *,
    calibration_end: date | str | np.datetime64 | None = None,
    observation_end: date | str | np.datetime64 | None = None,
    unit: str = "week",
) -> RfmSummary:
    """Build the RFM summary of raw transactions, one row per purchase.

    ``dates`` may carry a time of day; only the day counts. ``calibration_end`` (inclusive) defaults
    to the last transaction day, which leaves no holdout. Purchases after ``observation_end``
    (inclusive; the last transaction day by default) are ignored.
    """
    scale = unit_days(unit)
    ids = np.asarray(customer_ids)
    days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
    values = np.asarray(amounts, dtype=np.float64)
    if not (ids.ndim == days.ndim == values.ndim == 1) or not (
        len(ids) == len(days) == len(values)
    ):
        raise ValueError("customer ids, dates and amounts must be 1-D arrays of the same length")
    if not np.all(np.isfinite(values)):
        raise ValueError("amounts must be finite numbers")
    if len(days) == 0:
        raise ValueError("no transactions")

    last_day = int(days.max())
    cal_end = last_day if calibration_end is None else int(to_day(calibration_end).astype(np.int64))
    obs_end = (
        max(last_day, cal_end)
        if observation_end is None
        else int(to_day(observation_end).astype(np.int64))
    )
    if obs_end < cal_end:
        raise ValueError("the observation end comes before the calibration end")

    keep = days <= obs_end
    if not keep.all():
        ids, days, values = ids[keep], days[keep], values[keep]
    if len(days) == 0:
        raise ValueError("no transactions on or before the observation end")

    # One row per (customer, day): sort on a combined integer key, sum the day's amounts.
    first_day = int(days.min())
    span = obs_end - first_day + 1
    if np.issubdtype(ids.dtype, np.integer) and _fits(ids, span):
        # Integer ids go into the key as they are: one sort instead of two.
        base = int(ids.min())
        key = (ids.astype(np.int64) - base) * span + (days - first_day)
    else:
        labels, codes = np.unique(ids, return_inverse=True)
        base = None
        key = codes.reshape(-1).astype(np.int64) * span + (days - first_day)
    pair_key, pair_of_row = np.unique(key, return_inverse=True)
    pair_value = np.bincount(pair_of_row.reshape(-1), weights=values, minlength=len(pair_key))
    pair_id = pair_key // span
    pair_day = pair_key % span + first_day
    new_customer = np.diff(pair_id, prepend=-1) != 0
    pair_customer = np.cumsum(new_customer) - 1  # 0, 1, ... in the order of the ids
    if base is not None:
        labels = (pair_id[new_customer] + base).astype(ids.dtype)

    # Pairs are sorted by customer, then day: each customer's first pair is the first purchase.
    n_all = len(labels)
    in_cal = pair_day <= cal_end
    cal_customer = pair_customer[in_cal]
    cal_day = pair_day[in_cal]
    cal_value = pair_value[in_cal]
    purchase_days = np.bincount(cal_customer, minlength=n_all)
    known = purchase_days > 0  # first purchase on or before the calibration end
    first_pos = np.flatnonzero(np.diff(cal_customer, prepend=-1))
    last_pos = np.r_[first_pos[1:], len(cal_customer)] - 1 if len(first_pos) else first_pos
    first = cal_day[first_pos]
    last = cal_day[last_pos]
    first_amount = cal_value[first_pos]
    total = np.bincount(cal_customer, weights=cal_value, minlength=n_all)[known]

    x = purchase_days[known] - 1
    repeat_total = total - first_amount
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(x > 0, repeat_total / np.maximum(x, 1), 0.0)
    holdout = np.bincount(pair_customer[~in_cal], minlength=n_all)[known]
    recency_days = (last - first).astype(np.int64)
    age_days = (cal_end - first).astype(np.int64)
    return RfmSummary(
        customer_ids=labels[known],
        frequency=x.astype(np.int64),
        recency=recency_days / scale,
        T=age_days / scale,
        monetary_value=monetary,
        first_value=first_amount,
        holdout_frequency=holdout.astype(np.int64),
        unit=unit,
        calibration_end=np.datetime64(cal_end, "D"),
        observation_end=np.datetime64(obs_end, "D"),
        holdout_duration=(obs_end - cal_end) / scale,
        excluded_customers=int(n_all - np.count_nonzero(known)),
        recency_days=recency_days,
        age_days=age_days,
    )


def _fits(ids: NDArray, span: int) -> bool:
    """Return whether (id - smallest id) * span + day fits a 64-bit key."""
    return (int(ids.max()) - int(ids.min()) + 1) * span < 2**62


def history_patterns(
    summary: RfmSummary,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray, NDArray]:
    """Group customers with the same (frequency, recency, T).

    Returns the distinct ``(x, t_x, T)``, how many customers share each, and for every customer the
    index of its pattern. Summaries built from dated transactions have whole-day times and usually
    collapse a great deal; summaries from arbitrary floats are left as they are (one per customer).
    The grouping is kept on the summary (whose arrays are not to be changed), so fitting and
    scoring the same summary group it once.
    """
    cached = summary.__dict__.get("_patterns")
    if cached is None:
        cached = _group_histories(summary)
        # The dataclass is frozen: the cache goes around its __setattr__.
        object.__setattr__(summary, "_patterns", cached)
    return cached


def _group_histories(
    summary: RfmSummary,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray, NDArray]:
    x = summary.frequency
    n = len(x)
    if summary.recency_days is None or summary.age_days is None or n == 0:
        return x, summary.recency, summary.T, np.ones(n), np.arange(n)
    width = np.int64(summary.age_days.max() + 1)
    key = (x * width + summary.recency_days) * width + summary.age_days
    unique_key, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    age = unique_key % width
    rest = unique_key // width
    rec = rest % width
    freq = rest // width
    scale = unit_days(summary.unit)
    return freq, rec / scale, age / scale, counts.astype(np.float64), inverse.reshape(-1)
