"""Maximum-likelihood fitting on the log scale, shared by the purchase and the spend model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

# Bounds on each log-parameter: e^±15 spans 3e-7 to 3e6, far beyond any sensible fit. An estimate
# that ends near one means the data cannot pin the parameter down.
LOG_BOUND = 15.0
BOUND_MARGIN = 1e-3
# A fit counts as converged when the gradient of the mean log-likelihood, in the log-parameters,
# is below this after the Newton steps, whatever the optimiser said about its line search.
GRADIENT_TOLERANCE = 1e-6
FD_STEP = 1e-6  # for the Hessian, by forward differences of the analytic gradient
NEWTON_STEPS = 8
# Above twice this many customers, the starting points run on a sample of this size first.
PRELIMINARY_CUSTOMERS = 50_000

Objective = Callable[[NDArray, object], tuple[float, NDArray]]


def dot(a: NDArray, b: NDArray) -> float:
    """Return the dot product of two vectors, summed by NumPy rather than by BLAS.

    BLAS' ddot wakes its thread pool for long vectors; between the optimiser's steps the threads
    fall asleep again, and on a small, busy machine waking them costs more than the sum itself
    (3 ms against 0.15 ms for half a million terms).
    """
    return float(np.einsum("i,i->", a, b))


def at_bound(log_params: NDArray) -> bool:
    """Return whether any log-parameter sits on (or next to) its bound."""
    return bool(np.any(np.abs(log_params) >= LOG_BOUND - BOUND_MARGIN))


@dataclass(frozen=True)
class Optimum:
    """Where the optimiser stopped: log-parameters, mean negative log-likelihood and status.

    ``hessian`` is the Hessian of the mean negative log-likelihood in the log-parameters (by
    differences of the analytic gradient), or None where it could not be computed.
    """

    log_params: NDArray
    value: float
    converged: bool
    at_bound: bool
    message: str
    evaluations: int
    hessian: NDArray | None = None


def sample_weights(weights: NDArray) -> NDArray | None:
    """Return the weights of a random sample of about ``PRELIMINARY_CUSTOMERS`` customers.

    ``weights`` counts the customers behind each row; the sample thins every row binomially, with
    a fixed seed so that a fit is reproducible. Returns None when the data are small already.
    """
    total = float(weights.sum())
    if total <= 2 * PRELIMINARY_CUSTOMERS:
        return None
    rng = np.random.default_rng(20050101)
    counts = np.maximum(np.round(weights), 1).astype(np.int64)
    return rng.binomial(counts, PRELIMINARY_CUSTOMERS / total).astype(np.float64)


def standard_errors(optimum: Optimum, params: NDArray, customers: float) -> NDArray | None:
    """Return the parameters' standard errors from the Hessian (None if it is not invertible)."""
    if optimum.hessian is None:
        return None
    try:
        covariance = np.linalg.inv(optimum.hessian * customers)
    except np.linalg.LinAlgError:
        return None
    variances = np.diag(covariance)
    if not np.all(np.isfinite(variances)) or np.any(variances < 0):
        return None
    return params * np.sqrt(variances)


def _hessian(objective: Objective, log_params: NDArray, gradient: NDArray, data: object) -> NDArray:
    """Return the Hessian by forward differences of the analytic gradient, made symmetric."""
    columns = [
        (objective(log_params + step, data)[1] - gradient) / FD_STEP
        for step in np.eye(len(log_params)) * FD_STEP
    ]
    hessian = np.array(columns)
    return (hessian + hessian.T) / 2


