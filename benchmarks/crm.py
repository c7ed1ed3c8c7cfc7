"""CRM benchmark: one synthetic shop of a million fans — value fit, stages, and the customers list.

Builds a shop with ``--customers`` customers (1,000,000) and ``--interactions`` timeline rows
(5,000,000) with a fixed seed (``synthetic_shop``: most fans only aware, a BG/NBD purchase
process for the buyers, a few community actions), bulk-inserted in a new temporary SQLite
database, or — when ``DATABASE_URL`` names a PostgreSQL server — in a new database on that
server, dropped at the end. Then, with the clock at the end of the drawn history, it times:

* ``stages_s``: ``stages_recompute`` of the whole shop from scratch (every customer starts aware,
  so every move is written with its StageChange and timeline row), with ``stages_cpu_s`` this
  process's CPU time meanwhile; ``stages_again_s``: the same once more (nothing left to write:
  the nightly run on a quiet day);
* ``rfm_s``: ``rfm_recompute`` (the scores the customers list sorts and filters on);
* ``read_s``: the shop's standing paid orders read from the database into arrays, and
  ``summary_s``: those turned into the RFM summary (``kinfolk.clv.summarize``);
* ``fit_s``: fitting BG/NBD + Gamma-Gamma and scoring every buyer (``kinfolk.clv.fit`` +
  ``score``); and ``value_refresh_s``: the whole of ``crm.services.value.shop_value_refresh``,
  read, fit and writes, when that service exists;
* ``lifetimes_fit_s``: ``lifetimes``' ``BetaGeoFitter.fit`` on the same summary — the yardstick;
  ``ratio`` is it divided by ``fit_s`` (both models and the scoring against its BG/NBD alone);
* ``list_p99_ms``: 200 requests of the customers list (``dashboard:customers``, logged in as the
  owner, filtered by stage and sorted by lifetime value) through Django's test client, or, while
  that page does not exist, the query it needs (``list_measured`` says which).

``--stage-indexes`` first creates the timeline indexes the stages' grouped query reads
(``STAGE_INDEXES``) with plain SQL in the benchmark's database, when no migration has made them.
Prints one JSON line on stdout (progress on stderr) and never fails on time.

    .venv/bin/python benchmarks/crm.py [--customers 1000000] [--interactions 5000000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/crm.py
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import synthetic_shop

NOW = dt.datetime.fromisoformat(str(synthetic_shop.NOW)).replace(tzinfo=dt.UTC)
TARGETS = {"fit_s": 2.0, "stages_s": 60.0, "list_p99_ms": 200.0}
LIST_QUERY = {"stage": "relationship", "sort": "-clv"}
LIST_REQUESTS = 200
# The timeline indexes the stages' grouped query reads (kinfolk.crm.stage_rules.signals_for):
# one covers a range of customers' rows, the other the refunds looked up by order number.
STAGE_INDEXES = {
    "interaction_stage_signals": (
        "shop_id",
        "customer_id",
        "kind",
        "occurred_at",
        "subject_type",
        "subject_id",
        "id",
    ),
    "interaction_kind_subject": ("shop_id", "kind", "occurred_at", "subject_type", "subject_id"),
}


def log(message: str) -> None:
    print(f"[crm-bench] {message}", file=sys.stderr, flush=True)


def timed(func: Callable, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - started, result


@contextlib.contextmanager
def database(keep: bool) -> Iterator[str]:
    """Point Django at a new database for the run; yield where it is; remove it afterwards."""
    data_dir = tempfile.mkdtemp(prefix="kinfolk-crm-bench-")
    os.environ["KINFOLK_DATA_DIR"] = data_dir
    url = os.environ.get("DATABASE_URL", "")
    name = f"kinfolk_crm_bench_{os.getpid()}"
    if url:
        import psycopg

        parts = urlsplit(url)
        server = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    where = os.environ.get("DATABASE_URL") or data_dir
    try:
        yield where
    finally:
        if url and not keep:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if keep:
            log(f"data kept in {where}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def django_setup() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "kinfolk.settings"
    os.environ["DEBUG"] = "0"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    # The pages name their static files through the manifest, as ``kinfolk serve`` has them.
    call_command("collectstatic", interactive=False, verbosity=0)


def shop_build(args) -> tuple[object, object, dict]:
    """Create the shop and its owner, draw and load the timeline; return shop, owner, figures."""
    from kinfolk.accounts.models import User
    from kinfolk.shops.services import shop_create

    owner = User.objects.create_user("owner@bench.example", "correct horse 42")
    shop = shop_create(
        slug="crm-bench",
        name="CRM benchmark",
        currency="USD",
        time_zone="Asia/Seoul",
        country="KR",
        owner=owner,
    )
    draw_s, timeline = timed(synthetic_shop.draw, args.customers, args.interactions, args.seed)
    log(f"{timeline.customers:,} customers and {len(timeline):,} rows drawn in {draw_s:.1f} s")
    load_s, _ = timed(synthetic_shop.load, shop.pk, timeline, log)
    log(f"loaded in {load_s:.1f} s")
    return shop, owner, {"draw_s": round(draw_s, 1), "load_s": round(load_s, 1)}


def stage_indexes(create: bool) -> tuple[str, float]:
    """Return where the stage indexes come from (creating them if asked) and the build time."""
    from django.db import connection

    with connection.cursor() as cursor:
        existing = [
            tuple(info["columns"])
            for info in connection.introspection.get_constraints(cursor, "crm_interaction").values()
            if info["index"]
        ]
    missing = {
        name: columns
        for name, columns in STAGE_INDEXES.items()
        if not any(_leads_with(found, columns) for found in existing)
    }
    if not missing:
        return "from migrations", 0.0
    if not create:
        return "absent", 0.0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for name, columns in missing.items():
            cursor.execute(f"CREATE INDEX {name} ON crm_interaction ({', '.join(columns)})")
            log(f"index {name} built")
        cursor.execute("ANALYZE crm_interaction")
    return "created by the benchmark", time.perf_counter() - started


def _leads_with(found: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """Return whether an index on ``found`` serves as one on ``wanted`` (whose trailing id
    SQLite adds to every index by itself)."""
    wanted = wanted[:-1] if wanted[-1] == "id" else wanted
    return found[: len(wanted)] == wanted


def purchases_read(shop) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return customer ids, days (UTC) and amounts (dollars) of the shop's standing paid orders."""
    from django.db.models import BigIntegerField
    from django.db.models.fields.json import KeyTextTransform
    from django.db.models.functions import Cast

    from kinfolk.crm.models import Interaction
    from kinfolk.crm.stage_rules import purchase_filter

    rows = (
        Interaction.objects.filter(shop=shop, occurred_at__lte=NOW)
        .filter(purchase_filter(shop=shop, now=NOW))
        .order_by()
        .values_list(
            "customer_id", "occurred_at", Cast(KeyTextTransform("total", "data"), BigIntegerField())
        )
    )
    ids, moments, cents = zip(*rows, strict=True) if rows else ((), (), ())
    seconds = np.fromiter((m.timestamp() for m in moments), dtype=np.int64, count=len(moments))
    days = seconds.astype("datetime64[s]").astype("datetime64[D]")
    return np.array(ids, dtype=np.int64), days, np.array(cents, dtype=np.float64) / 100


