"""BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While alive, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after every purchase
they drop out with probability p ~ Beta(a, b). The four parameters are fitted by maximum likelihood
on (x, t_x, T) per customer, with the analytic gradient. Customers with identical histories are
grouped (weights), terms of the frequency alone are evaluated once per distinct frequency, and a
large shop starts from the optimum of a sample, so a million customers cost a handful of passes
over their distinct histories.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, expit, gammaln, hyp2f1

from kinfolk.clv.mle import dot, minimize_log_params, sample_weights, standard_errors

NAMES = ("r", "alpha", "a", "b")
# Starting points on the log scale, with time rescaled so that the longest T is 10 units.
STARTS = (
    (0.0, 0.0, 0.0, 0.0),
    (np.log(0.5), np.log(2.0), np.log(0.5), np.log(2.0)),
    (np.log(2.0), np.log(10.0), np.log(2.0), np.log(8.0)),
)


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters: purchase rate λ ~ Gamma(shape r, rate α), dropout p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class BgNbdFit:
    """A maximum-likelihood fit: parameters, total log-likelihood and how the optimiser ended."""

    params: BgNbdParams
    loglik: float
    customers: int
    converged: bool
    at_bound: bool
    message: str
    evaluations: int
    standard_errors: dict[str, float] | None = None


class _Data:
    """Distinct histories, their weights, and the split by zero / positive frequency."""

    def __init__(self, x: NDArray, t_x: NDArray, T: NDArray, weights: NDArray) -> None:
        self.xs, x_index = np.unique(x, return_inverse=True)
        x_index = x_index.reshape(-1)
        self.x_weight = np.bincount(x_index, weights=weights, minlength=len(self.xs))
        self.total = float(weights.sum())
        zero = x == 0
        self.zero_T = T[zero]
        self.zero_w = weights[zero]
        pos = ~zero
        self.x_index = x_index[pos].astype(np.intp)  # into xs, for the terms of x alone
        self.t_x = t_x[pos]
        self.T = T[pos]
        self.w = weights[pos]
        self.wx = self.w * x[pos]


def _negative_loglik(log_params: NDArray, data: _Data) -> tuple[float, NDArray]:
    """Return the mean negative log-likelihood and its gradient in the log-parameters."""
    r, alpha, a, b = np.exp(log_params)
    xs, n_x = data.xs, data.x_weight
    # Terms that depend on the frequency alone: A1 and A2 of Fader, Hardie & Lee (2005), eq. 6.
    ll = dot(n_x, gammaln(r + xs) + gammaln(b + xs) - gammaln(a + b + xs)) + data.total * (
        r * np.log(alpha) - gammaln(r) + gammaln(a + b) - gammaln(b)
    )
    psi_rx = digamma(r + xs)
    psi_abx = digamma(a + b + xs)
    d_r = dot(n_x, psi_rx) + data.total * (np.log(alpha) - digamma(r))
    d_alpha = data.total * r / alpha
    d_a = data.total * digamma(a + b) - dot(n_x, psi_abx)
    d_b = data.total * (digamma(a + b) - digamma(b)) + dot(n_x, digamma(b + xs) - psi_abx)

    # Customers without repeat purchases: only A3 = (α + T)^-(r + x).
    log_zero = np.log(alpha + data.zero_T)
    ll -= r * dot(data.zero_w, log_zero)
    d_r -= dot(data.zero_w, log_zero)
    d_alpha -= r * dot(data.zero_w, 1.0 / (alpha + data.zero_T))

    # Repeat buyers: log(A3 + A4) with A3 = (α + T)^-(r + x), A4 = a / (b + x - 1) (α + t_x)^-(r + x),
    # written as log A3 + softplus(d), d = log A4 - log A3, to take one exp and one log1p.
    w, wx, index = data.w, data.wx, data.x_index
    inv_T = 1.0 / (alpha + data.T)
    inv_tx = 1.0 / (alpha + data.t_x)
    log_T = np.log(alpha + data.T)
    gap = np.log(alpha + data.t_x)
    np.subtract(log_T, gap, out=gap)  # log(α + T) - log(α + t_x) >= 0
    b_x = b + xs - 1.0
    d = (np.log(a) - np.log(np.where(b_x > 0, b_x, 1.0)))[index]
    d += (r + xs)[index] * gap
    small = np.exp(-np.abs(d))
    softplus = np.log1p(small)
    softplus += np.maximum(d, 0.0)
    share4 = np.where(d >= 0.0, 1.0, small)  # A4 / (A3 + A4)
    share4 /= 1.0 + small
    w_log_T = dot(w, log_T)
    ll += dot(w, softplus) - r * w_log_T - dot(wx, log_T)
    w_share4 = w * share4
    d_r -= w_log_T - dot(w_share4, gap)
    mix = inv_tx - inv_T
    mix *= share4
    mix += inv_T  # share3 / (α + T) + share4 / (α + t_x)
    d_alpha -= r * dot(w, mix) + dot(wx, mix)
    d_a += w_share4.sum() / a
    share4_by_x = np.bincount(index, weights=w_share4, minlength=len(xs))
    d_b -= dot(share4_by_x, 1.0 / np.where(b_x > 0, b_x, 1.0))

    grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return -ll / data.total, -grad / data.total


def loglik_terms(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> NDArray:
    """Return each customer's BG/NBD log-likelihood (eq. 6 of Fader, Hardie & Lee 2005)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=np.float64)
    t_x = np.asarray(t_x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    log_a3 = -(r + x) * np.log(alpha + T)
    log_a4 = np.log(a) - np.log(b + np.maximum(x, 1.0) - 1.0) - (r + x) * np.log(alpha + t_x)
    return a1 + a2 + np.where(x > 0, np.logaddexp(log_a3, log_a4), log_a3)


def loglik(
    params: BgNbdParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Return the total BG/NBD log-likelihood of the customers (weighted by ``weights``)."""
    terms = loglik_terms(params, x, t_x, T)
    return float(
        terms.sum() if weights is None else dot(np.asarray(weights, dtype=np.float64), terms)
    )


def fit_bgnbd(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> BgNbdFit:
    """Fit BG/NBD by maximum likelihood (L-BFGS-B then Newton, on the log-parameters).

    ``weights`` counts the customers sharing each history. Time is rescaled for the optimiser (the
    longest T becomes 10 units) and α scaled back. Further starting points are tried only when the
    first start does not converge or ends on a bound; over more than 100,000 customers they run on
    a sample first (see :func:`kinfolk.clv.mle.minimize_log_params`).
    """
    x = np.asarray(x, dtype=np.int64)
    t_x = np.asarray(t_x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(x) == 0 or w.sum() <= 0:
        raise ValueError("no customers to fit")
    longest = float(T.max())
    scale = 10.0 / longest if longest > 0 else 1.0
    data = _Data(x, t_x * scale, T * scale, w)
    preliminary = None
    sample = sample_weights(w)
    if sample is not None:
        keep = sample > 0
        preliminary = _Data(x[keep], t_x[keep] * scale, T[keep] * scale, sample[keep])

    best = minimize_log_params(_negative_loglik, data, STARTS, preliminary=preliminary)
    r, alpha, a, b = np.exp(best.log_params)
    params = BgNbdParams(r=float(r), alpha=float(alpha / scale), a=float(a), b=float(b))
    errors = standard_errors(best, np.array([r, alpha / scale, a, b]), data.total)
    # Rescaling time by s multiplies each customer's likelihood by s^x: undo it.
    total_loglik = -best.value * data.total + np.log(scale) * dot(w, x.astype(np.float64))
    return BgNbdFit(
        params=params,
        loglik=float(total_loglik),
        customers=round(data.total),
        converged=best.converged,
        at_bound=best.at_bound,
        message=best.message,
        evaluations=best.evaluations,
        standard_errors=None
        if errors is None
        else dict(zip(NAMES, map(float, errors), strict=True)),
    )


# --- per customer -----------------------------------------------------------------------------


def probability_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> NDArray:
    """Return P(alive | x, t_x, T); 1 for customers without repeat purchases, as the model has it.

    A customer can only drop out right after a purchase, so one who never bought again is alive.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=np.float64)
    log_odds_dead = (r + x) * (np.log(alpha + np.asarray(T)) - np.log(alpha + np.asarray(t_x)))
    log_odds_dead += np.log(a) - np.log(b + np.maximum(x, 1.0) - 1.0)
    return np.where(x > 0, expit(-log_odds_dead), 1.0)


def purchases_if_alive(params: BgNbdParams, t: ArrayLike, x: ArrayLike, T: ArrayLike) -> NDArray:
    """Return the expected purchases in (T, T + t] of a customer alive at T, by x and T.

    Multiplied by :func:`probability_alive` this is eq. 10 of Fader, Hardie & Lee (2005). Euler's
    transformation turns its 2F1(r + x, b + x; a + b + x - 1; z) into (1 - z)^(a - 1 - r - x) times
    2F1(a + b - 1 - r, a - 1; a + b + x - 1; z), whose upper parameters do not grow with x: the
    series stays short and never overflows for frequent buyers.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1.0) < 1e-7:
        # (a + b + x - 1) / (a - 1) times a bracket that vanishes with a - 1: the limit is smooth.
        a = 1.0 + np.copysign(1e-7, a - 1.0)
    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    c = a + b + x - 1.0
    log_keep = np.log(alpha + T) - np.log(alpha + T + t)  # log(1 - z)
    z = -np.expm1(log_keep)
    hyp = hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
    # 1 - (1 - z)^(a - 1) hyp, written so that it keeps its precision when t is short.
    bracket = -(np.expm1((a - 1.0) * log_keep) * hyp + (hyp - 1.0))
    return c / (a - 1.0) * bracket


def expected_purchases(
    params: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> NDArray:
    """Return the expected purchases in the next ``t`` time units given (x, t_x, T) (eq. 10)."""
    return probability_alive(params, x, t_x, T) * purchases_if_alive(params, t, x, T)


def expected_purchases_new(params: BgNbdParams, t: ArrayLike) -> NDArray:
    """Return E[X(t)], the expected repeat purchases of a new customer in ``t`` units (eq. 9)."""
    t = np.asarray(t, dtype=np.float64)
    return purchases_if_alive(params, t, np.zeros_like(t), np.zeros_like(t))