def _newton(
    objective: Objective, log_params: NDArray, data: object
) -> tuple[NDArray, float, NDArray, NDArray | None, int]:
    """Take Newton steps on the analytic gradient, the Hessian by differences of the gradient.

    Used after L-BFGS-B, which stops once the rounding noise of a sum over many customers hides
    any further decrease (leaving the gradient near 1e-7), and from a sample's optimum. The
    Hessian is taken again only when a step shrinks the gradient less than tenfold. Stops
    at the first step that does not shrink the gradient.
    """
    value, gradient = objective(log_params, data)
    evaluations = 1
    hessian = None
    for _ in range(NEWTON_STEPS):
        if not np.isfinite(value) or np.max(np.abs(gradient)) < 1e-12:
            break
        if hessian is None:
            hessian = _hessian(objective, log_params, gradient, data)
            evaluations += len(log_params)
            if not np.all(np.isfinite(hessian)):
                return log_params, float(value), gradient, None, evaluations
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            return log_params, float(value), gradient, None, evaluations
        if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > 1.0:
            break  # far from a maximum, or not at one
        trial = np.clip(log_params - step, -LOG_BOUND, LOG_BOUND)
        trial_value, trial_gradient = objective(trial, data)
        evaluations += 1
        if not np.isfinite(trial_value) or trial_value > value + 1e-12 * max(1.0, abs(value)):
            break
        shrink = np.max(np.abs(trial_gradient)) / np.max(np.abs(gradient))
        if shrink >= 1.0:
            break
        if shrink > 0.1:
            hessian = None  # slow progress: the Hessian was taken too far away
        log_params, value, gradient = trial, trial_value, trial_gradient
    if hessian is None and np.isfinite(value):
        hessian = _hessian(objective, log_params, gradient, data)
        evaluations += len(log_params)
    return log_params, float(value), gradient, hessian, evaluations


def _lbfgsb(objective: Objective, start: Sequence[float], data: object):
    return minimize(
        objective,
        np.asarray(start, dtype=np.float64),
        args=(data,),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * len(start),
        options={"ftol": 1e-13, "gtol": 1e-8, "maxiter": 2000},
    )


def _usable(result) -> bool:
    """Return whether an L-BFGS-B result converged, or stopped only for rounding noise."""
    return bool(np.isfinite(result.fun)) and (
        bool(result.success) or bool(np.max(np.abs(result.jac)) < GRADIENT_TOLERANCE)
    )


def _best_of(objective: Objective, data: object, starts: Sequence[Sequence[float]]):
    """Run the starts in order until one is usable and off the bounds; return the best."""
    best = None
    evaluations = 0
    for start in starts:
        result = _lbfgsb(objective, start, data)
        evaluations += int(result.nfev)
        if np.isfinite(result.fun) and (best is None or result.fun < best.fun):
            best = result
        if best is not None and _usable(best) and not at_bound(best.x):
            break
    return best, evaluations


def minimize_log_params(
    objective: Objective,
    data: object,
    starts: Sequence[Sequence[float]],
    *,
    preliminary: object | None = None,
) -> Optimum:
    """Minimise ``objective(log_params, data)`` (value and gradient) with L-BFGS-B, then Newton.

    The starting points are tried in order; the next one only when the best so far has not
    converged or sits on a bound. With ``preliminary`` data (a sample of the customers, cheap to
    evaluate) the starts run on the sample, and Newton steps on the full data go from there: a
    handful of evaluations over millions of customers instead of dozens. If they do not converge,
    the starts run on the full data. Raises ``ArithmeticError`` when no start gives a finite value.
    """
    with np.errstate(all="ignore"):
        return _minimize(objective, data, starts, preliminary)


def _minimize(
    objective: Objective,
    data: object,
    starts: Sequence[Sequence[float]],
    preliminary: object | None,
) -> Optimum:
    evaluations = 0
    if preliminary is not None:
        rough, evaluations = _best_of(objective, preliminary, starts)
        if rough is not None and _usable(rough) and not at_bound(rough.x):
            log_params, value, gradient, hessian, more = _newton(objective, rough.x, data)
            evaluations += more
            if np.max(np.abs(gradient)) < GRADIENT_TOLERANCE:
                return Optimum(
                    log_params=log_params,
                    value=value,
                    converged=True,
                    at_bound=at_bound(log_params),
                    message="Newton steps from the optimum of a sample",
                    evaluations=evaluations,
                    hessian=hessian,
                )
    best, more = _best_of(objective, data, starts)
    evaluations += more
    if best is None:
        raise ArithmeticError("the log-likelihood is not finite at any starting point")
    log_params, value, gradient, hessian, more = _newton(objective, best.x, data)
    return Optimum(
        log_params=log_params,
        value=value,
        converged=bool(np.max(np.abs(gradient)) < GRADIENT_TOLERANCE),
        at_bound=at_bound(log_params),
        message=str(best.message),
        evaluations=evaluations + more,
        hessian=hessian,
    )
