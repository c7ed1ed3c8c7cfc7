"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie's note 025).

Each purchase of a customer is worth z ~ Gamma(p, ν), with the customer's ν ~ Gamma(q, γ) across
customers. Fitted by maximum likelihood on the observed mean m_x of the x repeat purchases of every
customer with x > 0. Sums that do not change with the parameters are taken once, so an evaluation
costs one logarithm per customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from kinfolk.clv.mle import dot, minimize_log_params, sample_weights, standard_errors

NAMES = ("p", "q", "gamma")
# Log-scale starting points, with the spend rescaled so that its mean is 1.
STARTS = (
    (0.0, 0.0, 0.0),
    (np.log(5.0), np.log(3.0), np.log(2.0)),
    (np.log(1.5), np.log(10.0), 2.0),
)


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: spend per purchase ~ Gamma(p, ν), ν ~ Gamma(shape q, rate γ)."""

    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def mean_spend(self) -> float:
        """Return the population's mean spend per purchase, p γ / (q - 1) (infinite if q <= 1)."""
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1.0 else float("inf")


@dataclass(frozen=True)
class GammaGammaFit:
    """A maximum-likelihood fit: parameters, total log-likelihood and how the optimiser ended."""

    params: GammaGammaParams
    loglik: float
    customers: int
    converged: bool
    at_bound: bool
    message: str
    evaluations: int
    standard_errors: dict[str, float] | None = None


class _Data:
    def __init__(self, x: NDArray, m: NDArray) -> None:
        self.xs, x_index = np.unique(x, return_inverse=True)
        self.x_count = np.bincount(x_index.reshape(-1), minlength=len(self.xs)).astype(np.float64)
        self.n = float(len(x))
        self.x = x
        self.m = m
        log_m = np.log(m)
        log_x = np.log(x)
        self.sum_x_log_mx = dot(x, log_m + log_x)  # Σ x (log m + log x)
        self.sum_log_m = float(log_m.sum())


def _negative_loglik(log_params: NDArray, data: _Data) -> tuple[float, NDArray]:
    """Return the mean negative log-likelihood and its gradient in the log-parameters."""
    p, q, gamma = np.exp(log_params)
    xs, n_x, x, m = data.xs, data.x_count, data.x, data.m
    px = p * xs
    spend = gamma + m * x
    log_spend = np.log(spend)
    ll = (
        dot(n_x, gammaln(px + q) - gammaln(px))
        + data.n * (q * np.log(gamma) - gammaln(q))
        + p * data.sum_x_log_mx
        - data.sum_log_m
        - p * dot(x, log_spend)
        - q * log_spend.sum()
    )
    psi = digamma(px + q)
    d_p = dot(n_x * xs, psi - digamma(px)) + data.sum_x_log_mx - dot(x, log_spend)
    d_q = dot(n_x, psi) + data.n * (np.log(gamma) - digamma(q)) - log_spend.sum()
    inverse = 1.0 / spend
    d_gamma = data.n * q / gamma - p * dot(x, inverse) - q * inverse.sum()
    grad = np.array([d_p * p, d_q * q, d_gamma * gamma])
    return -ll / data.n, -grad / data.n


def loglik_terms(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> NDArray:
    """Return each customer's log-density of its mean spend ``m`` over ``x`` repeat purchases."""
    p, q, gamma = params.p, params.q, params.gamma
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )


def loglik(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> float:
    """Return the total Gamma-Gamma log-likelihood."""
    return float(loglik_terms(params, x, m).sum())


def spend_sample(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[NDArray, NDArray]:
    """Return the (x, m) the model is fitted on: customers with repeat purchases of positive value."""
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    return x[keep], m[keep]


def fit_gammagamma(frequency: ArrayLike, monetary_value: ArrayLike) -> GammaGammaFit:
    """Fit Gamma-Gamma by maximum likelihood on customers with repeat purchases of positive value.

    Spend is rescaled for the optimiser (mean 1) and γ scaled back, so the fit behaves the same in
    won as in dollars.
    """
    x, m = spend_sample(frequency, monetary_value)
    if len(x) == 0:
        raise ValueError("no customer with repeat purchases of positive value")
    scale = float(m.mean())
    preliminary = None
    sample = sample_weights(np.ones(len(x)))
    if sample is not None:
        keep = sample > 0
        preliminary = _Data(x[keep], m[keep] / scale)
    best = minimize_log_params(
        _negative_loglik, _Data(x, m / scale), STARTS, preliminary=preliminary
    )
    p, q, gamma = np.exp(best.log_params)
    params = GammaGammaParams(p=float(p), q=float(q), gamma=float(gamma * scale))
    errors = standard_errors(best, np.array([p, q, gamma * scale]), len(x))
    return GammaGammaFit(
        params=params,
        # Dividing the spend by s multiplies each density by s: undo it.
        loglik=float(-best.value * len(x) - len(x) * np.log(scale)),
        customers=len(x),
        converged=best.converged,
        at_bound=best.at_bound,
        message=best.message,
        evaluations=best.evaluations,
        standard_errors=None
        if errors is None
        else dict(zip(NAMES, map(float, errors), strict=True)),
    )


def expected_spend(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> NDArray:
    """Return E[spend per purchase | x, m_x] = p (γ + x m_x) / (p x + q - 1).

    A weighted mean of the population mean p γ / (q - 1) and the customer's own mean; customers
    without repeat purchases get the population mean.
    """
    p, q, gamma = params.p, params.q, params.gamma
    x = np.asarray(frequency, dtype=np.float64)
    m = np.where(x > 0, np.asarray(monetary_value, dtype=np.float64), 0.0)
    return p * (gamma + x * m) / (p * x + q - 1.0)
