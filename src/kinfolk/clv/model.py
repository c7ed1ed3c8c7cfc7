"""Fit a shop's purchase and spend models, or say why the shop-wide estimate stands in for them.

``fit(summary)`` fits BG/NBD on every customer and Gamma-Gamma on the repeat buyers. Either fit is
set aside, with a code in ``ClvFit.fallback`` and an explanation in ``ClvFit.fallback_detail``, when:

* fewer than ``min_repeat_customers`` (30) customers bought again — the dropout and spend
  parameters rest on repeat buyers alone (``too_few_repeat_customers``);
* the optimiser did not converge (``no_convergence``) or the likelihood was not finite;
* a parameter ended on its bound, so the data do not determine it (``parameter_at_bound``);
* the Hessian at the maximum cannot be inverted into standard errors: the likelihood is flat in
  some direction, as when a handful of repeat buyers sends a and b of BG/NBD to 10^6
  (``parameters_undetermined``);
* Gamma-Gamma's q <= 1, which leaves the mean spend per purchase infinite (``spend_mean_undefined``).

The estimate of :mod:`kinfolk.clv.pooled` then takes the place of the model set aside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kinfolk.clv.bgnbd import BgNbdFit, fit_bgnbd
from kinfolk.clv.gammagamma import GammaGammaFit, fit_gammagamma, spend_sample
from kinfolk.clv.pooled import PooledEstimate, pooled_estimate
from kinfolk.clv.transactions import RfmSummary, history_patterns

MIN_REPEAT_CUSTOMERS = 30

NO_CUSTOMERS = "no_customers"
TOO_FEW_REPEAT_CUSTOMERS = "too_few_repeat_customers"
NO_CONVERGENCE = "no_convergence"
PARAMETER_AT_BOUND = "parameter_at_bound"
UNDETERMINED = "parameters_undetermined"
SPEND_MEAN_UNDEFINED = "spend_mean_undefined"


@dataclass(frozen=True)
class ClvFit:
    """The models of one shop's customers.

    ``bgnbd`` and ``gammagamma`` are the fits in use, or None where the pooled estimate replaces
    them; ``fallback`` then holds the first reason (a code above) and ``fallback_detail`` every
    reason in words.
    """

    bgnbd: BgNbdFit | None
    gammagamma: GammaGammaFit | None
    pooled: PooledEstimate
    customers: int
    repeat_customers: int
    unit: str
    fallback: str | None = None
    fallback_detail: str | None = None

    @property
    def loglik(self) -> float | None:
        """Return the BG/NBD log-likelihood, or None when the model was set aside."""
        return self.bgnbd.loglik if self.bgnbd is not None else None

    @property
    def purchases_model(self) -> str:
        return "bgnbd" if self.bgnbd is not None else "pooled"

    @property
    def spend_model(self) -> str:
        return "gammagamma" if self.gammagamma is not None else "pooled"


def _problem(fitted: BgNbdFit | GammaGammaFit, name: str) -> tuple[str, str] | None:
    values = ", ".join(f"{k} = {v:.6g}" for k, v in fitted.params.as_dict().items())
    if fitted.at_bound:
        return PARAMETER_AT_BOUND, (
            f"the {name} fit ended with a parameter on its bound ({values}): "
            "the data do not determine it"
        )
    if not fitted.converged or not np.isfinite(fitted.loglik):
        return NO_CONVERGENCE, f"the {name} fit did not converge ({fitted.message}; {values})"
    if fitted.standard_errors is None:
        return UNDETERMINED, (
            f"the {name} likelihood is flat around its maximum ({values}): "
            "the data do not determine the parameters"
        )
    return None


def fit(summary: RfmSummary, *, min_repeat_customers: int = MIN_REPEAT_CUSTOMERS) -> ClvFit:
    """Fit BG/NBD and Gamma-Gamma to ``summary``, falling back to the pooled estimate per model."""
    customers = len(summary)
    repeat = summary.repeat_customers
    problems: list[tuple[str, str]] = []
    bgnbd: BgNbdFit | None = None
    gammagamma: GammaGammaFit | None = None

    if customers == 0:
        problems.append((NO_CUSTOMERS, "no customer bought in the calibration period"))
    elif repeat < min_repeat_customers:
        problems.append(
            (
                TOO_FEW_REPEAT_CUSTOMERS,
                (
                    f"only {repeat} customers bought more than once; the purchase model needs "
                    f"at least {min_repeat_customers}"
                ),
            )
        )
    else:
        x, t_x, T, weights, _ = history_patterns(summary)
        try:
            attempt = fit_bgnbd(x, t_x, T, weights)
        except ArithmeticError as exc:
            problems.append((NO_CONVERGENCE, f"the BG/NBD fit failed: {exc}"))
        else:
            problem = _problem(attempt, "BG/NBD")
            if problem is None:
                bgnbd = attempt
            else:
                problems.append(problem)

    spenders = len(spend_sample(summary.frequency, summary.monetary_value)[0])
    if customers and spenders < min_repeat_customers:
        problems.append(
            (
                TOO_FEW_REPEAT_CUSTOMERS,
                (
                    f"only {spenders} customers have repeat purchases of positive value; the "
                    f"spend model needs at least {min_repeat_customers}"
                ),
            )
        )
    elif customers:
        try:
            attempt_gg = fit_gammagamma(summary.frequency, summary.monetary_value)
        except ArithmeticError as exc:
            problems.append((NO_CONVERGENCE, f"the Gamma-Gamma fit failed: {exc}"))
        else:
            problem = _problem(attempt_gg, "Gamma-Gamma")
            if problem is None and attempt_gg.params.q <= 1.0:
                problem = (
                    SPEND_MEAN_UNDEFINED,
                    (
                        f"the Gamma-Gamma fit gives q = {attempt_gg.params.q:.4g} <= 1, which "
                        "leaves the mean spend per purchase infinite"
                    ),
                )
            if problem is None:
                gammagamma = attempt_gg
            else:
                problems.append(problem)

    return ClvFit(
        bgnbd=bgnbd,
        gammagamma=gammagamma,
        pooled=pooled_estimate(summary),
        customers=customers,
        repeat_customers=repeat,
        unit=summary.unit,
        fallback=problems[0][0] if problems else None,
        fallback_detail="; ".join(text for _, text in problems) if problems else None,
    )
