"""Small and odd shops: the models are set aside with a reason, the pooled estimate stands in."""

from __future__ import annotations

import numpy as np
import pytest

from kinfolk.clv import MIN_REPEAT_CUSTOMERS, RfmSummary, fit, score, summarize
from kinfolk.clv.model import (
    NO_CONVERGENCE,
    NO_CUSTOMERS,
    PARAMETER_AT_BOUND,
    SPEND_MEAN_UNDEFINED,
    TOO_FEW_REPEAT_CUSTOMERS,
    UNDETERMINED,
)
from kinfolk.clv.pooled import pooled_estimate
from kinfolk.clv.value import MONTH_DAYS

from .synthetic_shop import draw_shop


@pytest.fixture
def band():
    """A band with 40 fans, 5 of whom bought again."""
    ids, dates, amounts = [], [], []
    start = np.datetime64("2024-01-01")
    for fan in range(40):
        ids.append(fan)
        dates.append(start + fan)
        amounts.append(20.0)
    for fan, gap, value in [(0, 30, 25.0), (0, 90, 35.0), (1, 10, 20.0), (2, 60, 50.0)]:
        ids.append(fan)
        dates.append(start + fan + gap)
        amounts.append(value)
    for fan in (3, 4):
        ids.append(fan)
        dates.append(start + fan + 100)
        amounts.append(15.0)
    return summarize(ids, np.array(dates), amounts, calibration_end="2024-06-30")


def test_too_few_repeat_buyers_fall_back_and_say_why(band):
    fitted = fit(band)
    assert band.repeat_customers == 5 < MIN_REPEAT_CUSTOMERS
    assert fitted.fallback == TOO_FEW_REPEAT_CUSTOMERS
    assert "only 5 customers bought more than once" in fitted.fallback_detail
    assert "spend model" in fitted.fallback_detail
    assert fitted.bgnbd is None and fitted.gammagamma is None and fitted.loglik is None
    assert (fitted.purchases_model, fitted.spend_model) == ("pooled", "pooled")
    assert (fitted.customers, fitted.repeat_customers) == (40, 5)


def test_pooled_scores(band):
    fitted = fit(band)
    scores = score(fitted, band, discount_rate=0.0, months=12)
    pooled = fitted.pooled
    # Six repeat purchase days over all the customers' weeks.
    assert pooled.rate == pytest.approx(6 / band.T.sum())
    assert pooled.spend == pytest.approx((25 + 35 + 20 + 50 + 15 + 15) / 6)
    assert scores.purchases_model == "pooled"
    assert np.all(np.isnan(scores.p_alive))  # not estimated without the model
    rates = (band.frequency + pooled.weight * pooled.rate) / (band.T + pooled.weight)
    np.testing.assert_allclose(scores.purchases_90d, rates * 90 / 7)
    np.testing.assert_allclose(scores.purchases_365d, rates * 365 / 7)
    spend = (band.frequency * band.monetary_value + pooled.spend) / (band.frequency + 1)
    np.testing.assert_allclose(scores.expected_spend, spend)
    # No discount: a year of purchases at the customer's rate, times their spend.
    np.testing.assert_allclose(scores.clv, spend * rates * 12 * MONTH_DAYS / 7)
    # The fan who bought three times is worth the most.
    assert int(np.argmax(scores.clv)) == 0
    assert np.all(np.isfinite(scores.clv))


def test_no_repeat_purchase_at_all():
    summary = summarize(["a", "b", "c"], ["2024-01-01", "2024-01-05", "2024-02-01"], [5, 7, 9])
    fitted = fit(summary)
    assert fitted.fallback == TOO_FEW_REPEAT_CUSTOMERS
    assert fitted.pooled.rate == 0.0
    assert fitted.pooled.spend == pytest.approx(7.0)  # the mean first purchase
    scores = score(fitted, summary)
    assert np.all(scores.purchases_365d == 0) and np.all(scores.clv == 0)
    np.testing.assert_allclose(scores.expected_spend, 7.0)


def test_a_single_customer():
    summary = summarize(["only"], ["2024-01-01"], [12.0], calibration_end="2024-03-01")
    fitted = fit(summary)
    assert fitted.fallback == TOO_FEW_REPEAT_CUSTOMERS
    scores = score(fitted, summary)
    assert scores.customer_ids.tolist() == ["only"] and scores.clv.tolist() == [0.0]


def test_no_customer_in_the_calibration_period():
    summary = summarize(["a"], ["2024-05-01"], [3.0], calibration_end="2024-01-01")
    assert len(summary) == 0 and summary.excluded_customers == 1
    fitted = fit(summary)
    assert fitted.fallback == NO_CUSTOMERS
    assert len(score(fitted, summary).clv) == 0


def test_a_parameter_on_its_bound_is_not_used():
    """Everybody buys steadily up to today: no dropout to measure, no spread in spend."""
    rng = np.random.default_rng(0)
    T = rng.uniform(20, 40, 500)
    x = rng.poisson(T * 0.3)
    summary = RfmSummary.from_arrays(x, np.where(x > 0, T, 0.0), T, np.where(x > 0, 10.0, 0.0))
    fitted = fit(summary)
    assert fitted.fallback == PARAMETER_AT_BOUND
    assert "bound" in fitted.fallback_detail
    assert fitted.bgnbd is None and fitted.gammagamma is None
    assert np.all(np.isfinite(score(fitted, summary).clv))


def test_a_spend_without_a_finite_mean_is_not_used():
    """Spend spread over fifteen orders of e: Gamma-Gamma's q < 1, the mean spend is infinite."""
    ids, dates, amounts = draw_shop(2000, seed=5)
    summary = summarize(ids, dates, amounts, calibration_end="2024-09-30")
    rng = np.random.default_rng(1)
    wild = RfmSummary.from_arrays(
        summary.frequency,
        summary.recency,
        summary.T,
        np.exp(rng.uniform(-5, 10, len(summary))),
    )
    fitted = fit(wild)
    assert fitted.bgnbd is not None  # the purchase model is fine
    assert fitted.gammagamma is None
    assert fitted.fallback == SPEND_MEAN_UNDEFINED
    scores = score(fitted, wild)
    assert (scores.purchases_model, scores.spend_model) == ("bgnbd", "pooled")
    assert np.all(np.isfinite(scores.clv)) and np.all(scores.p_alive <= 1)


def test_a_fit_on_a_handful_of_repeat_buyers_is_flagged(band):
    """With the threshold lowered to 3 the models are fitted, and their flat likelihood shows:
    which of the three ways it shows depends on the optimiser's path (SciPy's version), but
    either way the fit is flagged and not used."""
    fitted = fit(band, min_repeat_customers=3)
    assert fitted.fallback in {UNDETERMINED, PARAMETER_AT_BOUND, NO_CONVERGENCE}
    assert "BG/NBD" in fitted.fallback_detail and "Gamma-Gamma" in fitted.fallback_detail
    assert fitted.bgnbd is None and fitted.gammagamma is None


def test_pooled_estimate_of_an_empty_summary():
    empty = RfmSummary.from_arrays([], [], [])
    estimate = pooled_estimate(empty)
    assert (estimate.rate, estimate.spend) == (0.0, 0.0)
