"""Per-customer scores: probability alive, expected purchases and spend, and lifetime value.

Lifetime value follows ``lifetimes``' ``customer_lifetime_value``: over ``months`` months,

    CLV = Σ_i  spend × (E[purchases by month i] − E[purchases by month i − 1]) / (1 + d)^i

with d the monthly discount rate. Under BG/NBD the expected purchases of a customer factor into
P(alive | x, t_x, T) times a term of (x, T) and the horizon alone, so the hypergeometric functions
are evaluated once per distinct (x, T), not once per customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kinfolk.clv.bgnbd import BgNbdParams, probability_alive, purchases_if_alive
from kinfolk.clv.gammagamma import expected_spend
from kinfolk.clv.model import ClvFit
from kinfolk.clv.pooled import pooled_rates, pooled_spend
from kinfolk.clv.transactions import RfmSummary, history_patterns, unit_days

HORIZON_DAYS = (90, 365)
MONTH_DAYS = 365.25 / 12


@dataclass(frozen=True, eq=False)
class ClvScores:
    """One entry per customer of the summary, in its order.

    ``p_alive`` is NaN when the pooled estimate stands in for BG/NBD (it assumes nobody left).
    ``expected_spend`` is the expected value of one purchase; ``clv`` the discounted value of the
    purchases expected over the horizon.
    """

    customer_ids: NDArray
    p_alive: NDArray[np.float64]
    purchases_90d: NDArray[np.float64]
    purchases_365d: NDArray[np.float64]
    expected_spend: NDArray[np.float64]
    clv: NDArray[np.float64]
    purchases_model: str
    spend_model: str


def _distinct_x_T(x: NDArray, T: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """Return the distinct (x, T) pairs and, for every entry, the index of its pair."""
    T_values, T_index = np.unique(T, return_inverse=True)
    key = x.astype(np.int64) * len(T_values) + T_index.reshape(-1)
    unique_key, inverse = np.unique(key, return_inverse=True)
    return unique_key // len(T_values), T_values[unique_key % len(T_values)], inverse.reshape(-1)


def discount_factors(months: int, discount_rate: float) -> NDArray[np.float64]:
    """Return 1 / (1 + d)^i for the months i = 1..months."""
    return 1.0 / (1.0 + discount_rate) ** np.arange(1, months + 1)


def bgnbd_outlook(
    params: BgNbdParams,
    summary: RfmSummary,
    horizons: NDArray,
    month: float,
    discounts: NDArray,
) -> tuple[NDArray, NDArray, NDArray]:
    """Return per customer P(alive), expected purchases at each horizon, discounted purchases."""
    x, t_x, T, _, pattern = history_patterns(summary)
    alive = probability_alive(params, x, t_x, T)
    pair_x, pair_T, pair = _distinct_x_T(x, T)
    # Cumulative purchases if alive, per distinct (x, T): the horizons, then the month ends.
    times = np.concatenate([horizons, month * np.arange(1, len(discounts) + 1)])
    cumulative = purchases_if_alive(params, times[None, :], pair_x[:, None], pair_T[:, None])
    by_horizon = cumulative[:, : len(horizons)]
    by_month = cumulative[:, len(horizons) :]
    monthly = np.diff(by_month, axis=1, prepend=0.0)
    discounted = np.einsum("ij,j->i", monthly, discounts)
    per_pattern_horizon = alive[:, None] * by_horizon[pair]
    per_pattern_discounted = alive * discounted[pair]
    return alive[pattern], per_pattern_horizon[pattern], per_pattern_discounted[pattern]


def score(
    fit: ClvFit,
    summary: RfmSummary,
    *,
    discount_rate: float = 0.01,
    months: int = 12,
    month_length: float | None = None,
) -> ClvScores:
    """Score every customer of ``summary`` with ``fit``.

    ``discount_rate`` is monthly; ``month_length`` is in the summary's time unit (365.25 / 12 days
    by default; ``lifetimes`` uses 4.345 weeks).
    """
    if summary.unit != fit.unit:
        raise ValueError(f"the fit is in {fit.unit}s but the summary in {summary.unit}s")
    if months < 0 or discount_rate <= -1:
        raise ValueError("need months >= 0 and a discount rate above -100%")
    days = unit_days(summary.unit)
    horizons = np.array(HORIZON_DAYS, dtype=np.float64) / days
    month = MONTH_DAYS / days if month_length is None else float(month_length)
    discounts = discount_factors(months, discount_rate)

    if fit.bgnbd is not None:
        alive, ahead, discounted = bgnbd_outlook(
            fit.bgnbd.params, summary, horizons, month, discounts
        )
    else:
        rates = pooled_rates(fit.pooled, summary)
        alive = np.full(len(summary), np.nan)
        ahead = rates[:, None] * horizons[None, :]
        discounted = rates * month * discounts.sum()

    if fit.gammagamma is not None:
        spend = expected_spend(fit.gammagamma.params, summary.frequency, summary.monetary_value)
    else:
        spend = pooled_spend(fit.pooled, summary)

    return ClvScores(
        customer_ids=summary.customer_ids,
        p_alive=alive,
        purchases_90d=ahead[:, 0],
        purchases_365d=ahead[:, 1],
        expected_spend=spend,
        clv=spend * discounted,
        purchases_model=fit.purchases_model,
        spend_model=fit.spend_model,
    )


def expected_holdout_purchases(fit: ClvFit, summary: RfmSummary) -> NDArray[np.float64]:
    """Return each customer's expected purchases over the summary's holdout period."""
    duration = summary.holdout_duration
    if fit.bgnbd is None:
        return pooled_rates(fit.pooled, summary) * duration
    x, t_x, T, _, pattern = history_patterns(summary)
    params = fit.bgnbd.params
    per_pattern = probability_alive(params, x, t_x, T) * purchases_if_alive(params, duration, x, T)
    return per_pattern[pattern]
