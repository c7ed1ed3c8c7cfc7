"""Customers list benchmark: the dashboard's list page on one shop of a million customers.

Builds a shop with ``--customers`` customers (1,000,000), about 55 % of them scored (RFM and
predicted value), in a new temporary SQLite database (``--data-dir`` reuses one built before), or
in the PostgreSQL database ``DATABASE_URL`` names (reused when it already holds the shop). Two
customers in five have a Korean name (family name then given name, "김민수"; a few give only
their given name or a one-syllable one), the others "Fan Number <n>"; every address is
``fan<n>@example.com``. Then it requests the list page through Django's test client, logged in
as the owner, for a set of filters, sorts and searches — each first page, and the page after it
through the "next" link — and ``/health/`` as the yardstick. Prints one JSON line: p50 and p99
in ms per case, the number of queries each page ran, and the target (p99 <= 200 ms). Never
fails on time.

    .venv/bin/python benchmarks/customers_list.py [--customers 1000000] [--requests 100]
    DATABASE_URL=postgres://... .venv/bin/python benchmarks/customers_list.py --data-dir DIR
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
BATCH = 50_000
CASES = {
    "stage_by_clv": {"f": "1", "stage": "relationship", "sort": "-clv"},
    "rare_stage_by_clv": {"f": "1", "stage": "community", "sort": "-clv"},
    "everyone_newest": {},
    "stage_by_name": {"f": "1", "stage": "identification", "sort": "name"},
    "by_orders": {"sort": "-orders"},
    "by_last_purchase": {"sort": "-last_purchase"},
    "by_stage": {"sort": "-stage"},
    "segment_and_country_by_paid": {
        "f": "1",
        "segment": "champions",
        "country": "KR",
        "sort": "-paid",
    },
    "whole_email": {"f": "1", "q": "fan500000@example.com"},
    # Seven customers: "Fan Number 50000" and "...500000" to "...500009" (Korean ones left out).
    "name_fragment": {"f": "1", "q": "number 50000"},
    # fan123456@ alone: a part of an address that only one customer has.
    "address_fragment": {"f": "1", "q": "AN123456@"},
    # Every customer: a part that most addresses share (a domain).
    "common_fragment": {"f": "1", "q": "example.com"},
    # A Korean given name of two syllables: the names that start with it (about 0.1 %).
    "korean_2_chars": {"f": "1", "q": "민수"},
    # A whole Korean name (about 0.45 % of the customers), then a rarer one (about 0.04 %).
    "korean_name": {"f": "1", "q": "김민수"},
    "korean_rare_name": {"f": "1", "q": "황서윤"},
    # A family name of one syllable: about 4 % of the customers' names start with it.
    "korean_1_char": {"f": "1", "q": "박"},
}
SEGMENTS = ["champions", "loyal", "potential_loyalist", "new", "promising", "need_attention"]
STAGES = np.array(["awareness", "identification", "relationship", "community"])
COUNTRIES = np.array(["KR", "US", "JP", "DE", "FR", "GB", "CA", "AU", "BR", "MX"])
# Korean family names with roughly their share of the population, and common given names.
FAMILY_NAMES = {
    "김": 0.22, "이": 0.15, "박": 0.09, "최": 0.05, "정": 0.05, "강": 0.03, "조": 0.03,
    "윤": 0.03, "장": 0.02, "임": 0.02, "한": 0.02, "오": 0.02, "서": 0.02, "신": 0.02,
    "권": 0.02, "황": 0.02, "안": 0.02, "송": 0.02, "류": 0.02, "홍": 0.02,
}  # fmt: skip
GIVEN_NAMES = [
    "민수", "민준", "민지", "서연", "서준", "서윤", "지훈", "지은", "지민", "현우",
    "수빈", "예은", "하은", "도윤", "시우", "유진", "은지", "준호", "성민", "영희",
]  # fmt: skip
ONE_SYLLABLE_NAMES = ["준", "란", "혁", "진", "현"]


def korean_names(rng, count: int) -> list[str]:
    """Return ``count`` Korean names: mostly family + given name, some a given name alone
    ("민수"), some a one-syllable given name ("허준")."""
    shares = np.array(list(FAMILY_NAMES.values()))
    family = rng.choice(list(FAMILY_NAMES), size=count, p=shares / shares.sum())
    given = rng.choice(GIVEN_NAMES, size=count)
    short = rng.choice(ONE_SYLLABLE_NAMES, size=count)
    form = rng.random(count)
    return [
        g if f < 0.05 else (fam + s if f < 0.10 else fam + g)
        for fam, g, s, f in zip(family, given, short, form, strict=True)
    ]


def log(message: str) -> None:
    print(f"[customers-list] {message}", file=sys.stderr, flush=True)


def django_setup(data_dir: str) -> None:
    os.environ["KINFOLK_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "kinfolk.settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    # The pages name their static files through the manifest that collectstatic writes.
    call_command("collectstatic", interactive=False, verbosity=0)


def shop_build(customers: int, seed: int):
    """Return (shop, owner) of the benchmark shop, building it when the database has none."""
    from django.db import connection, transaction

    from kinfolk.accounts.models import User
    from kinfolk.shops.models import Shop
    from kinfolk.shops.services import shop_create

    owner = User.objects.filter(email="list-bench@example.com").first()
    if owner is not None:
        return Shop.objects.get(slug="list-bench"), owner
    owner = User.objects.create_user("list-bench@example.com", "list-bench-password-42")
    shop = shop_create(
        slug="list-bench",
        name="List bench",
        currency="KRW",
        time_zone="Asia/Seoul",
        country="KR",
        owner=owner,
    )
    rng = np.random.default_rng(seed)
    stage = rng.choice(4, size=customers, p=[0.5, 0.3, 0.15, 0.05])
    country = rng.integers(0, len(COUNTRIES), customers)
    consent = rng.random(customers) < 0.4
    age = rng.integers(0, 5 * 365 * 86400, customers)
    korean = korean_names(rng, customers)
    started = time.perf_counter()
    with connection.cursor() as cursor, search_index_paused():
        for start in range(0, customers, BATCH):
            rows = [
                (
                    shop.pk,
                    f"fan{i}@example.com",
                    korean[i] if i % 5 in (1, 3) else f"Fan Number {i}",
                    COUNTRIES[country[i]],
                    (NOW - dt.timedelta(seconds=int(age[i]))).isoformat(),
                    STAGES[stage[i]],
                    bool(consent[i]),
                )
                for i in range(start, min(customers, start + BATCH))
            ]
            with transaction.atomic():
                cursor.executemany(
                    "INSERT INTO crm_customer (shop_id, email, name, country, created_at, stage,"
                    " email_marketing) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )
    with connection.cursor() as cursor:
        log(
            f"{customers} customers and their search index in {time.perf_counter() - started:.0f} s"
        )
        cursor.execute("SELECT id, stage FROM crm_customer WHERE shop_id = %s", [shop.pk])
        scored = [pk for pk, st in cursor.fetchall() if st != "awareness" or rng.random() < 0.1]
        for start in range(0, len(scored), BATCH):
            rows = []
            for pk in scored[start : start + BATCH]:
                orders = int(rng.integers(1, 12))
                paid = int(rng.lognormal(11, 1)) * orders
                clv = int(paid * rng.random() * 2) if rng.random() < 0.97 else None
                last = NOW - dt.timedelta(days=int(rng.integers(0, 700)))
                rfm = rng.integers(1, 6, 3)
                rows.append(
                    (
                        pk,
                        shop.pk,
                        last.isoformat(),
                        orders,
                        paid,
                        int(rfm[0]),
                        int(rfm[1]),
                        int(rfm[2]),
                        SEGMENTS[int(rng.integers(0, len(SEGMENTS)))],
                        NOW.isoformat(),
                        float(rng.random()) if clv else None,
                        clv,
                        "model" if clv else "",
                    )
                )
            with transaction.atomic():
                cursor.executemany(
                    "INSERT INTO crm_customerscore (customer_id, shop_id, last_purchase_at,"
                    " frequency, monetary, recency_score, frequency_score, monetary_score,"
                    " segment, scored_at, p_alive, clv, value_method)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )
        log(f"{len(scored)} scores, {time.perf_counter() - started:.0f} s in all")
    return shop, owner


@contextlib.contextmanager
def search_index_paused():
    """On SQLite, load the customers without the search index's triggers, then index them in one
    pass as migration 0010 does: FTS5 writes its pending terms at the end of every statement,
    which makes a trigger's write cost ~0.1-0.5 ms a row against ~15 us in a rebuild."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    search = importlib.import_module("kinfolk.crm.migrations.0010_customer_search")
    table = search.FTS_TABLE
    with connection.cursor() as cursor:
        for event in ("insert", "update", "delete"):
            cursor.execute(f"DROP TRIGGER {table}_{event}")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
        for statement in search.SQLITE_TRIGGERS:
            cursor.execute(statement)


