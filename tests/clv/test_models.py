"""BG/NBD and Gamma-Gamma: likelihoods, gradients, predictions and fits on synthetic shops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinfolk.clv import bgnbd, gammagamma, mle, summarize
from kinfolk.clv.bgnbd import BgNbdParams
from kinfolk.clv.gammagamma import GammaGammaParams
from kinfolk.clv.transactions import history_patterns

from .synthetic_shop import draw_shop

positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)


@st.composite
def histories(draw):
    """Valid (x, t_x, T): x >= 0 repeat days, 0 <= t_x <= T, t_x = 0 when x = 0."""
    n = draw(st.integers(min_value=1, max_value=30))
    x = np.array(draw(st.lists(st.integers(0, 500), min_size=n, max_size=n)))
    T = np.array(
        draw(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=n, max_size=n)), dtype=float
    )
    share = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    t_x = np.where(x > 0, T * share, 0.0)
    return x, t_x, T


@given(histories(), positive, positive, positive, positive)
def test_bgnbd_loglik_is_finite_for_valid_histories(history, r, alpha, a, b):
    x, t_x, T = history
    terms = bgnbd.loglik_terms(BgNbdParams(r, alpha, a, b), x, t_x, T)
    assert np.all(np.isfinite(terms))
    value, gradient = bgnbd._negative_loglik(
        np.log([r, alpha, a, b]), bgnbd._Data(x, t_x, T, np.ones(len(x)))
    )
    assert np.isfinite(value) and np.all(np.isfinite(gradient))


@given(
    st.lists(
        st.tuples(st.integers(1, 200), st.floats(0.01, 1e5, allow_nan=False)),
        min_size=1,
        max_size=30,
    ),
    positive,
    positive,
    positive,
)
def test_gammagamma_loglik_is_finite(rows, p, q, gamma):
    x = np.array([row[0] for row in rows], dtype=float)
    m = np.array([row[1] for row in rows])
    assert np.all(np.isfinite(gammagamma.loglik_terms(GammaGammaParams(p, q, gamma), x, m)))


def numeric_gradient(objective, point, data, step=1e-6):
    return np.array(
        [
            (objective(point + e, data)[0] - objective(point - e, data)[0]) / (2 * step)
            for e in np.eye(len(point)) * step
        ]
    )


@pytest.fixture(scope="module")
def shop_summary():
    ids, dates, amounts = draw_shop(5000, seed=1)
    return summarize(ids, dates, amounts, calibration_end="2024-09-30")


@pytest.mark.parametrize(
    "point", [[0.0, 0.0, 0.0, 0.0], [-1.2, 1.5, -0.3, 1.1], [0.7, -0.4, 1.2, -0.6]]
)
def test_bgnbd_gradient_is_the_derivative(shop_summary, point):
    x, t_x, T, weights, _ = history_patterns(shop_summary)
    data = bgnbd._Data(x, t_x, T, weights)
    point = np.array(point)
    value, gradient = bgnbd._negative_loglik(point, data)
    np.testing.assert_allclose(
        gradient, numeric_gradient(bgnbd._negative_loglik, point, data), rtol=1e-5, atol=1e-7
    )
    # The grouped objective is the plain per-customer likelihood.
    params = BgNbdParams(*np.exp(point))
    expected = -bgnbd.loglik(params, shop_summary.frequency, shop_summary.recency, shop_summary.T)
    assert value * len(shop_summary) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("point", [[0.0, 0.0, 0.0], [1.8, 1.3, 0.2], [-0.5, 2.5, 1.0]])
def test_gammagamma_gradient_is_the_derivative(shop_summary, point):
    x, m = gammagamma.spend_sample(shop_summary.frequency, shop_summary.monetary_value)
    data = gammagamma._Data(x, m / m.mean())
    point = np.array(point)
    value, gradient = gammagamma._negative_loglik(point, data)
    np.testing.assert_allclose(
        gradient, numeric_gradient(gammagamma._negative_loglik, point, data), rtol=1e-5, atol=1e-7
    )
    expected = -gammagamma.loglik(GammaGammaParams(*np.exp(point)), x, m / m.mean())
    assert value * len(x) == pytest.approx(expected, rel=1e-12)


def test_fits_recover_the_generating_parameters():
    ids, dates, amounts = draw_shop(40_000, seed=2, r=0.5, alpha=6.0, a=0.8, b=3.0)
    summary = summarize(ids, dates, amounts, calibration_end="2024-12-30", unit="week")
    x, t_x, T, weights, _ = history_patterns(summary)
    purchases = bgnbd.fit_bgnbd(x, t_x, T, weights)
    assert purchases.converged and not purchases.at_bound
    # Dates are whole days, which the generating process is not: a few percent of slack.
    assert purchases.params.r == pytest.approx(0.5, rel=0.1)
    assert purchases.params.alpha == pytest.approx(6.0, rel=0.15)
    assert purchases.params.a == pytest.approx(0.8, rel=0.2)
    assert purchases.params.b == pytest.approx(3.0, rel=0.25)
    # The reported log-likelihood is the plain one at the reported parameters.
    assert purchases.loglik == pytest.approx(
        bgnbd.loglik(purchases.params, summary.frequency, summary.recency, summary.T), abs=1e-6
    )
    spend = gammagamma.fit_gammagamma(summary.frequency, summary.monetary_value)
    assert spend.converged
    assert spend.params.p == pytest.approx(6.0, rel=0.1)
    assert spend.params.q == pytest.approx(4.0, rel=0.15)
    assert spend.params.gamma == pytest.approx(15.0, rel=0.2)
    x_s, m_s = gammagamma.spend_sample(summary.frequency, summary.monetary_value)
    assert spend.loglik == pytest.approx(gammagamma.loglik(spend.params, x_s, m_s), abs=1e-6)


def test_a_sample_first_gives_the_same_fit(shop_summary, monkeypatch):
    """Large shops start from a sample's optimum; the answer must not change."""
    x, t_x, T, weights, _ = history_patterns(shop_summary)
    direct = bgnbd.fit_bgnbd(x, t_x, T, weights)
    direct_spend = gammagamma.fit_gammagamma(shop_summary.frequency, shop_summary.monetary_value)
    monkeypatch.setattr(mle, "PRELIMINARY_CUSTOMERS", 1000)
    sampled = bgnbd.fit_bgnbd(x, t_x, T, weights)
    sampled_spend = gammagamma.fit_gammagamma(shop_summary.frequency, shop_summary.monetary_value)
    assert sampled.message.startswith("Newton steps from the optimum of a sample")
    assert sampled.converged and sampled_spend.converged
    for name in ("r", "alpha", "a", "b"):
        assert getattr(sampled.params, name) == pytest.approx(
            getattr(direct.params, name), rel=1e-6
        )
    for name in ("p", "q", "gamma"):
        assert getattr(sampled_spend.params, name) == pytest.approx(
            getattr(direct_spend.params, name), rel=1e-6
        )


