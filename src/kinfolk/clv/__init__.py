"""Predicted customer lifetime value: BG/NBD purchases and Gamma-Gamma spend, in NumPy and SciPy.

No Django here: the CRM calls it with arrays and stores what it returns. A typical use::

    summary = summarize(customer_ids, dates, amounts, calibration_end="2024-12-31")
    fitted = fit(summary)          # fitted.fallback says when the pooled estimate stands in
    scores = score(fitted, summary)  # p_alive, purchases_90d, purchases_365d, expected_spend, clv
"""

from kinfolk.clv.bgnbd import BgNbdFit, BgNbdParams
from kinfolk.clv.gammagamma import GammaGammaFit, GammaGammaParams
from kinfolk.clv.holdout import HoldoutComparison, HoldoutGroup, holdout_comparison
from kinfolk.clv.model import MIN_REPEAT_CUSTOMERS, ClvFit, fit
from kinfolk.clv.pooled import PooledEstimate
from kinfolk.clv.transactions import RfmSummary, summarize
from kinfolk.clv.value import ClvScores, expected_holdout_purchases, score

__all__ = [
    "MIN_REPEAT_CUSTOMERS",
    "BgNbdFit",
    "BgNbdParams",
    "ClvFit",
    "ClvScores",
    "GammaGammaFit",
    "GammaGammaParams",
    "HoldoutComparison",
    "HoldoutGroup",
    "PooledEstimate",
    "RfmSummary",
    "expected_holdout_purchases",
    "fit",
    "holdout_comparison",
    "score",
    "summarize",
]
