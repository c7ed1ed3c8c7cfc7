"""Predicted lifetime value per shop: the fitted models where the history allows them, a flagged
fallback where it does not, whole minor units in the database, and no other shop touched."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import pytest

from kinfolk.crm.models import CustomerScore, Interaction, ValueModelFit
from kinfolk.crm.services import customer_get_or_create, interaction_record, rfm_recompute
from kinfolk.crm.services.value import CLV_MONTHS, MONTHLY_DISCOUNT_RATE, shop_value_refresh
from kinfolk.crm.tasks import shop_values_refresh
from tests.clv.synthetic_shop import draw_shop

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2024, 12, 30, 12, 0, tzinfo=dt.UTC)  # 52 weeks after the first drawn day
_numbers = itertools.count(1)
VALUE_FIELDS = ("p_alive", "purchases_90d", "purchases_365d", "expected_spend", "clv")


def paid(shop, customer, at: dt.datetime, total: int) -> Interaction:
    return interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.ORDER_PAID,
        occurred_at=at,
        subject_type="order",
        subject_id=f"V{next(_numbers):06d}",
        data={"total": total, "currency": shop.currency},
        update_stage=False,
    )


def record_draw(shop, customers: int, seed: int, *, minor_per_unit: int) -> int:
    """Record a BG/NBD-like history drawn by ``draw_shop``; return the number of buyers."""
    ids, dates, amounts = draw_shop(customers, seed)
    people = {
        i: customer_get_or_create(shop=shop, email=f"fan{i}@example.com") for i in set(ids.tolist())
    }
    for i, day, amount in zip(ids.tolist(), dates.tolist(), amounts.tolist(), strict=True):
        at = dt.datetime.combine(day, dt.time(3, 0), tzinfo=dt.UTC)
        paid(shop, people[i], at, round(amount * minor_per_unit))
    return len(people)


def figures(shop) -> dict[int, tuple]:
    return {
        row[0]: row[1:]
        for row in CustomerScore.objects.filter(shop=shop).values_list(
            "customer_id", *VALUE_FIELDS, "value_method"
        )
    }


@pytest.fixture
def drawn_shop(make_shop):
    """A KRW shop of 200 fans who bought like BG/NBD customers through 2024."""
    shop = make_shop("drawn", currency="KRW")
    buyers = record_draw(shop, 200, seed=7, minor_per_unit=1000)
    rfm_recompute(shop=shop, now=NOW)
    return shop, buyers


def test_a_shop_with_enough_repeat_buyers_gets_fitted_models_and_every_buyer_a_value(drawn_shop):
    """Given a shop whose history supports the models, when its values are refreshed, then
    BG/NBD and Gamma-Gamma are fitted and every buyer has consistent whole-won figures."""
    shop, buyers = drawn_shop

    fit = shop_value_refresh(shop=shop, now=NOW)

    assert fit.method == ValueModelFit.Method.MODEL and fit.reason == ""
    assert fit.customers == buyers and fit.repeat_buyers >= 30
    assert set(fit.params["bgnbd"]) == {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(fit.params["gamma_gamma"]) == {"p", "q", "gamma", "log_likelihood"}
    assert all(math.isfinite(v) for v in fit.params["bgnbd"].values())
    assert fit.params["clv"] == {"months": 12, "monthly_discount_rate": 0.01}
    rows = figures(shop)
    assert len(rows) == buyers
    for p_alive, p90, p365, spend, clv, method in rows.values():
        assert 0 <= p_alive <= 1 and 0 <= p90 <= p365
        assert isinstance(spend, int) and isinstance(clv, int) and spend > 0 and clv >= 0
        assert method == "model"


def test_the_holdout_check_compares_predicted_and_actual_weeks_after_the_calibration(drawn_shop):
    """Given a year of history, when the values are refreshed, then the models are also fitted on
    the first three quarters and the weeks after are compared, in total and per week."""
    shop, buyers = drawn_shop

    holdout = shop_value_refresh(shop=shop, now=NOW).holdout

    assert holdout["weeks"] == 13  # a quarter of the year, under the 26-week cap
    assert holdout["calibration_end"] == "2024-09-30"
    weekly = holdout["weekly"]
    assert [row["week"] for row in weekly] == list(range(1, 14))
    assert sum(row["actual"] for row in weekly) == holdout["actual"] > 0
    assert sum(row["predicted"] for row in weekly) == pytest.approx(holdout["predicted"])
    assert sum(group["customers"] for group in holdout["groups"]) == holdout["customers"]
    assert holdout["customers"] <= buyers


def test_cohorts_count_each_months_new_buyers_and_who_of_them_bought_in_later_months(drawn_shop):
    """Given buyers whose first purchases fall in 2024, then the twelve cohorts of 2024 hold
    every buyer once, and each cohort's first month holds all of its buyers."""
    shop, buyers = drawn_shop

    cohorts = shop_value_refresh(shop=shop, now=NOW).params["cohorts"]

    assert cohorts["months"][0] == "2024-01" and cohorts["months"][-1] == "2024-12"
    assert sum(cohorts["sizes"]) == buyers
    for size, active in zip(cohorts["sizes"], cohorts["active"], strict=True):
        assert active[0] == size
        assert all(count is None or 0 <= count <= size for count in active)
    assert cohorts["active"][-1][1] is None  # January 2025 has not come yet


