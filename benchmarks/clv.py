"""CLV benchmark: BG/NBD + Gamma-Gamma fit and scoring of a million synthetic customers.

Draws transactions from the BG/NBD generative process (purchase rates λ ~ Gamma(r, α), dropout
after each repeat purchase with p ~ Beta(a, b); values from the Gamma-Gamma process) with a fixed
seed, dated to the day over two years: first purchases spread over the first year, a calibration
period of 78 weeks, a holdout of 26 weeks. Then it times

* ``summary_s``: raw transactions to the RFM summary (``kinfolk.clv.summarize``);
* ``fit_s``: fitting both models and scoring every customer (``fit`` + ``score``): P(alive),
  expected purchases in 90 and 365 days, expected spend and 12-month CLV;
* ``lifetimes_fit_s``: ``lifetimes``' ``BetaGeoFitter.fit`` on the same summary, in the same run —
  the yardstick (``--lifetimes-customers`` bounds it to a prefix of the customers and says so).

Prints one JSON line on stdout (progress on stderr) and never fails on time; the target is
``fit_s`` <= 2 s on the 2-core machine.

    .venv/bin/python benchmarks/clv.py [--customers 1000000] [--seed 7] [--no-lifetimes]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings

import numpy as np

from kinfolk.clv import fit, score, summarize
from kinfolk.clv.transactions import history_patterns

TRUE_BGNBD = {"r": 0.9, "alpha": 9.0, "a": 1.2, "b": 6.0}  # α per week
TRUE_GAMMAGAMMA = {"p": 6.0, "q": 4.0, "gamma": 15.0}
START = np.datetime64("2024-01-01", "D")
ACQUISITION_DAYS = 365
CALIBRATION_DAYS = 78 * 7
OBSERVATION_DAYS = 104 * 7


def log(message: str) -> None:
    print(f"[clv-bench] {message}", file=sys.stderr, flush=True)


def draw_transactions(customers: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return customer ids, dates and amounts drawn from BG/NBD and Gamma-Gamma, sorted by nothing."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(TRUE_BGNBD["r"], 1.0 / TRUE_BGNBD["alpha"], customers) / 7.0  # per day
    dropout = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], customers)
    nu = rng.gamma(TRUE_GAMMAGAMMA["q"], 1.0 / TRUE_GAMMAGAMMA["gamma"], customers)
    clock = rng.uniform(0, ACQUISITION_DAYS, customers)
    ids = [np.arange(customers)]
    times = [clock.copy()]
    active = np.arange(customers)
    while active.size:
        clock_next = clock[active] + rng.exponential(1.0 / rate[active])
        inside = clock_next < OBSERVATION_DAYS
        active = active[inside]
        clock[active] = clock_next[inside]
        ids.append(active)
        times.append(clock[active])
        active = active[rng.random(active.size) >= dropout[active]]
    customer = np.concatenate(ids)
    day = START + np.concatenate(times).astype(np.int64)
    amount = np.round(rng.gamma(TRUE_GAMMAGAMMA["p"], 1.0 / nu[customer]), 2)
    # Shuffle, as an export would list them in order of time, not customer.
    order = rng.permutation(len(customer))
    return customer[order], day[order], amount[order]


def blas() -> dict:
    """Return which BLAS NumPy runs, without changing the environment's settings for it."""
    info: dict = {
        key: os.environ[key]
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")
        if key in os.environ
    }
    try:
        from threadpoolctl import threadpool_info

        info["pools"] = [
            {k: pool.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for pool in threadpool_info()
        ]
    except ImportError:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["build"] = config.get("openblas configuration") or config.get("name")
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--lifetimes-customers",
        type=int,
        default=0,
        help="fit lifetimes on this many customers only (default: all of them)",
    )
    parser.add_argument("--no-lifetimes", action="store_true", help="skip the lifetimes yardstick")
    options = parser.parse_args()

    log(f"drawing {options.customers:,} customers (seed {options.seed})")
    started = time.perf_counter()
    ids, days, amounts = draw_transactions(options.customers, options.seed)
    draw_s = time.perf_counter() - started
    log(f"{len(ids):,} transactions in {draw_s:.1f} s; building the summary")

    started = time.perf_counter()
    summary = summarize(
        ids,
        days,
        amounts,
        calibration_end=START + CALIBRATION_DAYS - 1,
        observation_end=START + OBSERVATION_DAYS - 1,
    )
    summary_s = time.perf_counter() - started

    log("fitting BG/NBD + Gamma-Gamma and scoring every customer")
    started = time.perf_counter()
    fitted = fit(summary)
    model_s = time.perf_counter() - started
    scores = score(fitted, summary)
    fit_s = time.perf_counter() - started
    score_s = fit_s - model_s
    assert fitted.bgnbd is not None and fitted.gammagamma is not None, fitted.fallback_detail

    figures: dict = {
        "benchmark": "clv",
        "customers": len(summary),
        "transactions": len(ids),
        "repeat_customers": fitted.repeat_customers,
        "distinct_histories": len(history_patterns(summary)[0]),
        "summary_s": round(summary_s, 3),
        "model_fit_s": round(model_s, 3),
        "score_s": round(score_s, 3),
        "fit_s": round(fit_s, 3),
        "bgnbd": {k: round(v, 5) for k, v in fitted.bgnbd.params.as_dict().items()},
        "bgnbd_loglik": round(fitted.bgnbd.loglik, 2),
        "gammagamma": {k: round(v, 4) for k, v in fitted.gammagamma.params.as_dict().items()},
        "true_bgnbd": TRUE_BGNBD,
        "true_gammagamma": TRUE_GAMMAGAMMA,
        "mean_clv": round(float(scores.clv.mean()), 3),
        "target_fit_s": 2.0,
    }

    if not options.no_lifetimes:
        figures.update(lifetimes_yardstick(summary, fitted, options.lifetimes_customers, fit_s))
    figures["python"] = platform.python_version()
    figures["cpus"] = os.cpu_count()
    figures["blas"] = blas()
    print(json.dumps(figures), flush=True)


def lifetimes_yardstick(summary, fitted, limit: int, fit_s: float) -> dict:
    """Time ``lifetimes``' BG/NBD fit on the same summary (or its first ``limit`` customers)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from lifetimes import BetaGeoFitter
    except ImportError as exc:
        return {"lifetimes_fit_s": None, "lifetimes_skipped": f"lifetimes not importable: {exc}"}
    n = len(summary) if limit <= 0 else min(limit, len(summary))
    log(f"fitting lifetimes' BetaGeoFitter on {n:,} customers")
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = BetaGeoFitter().fit(summary.frequency[:n], summary.recency[:n], summary.T[:n])
    elapsed = time.perf_counter() - started
    ours = fitted.bgnbd.params.as_dict()
    theirs = {k: float(reference.params_[k]) for k in ours}
    return {
        "lifetimes_customers": n,
        "lifetimes_fit_s": round(elapsed, 3),
        "lifetimes_bgnbd": {k: round(v, 5) for k, v in theirs.items()},
        "max_rel_param_diff": float(max(abs(ours[k] / theirs[k] - 1) for k in ours)),
        # Against the whole fit + scoring, not the BG/NBD fit alone: the ratio is a floor.
        "ratio": round(elapsed / fit_s, 2) if n == len(summary) else None,
    }


if __name__ == "__main__":
    main()