PARAMS = BgNbdParams(r=0.2426, alpha=4.4136, a=0.7929, b=2.4259)


def test_probability_alive_is_one_without_repeat_purchases_and_a_probability_otherwise():
    x = np.array([0, 1, 5, 5, 40])
    t_x = np.array([0.0, 10.0, 38.0, 5.0, 20.0])
    T = np.full(5, 39.0)
    alive = bgnbd.probability_alive(PARAMS, x, t_x, T)
    assert alive[0] == 1.0
    assert np.all((alive > 0) & (alive <= 1))
    # Same frequency, longer silence: less likely alive.
    assert alive[3] < alive[2]


def test_expected_purchases_grow_with_the_horizon():
    horizons = np.array([0.0, 1.0, 13.0, 52.0, 520.0])
    values = bgnbd.expected_purchases(PARAMS, horizons, 3, 30.0, 39.0)
    assert values[0] == 0.0
    assert np.all(np.diff(values) > 0)


def test_expected_purchases_are_smooth_through_a_equal_one():
    around = [BgNbdParams(0.5, 5.0, a, 3.0) for a in (1 - 1e-4, 1.0, 1 + 1e-4)]
    values = [bgnbd.expected_purchases(p, 26.0, 2, 10.0, 20.0) for p in around]
    assert np.all(np.isfinite(values))
    assert values[1] == pytest.approx(values[0], rel=1e-3)
    assert values[1] == pytest.approx(values[2], rel=1e-3)


def test_expected_spend_shrinks_toward_the_population_mean():
    params = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
    spend = gammagamma.expected_spend(params, [0, 1, 100], [0.0, 100.0, 100.0])
    assert spend[0] == pytest.approx(params.mean_spend)
    assert params.mean_spend < spend[1] < spend[2] < 100.0
    assert GammaGammaParams(1.0, 0.5, 1.0).mean_spend == float("inf")