def test_too_few_repeat_buyers_fall_back_to_shop_wide_averages_and_say_why(make_shop):
    """Given ten buyers of whom four came back, when the values are refreshed, then the pooled
    estimate is used, flagged with a reason a maker reads, and nobody gets a P(alive)."""
    shop = make_shop(currency="USD", time_zone="UTC", country="US")
    start = NOW - dt.timedelta(days=200)
    for n in range(10):
        fan = customer_get_or_create(shop=shop, email=f"few{n}@example.com")
        paid(shop, fan, start + dt.timedelta(days=n * 9), 2500)
        if n < 4:
            paid(shop, fan, start + dt.timedelta(days=n * 9 + 40), 1250)
    rfm_recompute(shop=shop, now=NOW)

    fit = shop_value_refresh(shop=shop, now=NOW)

    assert fit.method == ValueModelFit.Method.POOLED
    assert fit.repeat_buyers == 4
    assert fit.reason.startswith("Too few repeat buyers for a fitted model (4; 30 needed)")
    assert "shop-wide averages" in fit.reason
    assert fit.params["fallback"]["code"] == "too_few_repeat_customers"
    rows = figures(shop)
    assert len(rows) == 10
    assert all(row[0] is None and row[4] > 0 and row[5] == "pooled" for row in rows.values())


@pytest.mark.parametrize(("currency", "total"), [("KRW", 35000), ("USD", 1250)])
def test_when_nobody_bought_twice_each_fan_is_valued_at_their_own_pace(make_shop, currency, total):
    """Given buyers who each bought once (a second order refunded does not count), when the
    values are refreshed, then each fan's one order a year is carried over twelve discounted
    months, in whole minor units of the shop's currency."""
    shop = make_shop(currency=currency)
    fans = [customer_get_or_create(shop=shop, email=f"once{n}@example.com") for n in range(5)]
    for n, fan in enumerate(fans):
        paid(shop, fan, NOW - dt.timedelta(days=30 + n), total)
    refunded = paid(shop, fans[0], NOW - dt.timedelta(days=10), total)
    interaction_record(
        shop=shop,
        customer=fans[0],
        kind=Interaction.Kind.ORDER_REFUNDED,
        occurred_at=NOW - dt.timedelta(days=9),
        subject_type="order",
        subject_id=refunded.subject_id,
        update_stage=False,
    )
    rfm_recompute(shop=shop, now=NOW)

    fit = shop_value_refresh(shop=shop, now=NOW)

    assert fit.method == ValueModelFit.Method.RFM
    assert fit.reason.startswith("Nobody has bought twice yet")
    discounts = sum(1 / (1 + MONTHLY_DISCOUNT_RATE) ** i for i in range(1, CLV_MONTHS + 1))
    expected_clv = round(total * discounts / 12)
    for _, p90, p365, spend, clv, method in figures(shop).values():
        assert (p365, spend, clv, method) == (1.0, total, expected_clv, "rfm")
        assert p90 == pytest.approx(90 / 365.25, abs=1e-4)
    assert fit.holdout["skipped"] == "short_history"


