"""Customer share benchmark: one shop's stored model (``crm.ShareSnapshot``) and the share reads.

Builds one synthetic shop with ``synthetic_shop`` (fixed seed): ``--customers`` fans (1,000,000),
a quarter of them buyers (about 250,000) whose orders follow its BG/NBD process over two years
(about 760,000 paid orders, placed, paid, most shipped, 2 % refunded), the others arriving
through a download, a follow or a sign-up (no everyday activity rows). Each paid order lists its
items as the orders app records them: 1–5 of ``--products`` (40) products, drawn from the
buyer's taste (one of the catalogue's categories) more often than from the shop at large; 3 % of
the paid orders list no items (imported ones), and two products are no longer in the catalogue
(deleted), a few more not on sale. The rows are bulk-inserted in a new temporary SQLite
database, or — when ``DATABASE_URL`` names a PostgreSQL server — in a new database on it,
dropped at the end (``crm.database``). Then, with the clock at the end of the history:

* ``refresh_s``: ``crm.services.share.share_snapshot_refresh`` (read every standing paid order
  once, build the model and the shop's figures, store the row), with ``refresh_cpu_s`` this
  process's CPU time (on SQLite the database's work too), ``refresh_peak_rss_mb`` the process's
  peak resident memory meanwhile and ``rss_before_refresh_mb`` its resident memory before, freed
  memory given back (the refresh's own share is the difference); ``snapshot_kb`` the stored
  document's size;
* ``customer_p50_ms`` / ``customer_p99_ms``: the fan's share as the customer page reads it
  (``share_snapshot_of`` + ``customer_share_for``: the stored model and the fan's own orders)
  for ``--sample`` (200) buyers drawn at random, each once;
* ``shop_p50_ms`` / ``shop_p99_ms``: the shop's figures as the insights page reads them
  (``share_snapshot_of`` + ``shop_share_for``), ``--sample`` times;
* ``per_request_s``: the yardstick, one fan's share computed the way the pages did before the
  stored model: every standing paid order of the shop read into memory, the model built from
  them and the fan's share computed (``paid_orders`` + ``co_purchases`` + ``customer_share``),
  with ``per_request_peak_rss_mb`` (and ``rss_before_per_request_mb``); ``ratio``: it divided by
  ``customer_p50_ms``;
* ``same_answer``: whether the stored model's answer for the yardstick's fan equals it.

Prints one JSON line on stdout (progress on stderr) and never fails on time.

    .venv/bin/python benchmarks/share.py [--customers 1000000] [--products 40] [--sample 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/share.py
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import os
import platform
import re
import sys
import time

import numpy as np
import synthetic_shop

import crm

NOW = crm.NOW
CATEGORIES = ["Music", "Apparel", "Posters", "Accessories", ""]
TASTE_SHARE = 0.7  # of a buyer's items, drawn from their favourite category
NO_ITEMS_SHARE = 0.03
DELETED = 2  # the last products: bought once, no longer in the catalogue
NOT_ON_SALE = 4  # the products before them: in the catalogue, archived


def log(message: str) -> None:
    print(f"[share-bench] {message}", file=sys.stderr, flush=True)


# --- The shop ----------------------------------------------------------------------------------


def draw(customers: int, seed: int) -> synthetic_shop.Timeline:
    """Draw the fans and their orders as ``synthetic_shop.draw`` does, without everyday activity
    (it does not touch customer share, and loading it would only take time)."""
    s = synthetic_shop
    rng = np.random.default_rng(seed)
    end = int(s.NOW.astype(np.int64))
    joined = np.sort(rng.integers(end - s.HISTORY_DAYS * s.DAY, end - s.DAY, customers))
    buyers = np.flatnonzero(rng.random(customers) < s.BUYER_SHARE)
    fans = np.setdiff1d(np.arange(customers), buyers, assume_unique=True)
    parts = [
        s._orders(rng, buyers, joined, end),
        s._rows(fans, s._kinds(rng, s.FIRST_CONTACT, len(fans)), joined[fans]),
    ]
    who, kind, at, order, total = (np.concatenate(column) for column in zip(*parts, strict=True))
    by_time = np.argsort(at, kind="stable")
    return s.Timeline(
        joined, who[by_time], kind[by_time], at[by_time], order[by_time], total[by_time]
    )


def products(count: int) -> list[tuple[int, str, str, bool, bool]]:
    """Return (number, name, category, on sale, deleted) of the shop's products, 1 to ``count``."""
    found = []
    for n in range(1, count + 1):
        category = CATEGORIES[(n - 1) % len(CATEGORIES)]
        deleted = n > count - DELETED
        archived = count - DELETED - NOT_ON_SALE < n <= count - DELETED
        found.append((n, f"{category or 'Extra'} item {n}", category, not archived, deleted))
    return found


