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


def at_bound(log_params: NDArray) -> bool:
    """Return whether any log-parameter sits on (or next to) its bound."""
    return bool(np.any(np.abs(log_params) >= LOG_BOUND - BOUND_MARGIN))


# A fit counts as converged when the gradient of the mean log-likelihood, in the log-parameters,
# is below this after the Newton polish, whatever the optimiser said about its line search.
GRADIENT_TOLERANCE = 1e-6
FD_STEP = 1e-6

Objective = Callable[[NDArray, object], tuple[float, NDArray]]


@dataclass(frozen=True)
class Optimum:
    """Where the optimiser stopped: log-parameters, mean negative log-likelihood and status.

    ``hessian`` is the Hessian of the mean negative log-likelihood in the log-parameters (by
    differences of the analytic gradient), or None if it could not be inverted.
    """

    log_params: NDArray
    value: float
    converged: bool
    at_bound: bool
    message: str
    evaluations: int
    hessian: NDArray | None = None


def _hessian(objective: Objective, log_params: NDArray, gradient: NDArray, data: object) -> NDArray:
    """Return the Hessian by forward differences of the analytic gradient, made symmetric."""
    columns = [
        (objective(log_params + step, data)[1] - gradient) / FD_STEP
        for step in np.eye(len(log_params)) * FD_STEP
    ]
    hessian = np.array(columns)
    return (hessian + hessian.T) / 2


def _polish(
    objective: Objective, log_params: NDArray, data: object
) -> tuple[NDArray, float, NDArray, NDArray | None, int]:
    """Take up to three Newton steps (one Hessian) from where L-BFGS-B stopped.

    L-BFGS-B stops once the rounding noise of a sum over many customers hides any further
    decrease, which can leave the gradient at 1e-7; Newton steps on the analytic gradient do not
    need the decrease to show.
    """
    value, gradient = objective(log_params, data)
    evaluations = 1
    try:
        hessian = _hessian(objective, log_params, gradient, data)
    except FloatingPointError:
        return log_params, float(value), gradient, None, evaluations
    evaluations += len(log_params)
    if not np.all(np.isfinite(hessian)):
        return log_params, float(value), gradient, None, evaluations
    for _ in range(3):
        if np.max(np.abs(gradient)) < 1e-12:
            break
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            return log_params, float(value), gradient, None, evaluations
        if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > 0.1:
            break  # far from a maximum: the optimiser's verdict stands
        trial = np.clip(log_params - step, -LOG_BOUND, LOG_BOUND)
        trial_value, trial_gradient = objective(trial, data)
        evaluations += 1
        if not np.isfinite(trial_value) or trial_value > value + 1e-12 * max(1.0, abs(value)):
            break
        if np.max(np.abs(trial_gradient)) >= np.max(np.abs(gradient)):
            break
        log_params, value, gradient = trial, trial_value, trial_gradient
    return log_params, float(value), gradient, hessian, evaluations


def _lbfgsb(objective: Objective, start: Sequence[float], data: object):
    with np.errstate(all="ignore"):
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
    evaluate) the starts run on it and the full data start from its optimum, which saves most of
    the evaluations over millions of customers. Raises ``ArithmeticError`` when no start gives a
    finite value.
    """
    evaluations = 0
    best = None
    if preliminary is not None:
        rough, evaluations = _best_of(objective, preliminary, starts)
        if rough is not None and _usable(rough) and not at_bound(rough.x):
            best = _lbfgsb(objective, rough.x, data)
            evaluations += int(best.nfev)
            if not _usable(best):
                best = None
    if best is None:
        best, more = _best_of(objective, data, starts)
        evaluations += more
    if best is None:
        raise ArithmeticError("the log-likelihood is not finite at any starting point")
    log_params, value, gradient, hessian, extra = _polish(objective, best.x, data)
    return Optimum(
        log_params=log_params,
        value=value,
        converged=bool(np.max(np.abs(gradient)) < GRADIENT_TOLERANCE),
        at_bound=at_bound(log_params),
        message=str(best.message),
        evaluations=evaluations + extra,
        hessian=hessian,
    )
