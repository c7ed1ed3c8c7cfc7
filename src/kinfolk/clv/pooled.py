"""The estimate used when a shop's history is too thin for the BG/NBD or Gamma-Gamma fit.

Purchases: the shop's repeat purchase rate λ̄ = Σ x / Σ T (repeat purchase days per unit of time,
over all customers), and for each customer a rate pulled toward it,

    λ_i = (x_i + K λ̄) / (T_i + K),    K = the mean T,

so the shop's average weighs as much as one typical customer's own history (the posterior mean of a
Poisson rate under a Gamma prior centred on the shop's rate). Expected purchases in t units are
λ_i t: nobody is assumed to have left, so the probability of being alive is not estimated (NaN).

Spend: the shop's mean repeat purchase value m̄ (the mean first purchase value when nobody bought
twice), and for each customer (x_i m_i + m̄) / (x_i + 1), their own mean with the shop's mean
counted as one more purchase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kinfolk.clv.transactions import RfmSummary


@dataclass(frozen=True)
class PooledEstimate:
    """Shop-wide averages the per-customer estimates are pulled toward."""

    rate: float  # repeat purchase days per customer per time unit
    weight: float  # K, in time units
    spend: float  # mean value of one purchase day

    def as_dict(self) -> dict[str, float]:
        return {"rate": self.rate, "weight": self.weight, "spend": self.spend}


def pooled_estimate(summary: RfmSummary) -> PooledEstimate:
    """Return the shop-wide purchase rate and spend of ``summary``."""
    x = summary.frequency.astype(np.float64)
    exposure = float(summary.T.sum())
    rate = float(x.sum()) / exposure if exposure > 0 else 0.0
    weight = float(summary.T.mean()) if len(x) else 0.0
    repeat_value = float(np.einsum("i,i->", x, summary.monetary_value))
    if x.sum() > 0:
        spend = repeat_value / float(x.sum())
    else:
        first = summary.first_value[np.isfinite(summary.first_value)]
        spend = float(first.mean()) if len(first) else 0.0
    return PooledEstimate(rate=rate, weight=weight if weight > 0 else 1.0, spend=spend)


def pooled_rates(estimate: PooledEstimate, summary: RfmSummary) -> NDArray[np.float64]:
    """Return each customer's repeat purchase rate, shrunk toward the shop's rate."""
    return (summary.frequency + estimate.weight * estimate.rate) / (summary.T + estimate.weight)


def pooled_spend(estimate: PooledEstimate, summary: RfmSummary) -> NDArray[np.float64]:
    """Return each customer's expected value per purchase, shrunk toward the shop's mean."""
    x = summary.frequency.astype(np.float64)
    return (x * summary.monetary_value + estimate.spend) / (x + 1.0)
