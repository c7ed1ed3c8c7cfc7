"""Customers list benchmark: the dashboard's list page on one shop of a million customers.

Builds a shop with ``--customers`` customers (1,000,000), about 55 % of them scored (RFM and
predicted value), in a new temporary SQLite database (``--data-dir`` reuses one built before).
Then it requests the list page through Django's test client, logged in as the owner, for a set
of filters and sorts — each first page, and the page after it through the "next" link — and
``/health/`` as the yardstick. Prints one JSON line: p50 and p99 in ms per case, the number of
queries each page ran, and the target (p99 <= 200 ms). Never fails on time.

    .venv/bin/python benchmarks/customers_list.py [--customers 1000000] [--requests 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
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
    "search_text": {"f": "1", "q": "number 500000"},
}
# A substring of the name or address is matched by scanning the shop's customers: a few
# requests tell its cost.
FEW_REQUESTS = {"search_text": 5}
SEGMENTS = ["champions", "loyal", "potential_loyalist", "new", "promising", "need_attention"]
STAGES = np.array(["awareness", "identification", "relationship", "community"])
COUNTRIES = np.array(["KR", "US", "JP", "DE", "FR", "GB", "CA", "AU", "BR", "MX"])


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
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for start in range(0, customers, BATCH):
            rows = [
                (
                    shop.pk,
                    f"fan{i}@example.com",
                    f"Fan Number {i}",
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
        log(f"{customers} customers in {time.perf_counter() - started:.0f} s")
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

    from django.test import Client
    from django.urls import reverse

    shop, owner = shop_build(args.customers, args.seed)
    client = Client()
    client.force_login(owner)
    url = reverse("dashboard:customers", kwargs={"shop": shop.slug})
    health, _, _ = timed_requests(client, "/health/", {}, args.requests)
    figures = {"customers": args.customers, "health_p50_ms": percentile_ms(health, 50)}
    for name, query in CASES.items():
        requests = FEW_REQUESTS.get(name, args.requests)
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
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