def order_items(timeline, catalogue: list, seed: int) -> dict[int, str]:
    """Return, per order number of a paid order that lists items, its items as JSON text."""
    rng = np.random.default_rng(seed + 2)
    paid = np.flatnonzero(timeline.kind == synthetic_shop.CODE["order_paid"])
    keep = rng.random(len(paid)) >= NO_ITEMS_SHARE
    numbers, who = timeline.order[paid][keep], timeline.who[paid][keep]
    count = len(catalogue)
    popularity = 1.0 / np.arange(1, count + 1) ** 0.8
    popularity /= popularity.sum()
    category_of = np.array([CATEGORIES.index(p[2]) for p in catalogue])
    taste = rng.integers(0, len(CATEGORIES), who.max() + 1)[who]
    lines = 1 + np.minimum(rng.poisson(0.8, len(numbers)), 4)
    order_of = np.repeat(np.arange(len(numbers)), lines)
    product = rng.choice(count, len(order_of), p=popularity)
    # Most lines come from the buyer's favourite category, by popularity within it.
    liked = rng.random(len(order_of)) < TASTE_SHARE
    for category in range(len(CATEGORIES)):
        members = np.flatnonzero(category_of == category)
        weights = popularity[members] / popularity[members].sum()
        chosen = liked & (taste[order_of] == category)
        product[chosen] = members[rng.choice(len(members), chosen.sum(), p=weights)]
    pairs = np.unique(np.column_stack([order_of, product]), axis=0)  # one line per product
    quantity = rng.integers(1, 3, len(pairs))
    texts = [
        f'{{"product_id": {n}, "variant_id": {n * 10}, "sku": "SKU-{n}", "name": "{name}", '
        f'"category": "{category}", "quantity": %d}}'
        for n, name, category, _active, _deleted in catalogue
    ]
    found: dict[int, list[str]] = {}
    for o, p, q in zip(pairs[:, 0].tolist(), pairs[:, 1].tolist(), quantity.tolist(), strict=True):
        found.setdefault(o, []).append(texts[p] % q)
    return {int(numbers[o]): "[" + ", ".join(items) + "]" for o, items in found.items()}


def interaction_rows(shop_id: int, first: int, timeline, suffix: str, items: dict[int, str]):
    """Yield lists of crm_interaction rows as ``synthetic_shop.interaction_rows`` does, with
    the paid orders' items."""
    s = synthetic_shop
    paid = s.CODE["order_paid"]
    for start in range(0, len(timeline), s.BATCH):
        stop = min(start + s.BATCH, len(timeline))
        at = s.timestamps(timeline.at[start:stop], suffix)
        who = (timeline.who[start:stop] + first).tolist()
        kind = timeline.kind[start:stop].tolist()
        order = timeline.order[start:stop].tolist()
        total = timeline.total[start:stop].tolist()
        rows = []
        for i in range(stop - start):
            name = s.KINDS[kind[i]]
            is_order = order[i] >= 0
            data = "{}"
            if kind[i] == paid:
                lines = items.get(order[i])
                data = '{"total": ' + str(total[i]) + ', "currency": "USD"'
                data += (', "items": ' + lines + "}") if lines else "}"
            rows.append(
                (
                    shop_id,
                    who[i],
                    name,
                    at[i],
                    s.SOURCE.get(name, "storefront"),
                    "order" if is_order else "",
                    f"B{order[i]:07d}" if is_order else "",
                    data,
                )
            )
        yield rows


