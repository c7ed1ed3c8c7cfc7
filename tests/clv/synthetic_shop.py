"""Transactions drawn from the BG/NBD and Gamma-Gamma processes, for tests that need a shop."""

from __future__ import annotations

import numpy as np


def draw_shop(customers: int, seed: int, *, r=0.5, alpha=6.0, a=0.8, b=3.0, weeks=52):
    """Return (ids, dates, amounts) drawn from BG/NBD with first purchases in the first 26 weeks."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(r, 1.0 / alpha, customers) / 7.0
    dropout = rng.beta(a, b, customers)
    clock = rng.uniform(0, 26 * 7, customers)
    ids, times = [np.arange(customers)], [clock.copy()]
    active = np.arange(customers)
    while active.size:
        after = clock[active] + rng.exponential(1.0 / rate[active])
        inside = after < weeks * 7
        active = active[inside]
        clock[active] = after[inside]
        ids.append(active)
        times.append(clock[active])
        active = active[rng.random(active.size) >= dropout[active]]
    customer = np.concatenate(ids)
    nu = rng.gamma(4.0, 1.0 / 15.0, customers)
    amounts = np.round(rng.gamma(6.0, 1.0 / nu[customer]), 2)
    dates = np.datetime64("2024-01-01", "D") + np.concatenate(times).astype(np.int64)
    return customer, dates, amounts