def test_a_single_customer_gets_figures_without_a_fit(make_shop):
    """Given one fan with three orders, when the values are refreshed, then the fallback gives
    them finite figures and the fit says so."""
    shop = make_shop()
    fan = customer_get_or_create(shop=shop, email="solo@example.com")
    for days_ago in (300, 200, 20):
        paid(shop, fan, NOW - dt.timedelta(days=days_ago), 42000)
    rfm_recompute(shop=shop, now=NOW)

    fit = shop_value_refresh(shop=shop, now=NOW)

    assert fit.method == ValueModelFit.Method.POOLED and fit.customers == 1
    (_, p90, p365, spend, clv, _method) = figures(shop)[fan.pk]
    assert 0 < p90 < p365 and spend == 42000 and clv > 0


def test_a_shop_without_purchases_records_why_and_scores_nobody(make_shop):
    """Given a shop whose fans never paid, when the values are refreshed, then the fit record
    says there is nothing to predict from, and no figures are written."""
    shop = make_shop()
    customer_get_or_create(shop=shop, email="lurker@example.com")

    fit = shop_value_refresh(shop=shop, now=NOW)

    assert (fit.customers, fit.repeat_buyers) == (0, 0)
    assert fit.reason == "No paid orders yet, so there is nothing to predict from."
    assert fit.params["fallback"]["code"] == "no_purchases"
    assert fit.holdout == {"skipped": "no_purchases"}
    assert not CustomerScore.objects.filter(shop=shop).exists()


def test_buyers_without_scores_are_scored_first(make_shop):
    """Given purchases the RFM scores have not seen yet, when the values are refreshed, then the
    buyers' score rows are made first and carry the values."""
    shop = make_shop()
    fan = customer_get_or_create(shop=shop, email="new@example.com")
    paid(shop, fan, NOW - dt.timedelta(days=3), 10000)

    shop_value_refresh(shop=shop, now=NOW)

    score = CustomerScore.objects.get(customer=fan)
    assert score.frequency == 1 and score.clv > 0 and score.value_method == "rfm"


def test_running_again_writes_the_same_figures_and_records_the_same_fit(drawn_shop):
    """Given a refreshed shop, when it is refreshed again at the same moment, then every figure
    is the same and the second record holds the same parameters."""
    shop, _ = drawn_shop
    first = shop_value_refresh(shop=shop, now=NOW)
    before = figures(shop)

    second = shop_value_refresh(shop=shop, now=NOW)

    assert figures(shop) == before
    assert second.params == first.params and second.holdout == first.holdout
    assert ValueModelFit.objects.filter(shop=shop).count() == 2


def test_refreshing_one_shop_leaves_another_untouched(drawn_shop, make_shop):
    """Given two shops with figures, when one is refreshed later, then the other's figures and
    fit records stay as they were."""
    shop, _ = drawn_shop
    other = make_shop("other-shop")
    fan = customer_get_or_create(shop=other, email="fan0@example.com")  # same address, other shop
    paid(other, fan, NOW - dt.timedelta(days=50), 99000)
    rfm_recompute(shop=other, now=NOW)
    shop_value_refresh(shop=other, now=NOW)
    other_before = figures(other)

    shop_value_refresh(shop=shop, now=NOW + dt.timedelta(days=7))

    assert figures(other) == other_before
    assert ValueModelFit.objects.filter(shop=other).count() == 1
    assert np.all([row[5] == "model" for row in figures(shop).values()])


def test_the_nightly_task_refreshes_every_shop(make_shop):
    """Given two shops, when the nightly value task runs, then each has a new fit record."""
    shops = [make_shop(), make_shop()]
    fan = customer_get_or_create(shop=shops[0], email="night@example.com")
    paid(shops[0], fan, NOW - dt.timedelta(days=5), 5000)

    assert shop_values_refresh.call_local() >= 2

    assert all(ValueModelFit.objects.filter(shop=shop).count() == 1 for shop in shops)
    assert CustomerScore.objects.get(customer=fan).clv > 0