def value_figures(shop, skip_lifetimes: bool) -> dict:
    """Time the read, the summary, the fit + scoring, and lifetimes' fit on the same summary."""
    from kinfolk.clv import fit, score, summarize
    from kinfolk.clv.transactions import history_patterns

    read_s, (ids, days, amounts) = timed(purchases_read, shop)
    summary_s, summary = timed(
        summarize, ids, days, amounts, calibration_end=np.datetime64(NOW.date())
    )
    log(
        f"{len(ids):,} purchases read in {read_s:.1f} s, summary of {len(summary):,} in {summary_s:.2f} s"
    )
    started = time.perf_counter()
    fitted = fit(summary)
    model_s = time.perf_counter() - started
    scores = score(fitted, summary)
    fit_s = time.perf_counter() - started
    log(f"fit + scoring: {fit_s:.2f} s ({fitted.fallback or 'models fitted'})")
    figures = {
        "purchases": len(ids),
        "buyers": len(summary),
        "repeat_buyers": fitted.repeat_customers,
        "distinct_histories": len(history_patterns(summary)[0]),
        "read_s": round(read_s, 3),
        "summary_s": round(summary_s, 3),
        "model_fit_s": round(model_s, 3),
        "score_s": round(fit_s - model_s, 3),
        "fit_s": round(fit_s, 3),
        "fallback": fitted.fallback,
        "mean_clv": round(float(np.nanmean(scores.clv)), 2),
    }
    if fitted.bgnbd is not None:
        figures["bgnbd"] = {k: round(v, 5) for k, v in fitted.bgnbd.params.as_dict().items()}
    if not skip_lifetimes:
        figures.update(lifetimes_yardstick(summary, fitted, fit_s))
    return figures