def shop_build(args) -> tuple[object, list, dict]:
    """Create the shop, draw and load its fans and orders; return it, its catalogue, figures."""
    from django.db import connection

    from kinfolk.accounts.models import User
    from kinfolk.crm.share import CatalogueProduct
    from kinfolk.shops.services import shop_create

    s = synthetic_shop
    owner = User.objects.create_user("owner@share-bench.example", "correct horse 42")
    shop = shop_create(
        slug="share-bench",
        name="Share benchmark",
        currency="USD",
        time_zone="Asia/Seoul",
        country="KR",
        owner=owner,
    )
    draw_s, timeline = crm.timed(draw, args.customers, args.seed)
    drawn = products(args.products)
    items_s, items = crm.timed(order_items, timeline, drawn, args.seed)
    log(f"{timeline.customers:,} fans, {len(timeline):,} rows, {len(items):,} orders with items")
    suffix = "+00" if connection.vendor == "postgresql" else ""
    started = time.perf_counter()
    with s._bulk_session(), s._indexes_dropped(["crm_customer", "crm_interaction"], log):
        s._insert(
            "crm_customer", s.CUSTOMER_COLUMNS, s.customer_rows(shop.pk, timeline, suffix, 0), log
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(id) FROM crm_customer WHERE shop_id = %s", [shop.pk])
            first = cursor.fetchone()[0]
        s._insert(
            "crm_interaction",
            s.INTERACTION_COLUMNS,
            interaction_rows(shop.pk, first, timeline, suffix, items),
            log,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    load_s = time.perf_counter() - started
    log(f"loaded in {load_s:.1f} s")
    catalogue = [
        CatalogueProduct(n, name, category, active)
        for n, name, category, active, deleted in drawn
        if not deleted
    ]
    return (
        shop,
        catalogue,
        {
            "draw_s": round(draw_s + items_s, 1),
            "load_s": round(load_s, 1),
            "rows": len(timeline),
            "fans": timeline.customers,
        },
    )


# --- Measuring ---------------------------------------------------------------------------------


def peak_rss_reset() -> bool:
    """Give freed memory back to the system and reset the process's peak resident memory
    (Linux); return whether it could. Without the first step, memory the shop's build freed
    but kept would serve the refresh unseen."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def rss_mb(field: str) -> float | None:
    """Return VmRSS or VmHWM (the peak) of this process in MB, None off Linux."""
    try:
        with open("/proc/self/status") as handle:
            found = re.search(rf"{field}:\s+(\d+) kB", handle.read())
    except OSError:
        return None
    return round(int(found.group(1)) / 1024, 1) if found else None


def ms(seconds: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(seconds) * 1000, q)), 2)


def run(args) -> dict:
    from django.db import connection

    from kinfolk.core import clock
    from kinfolk.crm.models import Customer, Interaction
    from kinfolk.crm.selectors.share import (
        customer_share_for,
        paid_orders,
        share_snapshot_of,
        shop_share_for,
    )
    from kinfolk.crm.services.share import share_snapshot_refresh
    from kinfolk.crm.share import co_purchases, customer_share

    shop, catalogue, figures = shop_build(args)
    with clock.frozen(NOW):
        measured = peak_rss_reset()
        figures["rss_before_refresh_mb"] = rss_mb("VmRSS")
        cpu = time.process_time()
        refresh_s, snapshot = crm.timed(share_snapshot_refresh, shop=shop, catalogue=catalogue)
        figures["refresh_cpu_s"] = round(time.process_time() - cpu, 2)
        figures["refresh_peak_rss_mb"] = rss_mb("VmHWM") if measured else None
        log(f"refresh: {refresh_s:.1f} s, {snapshot.orders_counted:,} orders counted")
        figures["refresh_s"] = round(refresh_s, 2)
        figures["orders_counted"] = snapshot.orders_counted
        figures["orders_without_items"] = snapshot.orders_without_items
        figures["buyers"] = snapshot.data["buyers"]
        figures["pairs"] = len(snapshot.data["pairs"]["both"])
        figures["snapshot_kb"] = round(len(json.dumps(snapshot.data)) / 1024, 1)

        rng = np.random.default_rng(args.seed + 3)
        buyer_ids = list(
            Interaction.objects.filter(shop=shop, kind=Interaction.Kind.ORDER_PAID)
            .order_by()
            .values_list("customer_id", flat=True)
            .distinct()
        )
        sample = rng.choice(buyer_ids, min(args.sample, len(buyer_ids)), replace=False).tolist()
        customers = list(Customer.objects.filter(pk__in=sample))

        def fan_share(customer):
            return customer_share_for(
                shop=shop,
                customer=customer,
                catalogue=catalogue,
                snapshot=share_snapshot_of(shop=shop),
            )

        for customer in customers[:5]:  # warm the connection and the caches
            fan_share(customer)
        fan_times = [crm.timed(fan_share, customer)[0] for customer in customers]
        log(f"customer page reads: p99 {ms(fan_times, 99)} ms")

        def shop_figures():
            return shop_share_for(shop=shop, snapshot=share_snapshot_of(shop=shop))

        shop_times = [crm.timed(shop_figures)[0] for _ in range(args.sample)]
        log(f"insights reads: p99 {ms(shop_times, 99)} ms")

        yardstick = customers[0]
        peak_rss_reset()
        figures["rss_before_per_request_mb"] = rss_mb("VmRSS")

        def per_request():
            orders = paid_orders(shop=shop)
            mine = [o for o in orders.counted if o.customer_id == yardstick.pk]
            return customer_share(
                co=co_purchases(orders.counted, catalogue),
                orders=mine,
                orders_without_items=orders.without_items.get(yardstick.pk, 0),
            )

        per_request_s, expected = crm.timed(per_request)
        figures["per_request_peak_rss_mb"] = rss_mb("VmHWM") if measured else None
        log(f"per-request yardstick: {per_request_s:.1f} s")
        figures["same_answer"] = fan_share(yardstick).share == expected

    p50 = ms(fan_times, 50)
    figures.update(
        {
            "customer_p50_ms": p50,
            "customer_p99_ms": ms(fan_times, 99),
            "shop_p50_ms": ms(shop_times, 50),
            "shop_p99_ms": ms(shop_times, 99),
            "per_request_s": round(per_request_s, 2),
            "ratio": round(per_request_s * 1000 / p50, 1) if p50 else None,
        }
    )
    return {
        "benchmark": "share",
        "vendor": connection.vendor,
        "customers": args.customers,
        "products": args.products,
        "sample": len(customers),
        **figures,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=40)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-data", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    with crm.database(args.keep_data):
        crm.django_setup()
        figures = run(args)
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
