"""CRM benchmark: recomputing every stage and every RFM score of one large synthetic shop.

Builds a shop with ``--customers`` customers (200,000 by default) and ``--interactions``
timeline rows (1,000,000), inserted in bulk with a fixed seed: paid orders (some refunded),
downloads, follows, uploads, replies, RSVPs, posts and the shop's messages, spread over two
years, each fan's activity rate drawn from a Gamma (many quiet fans, a few very active ones).
Then it times, on that data:

* ``count_s``: ``SELECT count(*)`` of the shop's interactions — the yardstick;
* ``stages_first_s``: ``stages_recompute`` from scratch (most customers move, so every change is
  written with its StageChange and timeline row), and ``stages_again_s``: the same recomputation
  once more (nothing to write: the cost of the nightly run on a quiet day);
* ``rfm_first_s`` / ``rfm_again_s``: ``rfm_recompute``, first and second run.

Prints one JSON line on stdout (progress on stderr) and never fails on time. SQLite in a new
temporary data folder by default; ``DATABASE_URL`` selects another database, in which the
benchmark's own shop is removed at the end unless ``--keep-data`` is given.

    .venv/bin/python benchmarks/crm_stages.py [--customers 200000] [--interactions 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

KINDS = {  # kind: share of the interactions
    "order_paid": 0.30,
    "order_placed": 0.12,
    "download": 0.22,
    "follow": 0.08,
    "message_sent": 0.12,
    "order_refunded": 0.02,
    "upload": 0.04,
    "reply": 0.03,
    "rsvp": 0.03,
    "post": 0.02,
    "note": 0.02,
}
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
HISTORY_DAYS = 730
BATCH = 20000


def log(message: str) -> None:
    print(f"[crm-bench] {message}", file=sys.stderr, flush=True)


def setup_django() -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["KINFOLK_DATA_DIR"] = tempfile.mkdtemp(prefix="kinfolk-crm-bench-")
    os.environ.setdefault("KINFOLK_DATA_DIR", tempfile.mkdtemp(prefix="kinfolk-crm-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "kinfolk.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def make_shop(seed: int):
    from kinfolk.accounts.models import User
    from kinfolk.shops.services import shop_create

    tag = f"{seed}-{int(time.time())}"
    owner = User.objects.create_user(f"bench-{tag}@example.com", "correct horse 42")
    return shop_create(
        slug=f"crm-bench-{tag}",
        name="CRM benchmark",
        currency="KRW",
        time_zone="Asia/Seoul",
        country="KR",
        owner=owner,
    )


def insert_rows(shop, customers: int, interactions: int, seed: int) -> None:
    """Insert the customers and their timeline with plain multi-row INSERTs."""
    from django.db import connection, transaction

    rng = np.random.default_rng(seed)
    created = NOW - dt.timedelta(days=HISTORY_DAYS)
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, customers, BATCH):
            rows = [
                (shop.pk, f"fan{n}@bench.example", "", "", created, "awareness")
                for n in range(start, min(start + BATCH, customers))
            ]
            cursor.executemany(
                "INSERT INTO crm_customer (shop_id, email, name, country, created_at, stage)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                rows,
            )
        cursor.execute("SELECT min(id) FROM crm_customer WHERE shop_id = %s", [shop.pk])
        first_id = cursor.fetchone()[0]
    log(f"{customers} customers inserted")
    # Each fan's activity rate is drawn from a Gamma: many quiet fans, a few very active ones.
    rates = rng.gamma(0.7, 1.0, size=customers)
    who = first_id + rng.choice(customers, size=interactions, p=rates / rates.sum())
    kinds = rng.choice(list(KINDS), size=interactions, p=np.array(list(KINDS.values())))
    seconds = rng.integers(0, HISTORY_DAYS * 86400, size=interactions)
    totals = rng.gamma(2.0, 20000.0, size=interactions).astype(np.int64)
    orders = rng.integers(0, max(1, interactions // 3), size=interactions)
    for start in range(0, interactions, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, interactions)):
            kind = str(kinds[i])
            is_order = kind.startswith("order_")
            rows.append(
                (
                    shop.pk,
                    int(who[i]),
                    kind,
                    created + dt.timedelta(seconds=int(seconds[i])),
                    "import",
                    "order" if is_order else "",
                    f"B{orders[i]}" if is_order else "",
                    json.dumps({"total": int(totals[i])} if kind == "order_paid" else {}),
                )
            )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO crm_interaction (shop_id, customer_id, kind, occurred_at, source,"
                " subject_type, subject_id, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
        if (start // BATCH) % 10 == 0:
            log(f"{min(start + BATCH, interactions)} interactions inserted")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - started, result


def remove(shop) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("crm_interaction", "crm_stagechange", "crm_customerscore", "crm_customer"):
            cursor.execute(f"DELETE FROM {table} WHERE shop_id = %s", [shop.pk])
    from kinfolk.accounts.models import User

    slug = shop.slug
    shop.delete()
    User.objects.filter(email=f"bench-{slug.removeprefix('crm-bench-')}@example.com").delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-data", action="store_true")
    args = parser.parse_args()

    setup_django()
    from django.db import connection

    from kinfolk.crm.services import rfm_recompute, stages_recompute

    shop = make_shop(args.seed)
    insert_s, _ = timed(insert_rows, shop, args.customers, args.interactions, args.seed)
    log(f"data inserted in {insert_s:.1f} s")

    def count() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM crm_interaction WHERE shop_id = %s", [shop.pk])
            return cursor.fetchone()[0]

    count_s, counted = timed(count)
    stages_first_s, first = timed(stages_recompute, shop=shop, now=NOW)
    log(f"stages: {stages_first_s:.1f} s, {first}")
    stages_again_s, again = timed(stages_recompute, shop=shop, now=NOW)
    rfm_first_s, rfm_first = timed(rfm_recompute, shop=shop, now=NOW)
    log(f"rfm: {rfm_first_s:.1f} s, {rfm_first}")
    rfm_again_s, rfm_again = timed(rfm_recompute, shop=shop, now=NOW)
    figures = {
        "benchmark": "crm_stages",
        "vendor": connection.vendor,
        "customers": args.customers,
        "interactions": counted,
        "insert_s": round(insert_s, 2),
        "count_s": round(count_s, 4),
        "stages_first_s": round(stages_first_s, 2),
        "stages_first_changed": first["changed"],
        "stages_again_s": round(stages_again_s, 2),
        "stages_again_changed": again["changed"],
        "stages_interactions_per_s": round(counted / stages_again_s),
        "stages_customers_per_s": round(args.customers / stages_again_s),
        "stage_counts": {key: first[key] for key in first if key not in ("up", "down")},
        "rfm_first_s": round(rfm_first_s, 2),
        "rfm_scored": rfm_first["customers"],
        "rfm_again_s": round(rfm_again_s, 2),
        "rfm_again_written": rfm_again["created"] + rfm_again["updated"] + rfm_again["deleted"],
        "ratio_stages_to_count": round(stages_again_s / count_s, 1),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }
    if not args.keep_data and os.environ.get("DATABASE_URL"):
        remove(shop)
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
