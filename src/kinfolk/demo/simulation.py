"""When made-up fans buy: a repeat-purchase process in the spirit of BG/NBD and Gamma-Gamma.

Each customer has a latent purchase rate λ ~ Gamma(r, α) and, after every purchase, drops out for
good with a probability p ~ Beta(a, b). While active, purchases arrive as a Poisson process whose
rate is λ times the shop's season (releases, Black Friday, the holidays). The amount a customer
spends per order scatters around their own mean, itself Gamma distributed across customers.

Pure NumPy: no Django, no database; the same seed gives the same history.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import numpy as np

# Heterogeneity of purchase rates (Gamma shape) and of dropout (Beta a, b): typical values fitted
# on small online shops, where most buyers come once and a loyal few come back often.
RATE_SHAPE = 0.8
DROPOUT_A = 1.6
DROPOUT_B = 5.0
# Spend: each customer's mean ~ Gamma(SPEND_CUSTOMER_SHAPE); each order ~ Gamma(SPEND_ORDER_SHAPE)
# around it.
SPEND_CUSTOMER_SHAPE = 3.0
SPEND_ORDER_SHAPE = 6.0
# New customers arrive faster as the shop grows: e**GROWTH times as many at the end as at the start.
GROWTH = 1.1
CALIBRATION_ROUNDS = 12


def black_friday(year: int) -> dt.date:
    """Return the day after the fourth Thursday of November of ``year``."""
    first = dt.date(year, 11, 1)
    first_thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + dt.timedelta(days=22)


def season_curve(
    *, start: dt.datetime, days: int, time_zone: str, launches: tuple[int, ...], spring_lift: float
) -> np.ndarray:
    """Return how busy each day of the window is, relative to an ordinary day (1.0).

    ``launches`` are days before the end of the window on which a release or a new product came
    out: a wave of orders that fades over a few weeks.
    """
    local_start = start.astimezone(zoneinfo.ZoneInfo(time_zone)).date()
    dates = [local_start + dt.timedelta(days=d) for d in range(days)]
    curve = np.ones(days)
    months = np.array([d.month for d in dates])
    day_of_month = np.array([d.day for d in dates])
    curve[(months >= 4) & (months <= 6)] *= spring_lift
    curve[(months == 12) & (day_of_month <= 23)] *= 1.6
    for year in sorted({d.year for d in dates}):
        friday = black_friday(year)
        for offset, lift in ((0, 2.8), (1, 2.0), (2, 1.8), (3, 2.4)):  # Friday to Cyber Monday
            index = (friday - local_start).days + offset
            if 0 <= index < days:
                curve[index] *= lift
    index = np.arange(days)
    for days_before in launches:
        day = days - days_before
        after = index - day
        wave = np.where(after >= 0, 4.0 * np.exp(-np.clip(after, 0, None) / 12.0), 0.0)
        # A week of pre-orders before the release day.
        wave += np.where((after < 0) & (after >= -7), 0.8, 0.0)
        curve *= 1.0 + wave
    return curve


@dataclass
class Customers:
    """Latent traits of one shop's simulated customers (arrays of equal length)."""

    birth: np.ndarray  # day of the first purchase, from the start of the window
    rate: np.ndarray  # purchases per day while active, before the season
    dropout: np.ndarray  # probability of leaving after each purchase
    mean_spend: np.ndarray  # in minor units


def draw_customers(
    rng: np.random.Generator, *, count: int, season: np.ndarray, typical_order: int
) -> Customers:
    """Draw ``count`` customers: when each first buys, how often and how much, and when they leave."""
    days = len(season)
    weights = season * np.exp(GROWTH * np.arange(days) / days)
    birth_day = rng.choice(days, size=count, p=weights / weights.sum())
    birth = birth_day + rng.random(count)
    rate = rng.gamma(RATE_SHAPE, 1.0 / RATE_SHAPE, size=count) / 60.0
    dropout = rng.beta(DROPOUT_A, DROPOUT_B, size=count)
    mean_spend = rng.gamma(SPEND_CUSTOMER_SHAPE, typical_order / SPEND_CUSTOMER_SHAPE, size=count)
    return Customers(birth=birth, rate=rate, dropout=dropout, mean_spend=mean_spend)


def _repeats(
    rng: np.random.Generator, customers: Customers, season: np.ndarray, scale: float
) -> list[list[float]]:
    """Return, per customer, the days of their purchases after the first."""
    days = len(season)
    peak = float(season.max())
    result: list[list[float]] = []
    for birth, rate, dropout in zip(customers.birth, customers.rate, customers.dropout):
        times: list[float] = []
        t = float(birth)
        bound = rate * scale * peak
        while rng.random() >= dropout:
            # Thinning: candidates at the peak rate, each kept with the season's share of it.
            while True:
                t += rng.exponential(1.0 / bound)
                if t >= days or rng.random() * peak < season[int(t)]:
                    break
            if t >= days:
                break
            times.append(t)
        result.append(times)
    return result


def _calibrated_repeats(
    seed: int, customers: Customers, season: np.ndarray, wanted: int
) -> list[list[float]]:
    """Return repeat purchases with the rates scaled so that there are at least ``wanted`` (and
    not many more) when the dropout allows as many; the fewest above, else the most below."""
    if not wanted:
        return [[] for _ in customers.birth]
    scale, above, below = 1.0, None, None
    for _round in range(CALIBRATION_ROUNDS):
        repeats = _repeats(np.random.default_rng(seed), customers, season, scale)
        got = sum(len(r) for r in repeats)
        if got >= wanted:
            if above is None or got < above[0]:
                above = (got, repeats)
            if got <= wanted * 1.05:
                break
            scale *= max(wanted / got, 0.5)
        else:
            if below is None or got > below[0]:
                below = (got, repeats)
            scale *= min(max(wanted / max(got, 1), 1.1), 4.0)
    return (above or below)[1]


def purchase_days(
    seed: int, *, customers: Customers, season: np.ndarray, orders: int
) -> list[np.ndarray]:
    """Return, per customer, the sorted days of their purchases, about ``orders`` in all.

    The purchase rates are scaled until the total reaches ``orders``; the excess is removed
    from repeat purchases at random (fewer only when the dropout rates allow no more). With fewer orders than customers, some customers
    never buy (they only signed up).
    """
    count = len(customers.birth)
    wanted_repeats = max(orders - count, 0)
    repeats = _calibrated_repeats(seed, customers, season, wanted_repeats)
    trim = np.random.default_rng(seed + 1)
    flat = [(i, j) for i, times in enumerate(repeats) for j in range(len(times))]
    excess = len(flat) - wanted_repeats
    if excess > 0:
        drop = {flat[k] for k in trim.choice(len(flat), size=excess, replace=False)}
        repeats = [
            [t for j, t in enumerate(times) if (i, j) not in drop]
            for i, times in enumerate(repeats)
        ]
    firsts = np.ones(count, dtype=bool)
    if orders < count:
        firsts[:] = False
        firsts[trim.choice(count, size=orders, replace=False)] = True
    return [
        np.array(([float(customers.birth[i])] if firsts[i] else []) + repeats[i])
        for i in range(count)
    ]


def order_targets(rng: np.random.Generator, mean_spend: float, size: int) -> np.ndarray:
    """Return ``size`` basket targets around a customer's mean spend (minor units)."""
    return rng.gamma(SPEND_ORDER_SHAPE, mean_spend / SPEND_ORDER_SHAPE, size=size)