def percentile_ms(seconds: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(seconds) * 1000, q)), 1)


def timed_requests(client, url: str, query: dict, requests: int) -> tuple[list[float], int, str]:
    """Return the times of ``requests`` GETs, the queries of one, and the page's "next" link."""
    from django.db import connection

    statements = []
    with connection.execute_wrapper(lambda execute, *args: statements.append(1) or execute(*args)):
        response = client.get(url, query)
    if response.status_code != 200:
        raise RuntimeError(f"{url} {query} answered {response.status_code}")
    match = re.search(r'<a href="([^"]+)" rel="next">', response.content.decode())
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url, query)
        times.append(time.perf_counter() - started)
    return times, len(statements), match.group(1).replace("&amp;", "&") if match else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", help="reuse (or keep) the database in this folder")
    args = parser.parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="kinfolk-list-bench-")
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    django_setup(data_dir)

    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    shop, owner = shop_build(args.customers, args.seed)
    client = Client()
    client.force_login(owner)
    url = reverse("dashboard:customers", kwargs={"shop": shop.slug})
    health, _, _ = timed_requests(client, "/health/", {}, args.requests)
    figures = {"customers": args.customers, "health_p50_ms": percentile_ms(health, 50)}
    for name, query in CASES.items():
        requests = args.requests
        times, queries, next_link = timed_requests(client, url, query, requests)
        figures[name] = {
            "p50_ms": percentile_ms(times, 50),
            "p99_ms": percentile_ms(times, 99),
            "queries": queries,
            "requests": requests,
        }
        if next_link:
            times, _, _ = timed_requests(client, url + next_link, {}, requests)
            figures[name]["next_page_p99_ms"] = percentile_ms(times, 99)
        log(f"{name}: {figures[name]}")
    figures["target_p99_ms"] = 200
    figures["data_dir"] = data_dir
    figures["database"] = connection.vendor
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