def lifetimes_yardstick(summary, fitted, fit_s: float) -> dict:
    """Time ``lifetimes``' BG/NBD fit on the same summary."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from lifetimes import BetaGeoFitter
    except ImportError as exc:
        return {"lifetimes_fit_s": None, "lifetimes_skipped": f"lifetimes not importable: {exc}"}
    log(f"fitting lifetimes' BetaGeoFitter on {len(summary):,} buyers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        elapsed, reference = timed(
            BetaGeoFitter().fit, summary.frequency, summary.recency, summary.T
        )
    figures = {"lifetimes_fit_s": round(elapsed, 3), "ratio": round(elapsed / fit_s, 2)}
    if fitted.bgnbd is not None:
        ours = fitted.bgnbd.params.as_dict()
        theirs = {k: float(reference.params_[k]) for k in ours}
        figures["max_rel_param_diff"] = float(max(abs(ours[k] / theirs[k] - 1) for k in ours))
    return figures


def value_refresh_figures(shop) -> dict:
    """Time ``crm.services.value.shop_value_refresh`` when it exists."""
    try:
        from kinfolk.crm.services.value import shop_value_refresh
    except ImportError:
        return {"value_refresh_s": None}
    elapsed, _ = timed(shop_value_refresh, shop=shop, now=NOW)
    log(f"shop_value_refresh: {elapsed:.1f} s")
    return {"value_refresh_s": round(elapsed, 2)}


def percentile_ms(seconds: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(seconds) * 1000, q)), 1)


def list_figures(shop, owner) -> dict:
    """Time the customers list filtered by stage and sorted by value: the page, or its query."""
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse("dashboard:customers", kwargs={"shop": shop.slug})
    except NoReverseMatch:
        url = None
    if url is None:
        call, measured = list_query(shop), "orm_query"
    else:
        client = Client(SERVER_NAME="localhost")
        client.force_login(owner)

        def call():
            response = client.get(url, LIST_QUERY)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")

        measured = f"page {url}?stage={LIST_QUERY['stage']}&sort={LIST_QUERY['sort']}"
    for _ in range(5):
        call()
    times = [timed(call)[0] for _ in range(LIST_REQUESTS)]
    log(f"customers list ({measured}): p99 {percentile_ms(times, 99)} ms")
    return {
        "list_measured": measured,
        "list_requests": LIST_REQUESTS,
        "list_p50_ms": percentile_ms(times, 50),
        "list_p99_ms": percentile_ms(times, 99),
    }


def list_query(shop) -> Callable[[], None]:
    """Return the list page's reads without the page: the count and one page of 50 rows."""
    from kinfolk.crm.models import Customer

    def call() -> None:
        rows = (
            Customer.objects.filter(shop=shop, stage=LIST_QUERY["stage"])
            .select_related("score")
            .order_by("-score__clv", "-id")
        )
        rows.count()
        list(rows[:50])

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-data", action="store_true", help="keep the database afterwards")
    parser.add_argument("--skip-lifetimes", action="store_true", help="skip the yardstick")
    parser.add_argument(
        "--stage-indexes",
        action="store_true",
        help="create the timeline indexes the stages read when the migrations have not",
    )
    args = parser.parse_args()

    with database(args.keep_data):
        django_setup()
        figures = run(args)
    print(json.dumps(figures), flush=True)


def run(args) -> dict:
    from django.db import connection

    from kinfolk.core import clock
    from kinfolk.crm.selectors import customers_by_stage
    from kinfolk.crm.services import rfm_recompute, stages_recompute

    shop, owner, figures = shop_build(args)
    figures["stage_indexes"], index_s = stage_indexes(args.stage_indexes)
    figures["stage_indexes_build_s"] = round(index_s, 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_interaction WHERE shop_id = %s", [shop.pk])
        interactions = cursor.fetchone()[0]
    figures["load_average_before_stages"] = [round(x, 2) for x in os.getloadavg()]
    with clock.frozen(NOW):
        cpu = time.process_time()
        stages_s, first = timed(stages_recompute, shop=shop, now=NOW)
        stages_cpu_s = time.process_time() - cpu
        log(f"stages: {stages_s:.1f} s ({stages_cpu_s:.1f} s CPU), {first}")
        stages_again_s, again = timed(stages_recompute, shop=shop, now=NOW)
        log(f"stages again: {stages_again_s:.1f} s")
        rfm_s, rfm = timed(rfm_recompute, shop=shop, now=NOW)
        log(f"rfm: {rfm_s:.1f} s")
        figures.update(value_figures(shop, args.skip_lifetimes))
        figures.update(value_refresh_figures(shop))
        figures.update(list_figures(shop, owner))
    figures.update(
        {
            "stages_s": round(stages_s, 2),
            "stages_cpu_s": round(stages_cpu_s, 2),
            "stages_changed": first["changed"],
            "stages_again_s": round(stages_again_s, 2),
            "stages_again_changed": again["changed"],
            "stage_counts": customers_by_stage(shop=shop),
            "rfm_s": round(rfm_s, 2),
            "rfm_scored": rfm["customers"],
        }
    )
    return {
        "benchmark": "crm",
        "vendor": connection.vendor,
        "customers": args.customers,
        "interactions": interactions,
        **figures,
        "targets": TARGETS,
        "met": {
            key: figures.get(key) is not None and figures[key] <= limit
            for key, limit in TARGETS.items()
        },
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


if __name__ == "__main__":
    main()
