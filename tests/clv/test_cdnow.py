"""The published CDNOW results, reproduced from the raw transactions of the 2,357-customer sample.

Fader, Hardie & Lee (2005), "Counting your customers the easy way", with a 39-week calibration
period (1997-01-01 to 1997-09-30) and repeat purchases counted per day: BG/NBD r = 0.2426,
α = 4.4136, a = 0.7929, b = 2.4259, log-likelihood −9582.43. Fader, Hardie & Lee (2005), "RFM and
CLV" (and Fader & Hardie's note 025), Gamma-Gamma on the 946 repeat buyers: p = 6.25, q = 3.74,
γ = 15.44.
"""

from __future__ import annotations

import numpy as np
import pytest

from kinfolk.clv import RfmSummary, fit, holdout_comparison
from kinfolk.clv.bgnbd import expected_purchases, expected_purchases_new, fit_bgnbd
from kinfolk.clv.gammagamma import fit_gammagamma

PUBLISHED_BGNBD = {"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259}
PUBLISHED_LOGLIK = -9582.43
PUBLISHED_GAMMAGAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def cdnow_fit(cdnow_summary):
    return fit(cdnow_summary)


def test_summary_of_the_raw_sample_is_the_published_summary(cdnow_summary, published_summary):
    """Same customers, same x; t_x, T and zbar as published up to their two decimals."""
    assert len(cdnow_summary) == 2357
    assert cdnow_summary.repeat_customers == 946
    assert cdnow_summary.excluded_customers == 0
    np.testing.assert_array_equal(cdnow_summary.customer_ids, published_summary["ID"])
    np.testing.assert_array_equal(cdnow_summary.frequency, published_summary["x"])
    np.testing.assert_allclose(cdnow_summary.recency, published_summary["t_x"], atol=0.005)
    np.testing.assert_allclose(cdnow_summary.T, published_summary["T"], atol=0.005)
    np.testing.assert_allclose(cdnow_summary.monetary_value, published_summary["zbar"], atol=0.005)
    # The holdout runs to 1998-06-30: 39 weeks.
    assert cdnow_summary.holdout_duration == 39.0


def test_bgnbd_reproduces_the_published_fit(cdnow_fit):
    fitted = cdnow_fit.bgnbd
    assert fitted is not None and fitted.converged and not fitted.at_bound
    for name, value in PUBLISHED_BGNBD.items():
        assert getattr(fitted.params, name) == pytest.approx(value, rel=1e-3), name
        # Four decimals, as published.
        assert round(getattr(fitted.params, name), 4) == value, name
    assert fitted.loglik == pytest.approx(PUBLISHED_LOGLIK, abs=0.01)
    assert cdnow_fit.loglik == fitted.loglik
    assert cdnow_fit.fallback is None


def test_gammagamma_reproduces_the_published_fit(cdnow_fit):
    """The raw transactions give p = 6.2496, q = 3.7442, γ = 15.4435: 6.25, 3.74, 15.44."""
    fitted = cdnow_fit.gammagamma
    assert fitted is not None and fitted.converged and fitted.customers == 946
    for name, value in PUBLISHED_GAMMAGAMMA.items():
        assert getattr(fitted.params, name) == pytest.approx(value, rel=1e-2), name
        assert getattr(fitted.params, name) == pytest.approx(value, abs=0.005), name


def test_published_summary_rounds_gamma_to_15_45(published_summary):
    """The published summary's two-decimal zbar shifts γ to 15.4477: the raw data give 15.44."""
    fitted = fit_gammagamma(published_summary["x"], published_summary["zbar"])
    assert round(fitted.params.p, 2) == 6.25
    assert round(fitted.params.q, 2) == 3.74
    assert round(fitted.params.gamma, 2) == 15.45


def test_published_summary_gives_the_same_bgnbd_to_four_digits(published_summary):
    fitted = fit_bgnbd(published_summary["x"], published_summary["t_x"], published_summary["T"])
    for name, value in PUBLISHED_BGNBD.items():
        assert getattr(fitted.params, name) == pytest.approx(value, rel=1e-3), name


def test_standard_errors_match_the_reference(cdnow_fit):
    """The Hessian's standard errors, as ``lifetimes`` reports them for the same data."""
    errors = cdnow_fit.bgnbd.standard_errors
    assert errors["r"] == pytest.approx(0.0126, abs=1e-4)
    assert errors["alpha"] == pytest.approx(0.378, abs=1e-3)
    assert errors["a"] == pytest.approx(0.186, abs=1e-3)
    assert errors["b"] == pytest.approx(0.705, abs=1e-3)


def test_expectations_match_fader_and_hardies_spreadsheet(cdnow_fit):
    """E[X(t)] of a new customer and E[Y(39) | x = 2, t_x = 30.43, T = 38.86] = 1.226."""
    params = cdnow_fit.bgnbd.params
    times = np.array([0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00])
    published = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
    np.testing.assert_allclose(expected_purchases_new(params, times), published, atol=1e-3)
    assert expected_purchases(params, 39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=1e-3)


def test_holdout_comparison(cdnow_fit, cdnow_summary):
    """1,882 purchase days in the 39-week holdout; the model is close for every frequency group."""
    comparison = holdout_comparison(cdnow_fit, cdnow_summary)
    assert comparison.customers == 2357
    assert comparison.actual_total == 1882
    assert comparison.predicted_total == pytest.approx(1653.4, abs=0.5)
    assert [group.frequency for group in comparison.groups] == list(range(8))
    assert comparison.groups[-1].or_more
    assert sum(group.customers for group in comparison.groups) == 2357
    zero = comparison.groups[0]
    assert zero.customers == 1411
    assert zero.predicted == pytest.approx(zero.actual, rel=0.1)
    data = comparison.as_dict()
    assert data["actual"] == 1882 and len(data["groups"]) == 8


def test_summary_from_arrays_gives_the_same_fit(cdnow_summary, cdnow_fit):
    """Without whole-day times the histories are not grouped; the fit is the same."""
    plain = RfmSummary.from_arrays(
        cdnow_summary.frequency,
        cdnow_summary.recency,
        cdnow_summary.T,
        cdnow_summary.monetary_value,
    )
    refit = fit(plain)
    for name in PUBLISHED_BGNBD:
        assert getattr(refit.bgnbd.params, name) == pytest.approx(
            getattr(cdnow_fit.bgnbd.params, name), rel=1e-6
        )
    assert refit.loglik == pytest.approx(cdnow_fit.loglik, abs=1e-6)
