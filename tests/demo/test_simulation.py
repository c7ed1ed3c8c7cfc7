"""The made-up purchase history: reproducible, near the asked size, seasonal, with real repeat
buyers; and fans' addresses valid for their countries."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from kinfolk.core.addresses import address_normalize
from kinfolk.demo import simulation
from kinfolk.demo.people import ADDRESS_TEMPLATES, Person

START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)


def season() -> np.ndarray:
    return simulation.season_curve(
        start=START, days=1095, time_zone="Asia/Seoul", launches=(300,), spring_lift=1.0
    )


def history(seed: int, orders: int = 2000) -> list[np.ndarray]:
    curve = season()
    customers = simulation.draw_customers(
        np.random.default_rng(seed), count=500, season=curve, typical_order=50000
    )
    return simulation.purchase_days(seed, customers=customers, season=curve, orders=orders)


def test_the_same_seed_gives_the_same_history():
    first, second = history(3), history(3)

    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not all(np.array_equal(a, b) for a, b in zip(first, history(4)))


def test_the_history_has_about_the_orders_asked_for_and_repeat_buyers():
    days = history(5)
    counts = np.array([len(d) for d in days])

    assert 1900 <= counts.sum() <= 2000
    assert (counts >= 1).all()
    assert (counts == 1).any() and (counts >= 5).any()
    assert all((np.diff(d) >= 0).all() and d.min() >= 0 and d.max() < 1095 for d in days)


def test_fewer_orders_than_customers_leaves_some_who_never_bought():
    counts = np.array([len(d) for d in history(5, orders=200)])

    assert counts.sum() == 200
    assert (counts == 0).sum() == 300


def test_black_friday_and_releases_are_busier_than_an_ordinary_day():
    curve = season()
    friday = (simulation.black_friday(2024) - START.date()).days
    release = 1095 - 300

    assert simulation.black_friday(2024) == dt.date(2024, 11, 29)
    assert curve[friday] > 2 * curve[friday - 14]
    assert curve[release] > 3 * curve[release - 30]


@pytest.mark.parametrize("country", sorted(ADDRESS_TEMPLATES))
def test_every_fan_address_is_valid_for_its_country(country):
    person = Person(
        name="Test Fan", email="t@example.com", country=country, language="en", street_number=42
    )

    address = person.address()

    assert "42" in address["street_address"]
    assert address_normalize(address)["country_code"] == country
