"""Per-customer predictions against ``lifetimes`` on the CDNOW sample, with the same parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kinfolk.clv import score

with warnings.catch_warnings():
    # lifetimes 0.11 imports pkg_resources and uses pandas APIs that now warn.
    warnings.simplefilter("ignore")
    try:
        import pandas as pd
        from lifetimes import BetaGeoFitter, GammaGammaFitter
    except ImportError as exc:  # pragma: no cover - depends on the environment
        pytest.skip(
            f"lifetimes is the reference and is not importable ({exc}); pip install lifetimes",
            allow_module_level=True,
        )


@pytest.fixture(scope="module")
def reference(cdnow_summary):
    """lifetimes' fitters, fitted by lifetimes itself on our summary of the raw transactions."""
    frequency = pd.Series(cdnow_summary.frequency)
    recency = pd.Series(cdnow_summary.recency)
    age = pd.Series(cdnow_summary.T)
    money = pd.Series(cdnow_summary.monetary_value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bgf = BetaGeoFitter().fit(frequency, recency, age)
        repeat = frequency > 0
        ggf = GammaGammaFitter().fit(frequency[repeat], money[repeat])
    return bgf, ggf, (frequency, recency, age, money)


@pytest.fixture(scope="module")
def ours(cdnow_summary):
    from kinfolk.clv import fit

    return fit(cdnow_summary)


def test_same_parameters_as_lifetimes(ours, reference):
    bgf, ggf, _ = reference
    for name in ("r", "alpha", "a", "b"):
        assert getattr(ours.bgnbd.params, name) == pytest.approx(bgf.params_[name], rel=1e-4)
    gg = ours.gammagamma.params
    assert gg.p == pytest.approx(ggf.params_["p"], rel=1e-3)
    assert gg.q == pytest.approx(ggf.params_["q"], rel=1e-3)
    assert gg.gamma == pytest.approx(ggf.params_["v"], rel=1e-3)


def test_per_customer_predictions_match_lifetimes(ours, cdnow_summary):
    """P(alive), expected purchases in 90 and 365 days, expected spend and CLV, customer by
    customer, with lifetimes' formulas evaluated at our parameters."""
    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(ours.bgnbd.params.as_dict())
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time
    ggf = GammaGammaFitter()
    gg = ours.gammagamma.params
    ggf.params_ = pd.Series({"p": gg.p, "q": gg.q, "v": gg.gamma})
    frequency = pd.Series(cdnow_summary.frequency)
    recency = pd.Series(cdnow_summary.recency)
    age = pd.Series(cdnow_summary.T)
    money = pd.Series(cdnow_summary.monetary_value)

    # lifetimes counts a month as 4.345 weeks.
    scores = score(ours, cdnow_summary, discount_rate=0.01, months=12, month_length=4.345)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alive = bgf.conditional_probability_alive(frequency, recency, age)
        in_90 = bgf.conditional_expected_number_of_purchases_up_to_time(
            90 / 7, frequency, recency, age
        )
        in_365 = bgf.conditional_expected_number_of_purchases_up_to_time(
            365 / 7, frequency, recency, age
        )
        spend = ggf.conditional_expected_average_profit(frequency, money)
        clv = ggf.customer_lifetime_value(
            bgf, frequency, recency, age, money, time=12, discount_rate=0.01, freq="W"
        )

    np.testing.assert_allclose(scores.p_alive, np.asarray(alive), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(scores.purchases_90d, np.asarray(in_90), rtol=1e-8)
    np.testing.assert_allclose(scores.purchases_365d, np.asarray(in_365), rtol=1e-8)
    np.testing.assert_allclose(scores.expected_spend, np.asarray(spend), rtol=1e-9)
    np.testing.assert_allclose(scores.clv, np.asarray(clv), rtol=1e-8)


def test_frequent_buyers_stay_finite(ours):
    """Far beyond CDNOW's range lifetimes needs a fallback formula; ours stays finite and close."""
    from kinfolk.clv.bgnbd import expected_purchases

    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(ours.bgnbd.params.as_dict())
    x = np.array([50.0, 200.0, 1000.0])
    t_x = np.array([38.0, 38.5, 38.8])
    age = np.full(3, 38.86)
    theirs = bgf.conditional_expected_number_of_purchases_up_to_time(52.0, x, t_x, age)
    mine = expected_purchases(ours.bgnbd.params, 52.0, x, t_x, age)
    assert np.all(np.isfinite(mine))
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(mine[finite], np.asarray(theirs)[finite], rtol=1e-6)
