"""RFM quintile scores and named segments, in NumPy (no queries here).

Inputs per purchasing customer: recency (whole days since the last paid order), frequency (paid
orders) and monetary value (total paid). Customers without a paid order get no scores at all.

**Scores** are quintiles within the shop, 5 the best (most recent, most orders, most spent). A
customer's score comes from the mid-rank of their value: with ``below`` customers strictly worse
and ``tied`` customers (themselves included) equal, ``p = (below + tied / 2) / n`` and the score is
``ceil(5 p)``. So equal values always share a score, the scores follow the values' order, ten
distinct values give two customers per score, a single customer (or a whole shop of equal values)
sits in the middle (3), and the result depends on the values alone, never on row order.

**Segments** follow the widely used R × FM grid, with FM = (F + M) / 2 rounded half up:

::

    R \\ FM  1               2                   3                   4           5
    5        new             potential loyalist  potential loyalist  champions   champions
    4        promising       potential loyalist  potential loyalist  loyal       loyal
    3        about to sleep  about to sleep      need attention      loyal       loyal
    2        hibernating     hibernating         at risk             at risk     can't lose
    1        lost            hibernating         at risk             at risk     can't lose

That is: recent and valuable fans are champions; valuable ones who have not come for a while are
at risk, and the most valuable of those can't be lost; recent ones with one small order are new;
the middle of both scales needs attention; old and small is hibernating, and the oldest and
smallest is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kinfolk.crm.models import Segment


def quintile_scores(values: np.ndarray) -> np.ndarray:
    """Return a score 1–5 per value, higher values scoring higher; equal values score alike."""
    values = np.asarray(values)
    n = values.size
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    ordered = np.sort(values, kind="stable")
    below = np.searchsorted(ordered, values, side="left").astype(np.int64)
    up_to = np.searchsorted(ordered, values, side="right").astype(np.int64)
    # ceil(5 p) with p = (below + up_to) / 2n, in integers so that no rounding decides a tie.
    scores = -(-(5 * (below + up_to)) // (2 * n))
    return np.clip(scores, 1, 5).astype(np.int8)


def fm_score(frequency_score: np.ndarray, monetary_score: np.ndarray) -> np.ndarray:
    """Return the combined FM score: the mean of F and M rounded half up."""
    return (np.asarray(frequency_score, dtype=np.int64) + monetary_score + 1) // 2


# SEGMENT_GRID[r - 1][fm - 1]: the grid of the module docstring.
SEGMENT_GRID: tuple[tuple[str, ...], ...] = (
    (Segment.LOST, Segment.HIBERNATING, Segment.AT_RISK, Segment.AT_RISK, Segment.CANT_LOSE),
    (
        Segment.HIBERNATING,
        Segment.HIBERNATING,
        Segment.AT_RISK,
        Segment.AT_RISK,
        Segment.CANT_LOSE,
    ),
    (
        Segment.ABOUT_TO_SLEEP,
        Segment.ABOUT_TO_SLEEP,
        Segment.NEED_ATTENTION,
        Segment.LOYAL,
        Segment.LOYAL,
    ),
    (
        Segment.PROMISING,
        Segment.POTENTIAL_LOYALIST,
        Segment.POTENTIAL_LOYALIST,
        Segment.LOYAL,
        Segment.LOYAL,
    ),
    (
        Segment.NEW,
        Segment.POTENTIAL_LOYALIST,
        Segment.POTENTIAL_LOYALIST,
        Segment.CHAMPIONS,
        Segment.CHAMPIONS,
    ),
)


def segment_for(recency_score: int, frequency_score: int, monetary_score: int) -> str:
    """Return the segment of one customer's three scores."""
    fm = (frequency_score + monetary_score + 1) // 2
    return SEGMENT_GRID[recency_score - 1][fm - 1]


@dataclass(frozen=True)
class RfmScores:
    """Scores and segments, aligned with the inputs."""

    recency: np.ndarray
    frequency: np.ndarray
    monetary: np.ndarray
    segments: list[str]


def score(recency_days: np.ndarray, frequency: np.ndarray, monetary: np.ndarray) -> RfmScores:
    """Return the RFM scores and segments of a shop's purchasing customers."""
    r = quintile_scores(-np.asarray(recency_days, dtype=np.int64))
    f = quintile_scores(np.asarray(frequency, dtype=np.int64))
    m = quintile_scores(np.asarray(monetary, dtype=np.int64))
    fm = fm_score(f, m)
    grid = np.array(SEGMENT_GRID, dtype=object)
    segments = grid[r - 1, fm - 1].tolist() if r.size else []
    return RfmScores(recency=r, frequency=f, monetary=m, segments=[str(s) for s in segments])
