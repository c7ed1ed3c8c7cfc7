"""Calibration against holdout: the purchases the model expected after the calibration end, and
the purchases that came, grouped by the number of repeat purchases in the calibration period (the
check of Fader, Hardie & Lee 2005, figure 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kinfolk.clv.model import ClvFit
from kinfolk.clv.transactions import RfmSummary
from kinfolk.clv.value import expected_holdout_purchases


@dataclass(frozen=True)
class HoldoutGroup:
    """Customers with ``frequency`` repeat purchases in calibration (``or_more``: at least that)."""

    frequency: int
    or_more: bool
    customers: int
    actual: float  # mean purchases per customer in the holdout period
    predicted: float


@dataclass(frozen=True)
class HoldoutComparison:
    """Predicted against actual holdout purchases, overall and by calibration frequency."""

    duration: float  # in the summary's time unit
    unit: str
    customers: int
    actual_total: int
    predicted_total: float
    groups: tuple[HoldoutGroup, ...]

    def as_dict(self) -> dict:
        return {
            "duration": self.duration,
            "unit": self.unit,
            "customers": self.customers,
            "actual": self.actual_total,
            "predicted": self.predicted_total,
            "groups": [group.__dict__ for group in self.groups],
        }


def holdout_comparison(
    fit: ClvFit, summary: RfmSummary, *, max_frequency: int = 7
) -> HoldoutComparison:
    """Compare expected with actual holdout purchases; frequencies from ``max_frequency`` pooled."""
    predicted = expected_holdout_purchases(fit, summary)
    actual = summary.holdout_frequency
    group_of = np.minimum(summary.frequency, max_frequency)
    counts = np.bincount(group_of, minlength=max_frequency + 1)
    actual_sum = np.bincount(group_of, weights=actual, minlength=max_frequency + 1)
    predicted_sum = np.bincount(group_of, weights=predicted, minlength=max_frequency + 1)
    groups = tuple(
        HoldoutGroup(
            frequency=k,
            or_more=k == max_frequency,
            customers=int(counts[k]),
            actual=float(actual_sum[k] / counts[k]),
            predicted=float(predicted_sum[k] / counts[k]),
        )
        for k in range(max_frequency + 1)
        if counts[k]
    )
    return HoldoutComparison(
        duration=summary.holdout_duration,
        unit=summary.unit,
        customers=len(summary),
        actual_total=int(actual.sum()),
        predicted_total=float(predicted.sum()),
        groups=groups,
    )
