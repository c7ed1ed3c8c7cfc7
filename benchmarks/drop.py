"""Drop benchmark: a numbered edition of 2,000 copies open now, and 20,000 fans rushing it.

Makes a shop and the edition in a new data folder and database (SQLite, or a new database on the
PostgreSQL server ``DATABASE_URL`` names), serves them with gunicorn (2 workers) on a free
loopback port, and runs, at concurrency 200:

1. ``health``: ``/health/``, the yardstick (Django's request cycle without the database);
2. ``drop_page``: every fan opens the drop's page (its CSRF token and cookie come from it);
3. ``rush``: every fan posts the reserve form with their own e-mail address, logged out; a fan
   with a copy held goes on as a browser does: the checkout page, the order placed with a Seoul
   address and the test card processor, the processor's page, the card, and then the processor's
   signed callback, which the benchmark sends itself (no background worker runs), and the order
   page (``--no-order-page`` leaves it out).

The reserve rate limits are raised through ``DROPS_RESERVE_RATE_PER_IP`` and
``DROPS_RESERVE_RATE_PER_EMAIL``: every fan comes from 127.0.0.1. At the end the database is
checked: each sold copy has its own number in 1..N and its own paid order, and paid orders equal
copies sold. Prints one JSON line (progress on stderr); never fails on time.

    .venv/bin/python benchmarks/drop.py [--copies 2000] [--buyers 20000] [--concurrency 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import secrets
import signal
import sys
import time

from _drop_rush import STEPS, Fan, Plan, Rush, new_session, run_fans
from _fresh import Meter, fresh_site, logger, percentile_ms
from loadgen.client import get_loop
from loadgen.server import Server, free_port

log = logger("drop-bench")
UNLIMITED_RATE = "1000000/s"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=2000)
    parser.add_argument("--buyers", type=int, default=20000, help="at most this many fans")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=120.0, help="at most this long per phase")
    parser.add_argument("--health-requests", type=int, default=4000)
    parser.add_argument(
        "--no-order-page",
        dest="order_page",
        action="store_false",
        help="fans do not load their order page after paying",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=["gthread", "sync"], default="gthread")
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the data folder, database and server log"
    )
    return parser.parse_args(argv)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def prepare(options: argparse.Namespace, base: str) -> tuple[Plan, int]:
    """Create the shop and its edition, open since a minute ago; return the plan, edition id."""
    from django.conf import settings
    from django.urls import reverse

    from kinfolk.accounts.models import User
    from kinfolk.core import clock
    from kinfolk.drops.services.editions import edition_create_with_product
    from kinfolk.shops.services import shipping_zone_create, shop_create
    from kinfolk.testpay import signature

    owner = User.objects.create_user("owner@bench.example.com", "correct horse 42")
    shop = shop_create(
        slug="bench",
        name="Moonlit Bench",
        currency="KRW",
        time_zone="Asia/Seoul",
        country="KR",
        owner=owner,
    )
    shipping_zone_create(shop=shop, name="Domestic", countries=["KR"], rate=3000, free_over=60000)
    shipping_zone_create(shop=shop, name="World", countries=[], rate=15000)
    edition = edition_create_with_product(
        shop=shop,
        name="Night Drive — Deluxe Edition",
        price=750000,
        size=options.copies,
        opens_at=clock.now() - dt.timedelta(minutes=1),
    )
    args = [shop.slug, edition.product.slug]
    secret = settings.TESTPAY_SECRET

    def sign(body: bytes, timestamp: int) -> str:
        return signature.sign(body, secret=secret, timestamp=timestamp)

    plan = Plan(
        base=base,
        drop=reverse("storefront:drop", args=args),
        reserve=reverse("storefront:drop-reserve", args=args),
        waitlist=reverse("storefront:drop-waitlist", args=args),
        checkout=reverse("storefront:checkout", args=[shop.slug]),
        callback=reverse("orders:payment-callback", args=["testpay"]),
        currency=shop.currency,
        sign=sign,
        size=options.copies,
        order_page=options.order_page,
    )
    return plan, edition.pk


def invariants(edition_id: int) -> dict:
    """Return what the database says was sold, and whether every invariant holds."""
    from django.db import connection
    from django.db.models import Count

    from kinfolk.drops.models import Copy, Edition
    from kinfolk.orders.models import Order

    connection.close()  # a new connection sees everything the server committed
    edition = Edition.objects.get(pk=edition_id)
    sold = Copy.objects.filter(edition=edition, state=Copy.State.SOLD)
    numbers = sold.values("number").distinct().count()
    count = sold.count()
    out_of_range = sold.exclude(number__gte=1, number__lte=edition.size).count()
    orders_with_two = (
        sold.values("order").annotate(n=Count("id")).filter(n__gt=1).count()
    )  # an order holding two copies (each fan ordered one)
    without_order = sold.filter(order__isnull=True).count()
    paid = Order.objects.filter(
        lines__variant_id=edition.variant_id, status=Order.Status.PAID
    ).distinct()
    paid_count = paid.count()
    paid_without_copy = paid.exclude(edition_copies__edition=edition).count()
    refunded = (
        Order.objects.filter(lines__variant_id=edition.variant_id, status=Order.Status.REFUNDED)
        .distinct()
        .count()
    )
    held = Copy.objects.filter(edition=edition, state=Copy.State.HELD).count()
    figures = {
        "sold": count,
        "oversold": max(0, paid_count - edition.size) + paid_without_copy,
        "duplicate_numbers": count - numbers,
        "copies_out_of_range": out_of_range,
        "orders_with_two_copies": orders_with_two,
        "sold_without_order": without_order,
        "paid_orders": paid_count,
        "paid_orders_without_copy": paid_without_copy,
        "refunded_orders": refunded,
        "still_held": held,
    }
    figures["invariants_hold"] = (
        count == numbers == paid_count
        and not out_of_range
        and not orders_with_two
        and not without_order
        and not paid_without_copy
        and count <= edition.size
    )
    return figures


async def load(plan: Plan, server: Server, options: argparse.Namespace) -> dict:
    c, s = options.concurrency, options.seconds
    meter = Meter(server, log)
    log("warming up")
    await get_loop(
        plan.base, ["/health/", plan.drop], count=200, seconds=s, concurrency=c, step="warmup"
    )
    with meter.phase("health"):
        health, health_s = await get_loop(
            plan.base, ["/health/"], count=options.health_requests, seconds=s, concurrency=c,
            step="health",
        )  # fmt: skip
    health_rps = len(health.latencies["health"]) / health_s
    fans = [Fan(f"fan{n}@bench.example.com") for n in range(options.buyers)]
    async with new_session(c) as session:
        rush = Rush(session, plan)
        with meter.phase("drop_page"):
            arrived, page_s = await run_fans(fans, rush.open_page, concurrency=c, seconds=s)
        fans = [fan for fan in fans[:arrived] if fan.csrf]
        with meter.phase("rush"):
            started = time.monotonic()
            buyers, rush_s = await run_fans(fans, rush.buy, concurrency=c, seconds=s)
    reserve_s = max(rush.last_reserve - started, 1e-9)
    purchase_s = max(rush.last_purchase - started, 1e-9)
    reserves = len(rush.latencies["reserve"])
    purchased = rush.outcomes["purchased"]
    reserve_rps = reserves / reserve_s
    for step, what in {**health.examples, **rush.examples}.items():
        log(f"first failure of {step}: {what}")
    failures = {kind: 0 for kind in ("server_errors", "timeouts", "connection_errors")}
    failures["other_errors"] = 0
    by_step: dict[str, dict[str, int]] = {}
    for (step, kind), n in rush.failures.items():
        failures[kind] += n
        by_step.setdefault(step, {})[kind] = n
    for kind in failures:
        failures[kind] += sum(health.kinds[kind].values())
    return {
        "buyers": buyers,
        "fans_on_page": len(fans),
        "purchases": purchased,
        "turned_away": rush.outcomes["turned_away"],
        "throttled": rush.outcomes["throttled"],
        "sold_out_without_waitlist_form": rush.outcomes["sold_out_without_waitlist_form"],
        "busy_answers": rush.outcomes["busy"],
        "gave_up_busy": rush.outcomes["gave_up_busy"],
        "payment_failed": rush.outcomes["payment_failed"],
        "purchases_per_s": round(purchased / purchase_s, 1),
        "purchase_seconds": round(purchase_s, 2),
        "reserve_p50_ms": percentile_ms(rush.latencies["reserve"], 0.50),
        "reserve_p99_ms": percentile_ms(rush.latencies["reserve"], 0.99),
        "pay_p50_ms": percentile_ms(rush.pay_latencies, 0.50),
        "pay_p99_ms": percentile_ms(rush.pay_latencies, 0.99),
        "health_rps": round(health_rps, 1),
        "reserve_rps": round(reserve_rps, 1),
        "ratio": round(reserve_rps / health_rps, 3) if health_rps else 0.0,
        "drop_page_rps": round(arrived / page_s, 1),
        "rush_rps": round(sum(len(rush.latencies[k]) for k in STEPS[1:]) / rush_s, 1),
        "steps": {
            step: {
                "count": len(rush.latencies[step]),
                "p50_ms": percentile_ms(rush.latencies[step], 0.50),
                "p99_ms": percentile_ms(rush.latencies[step], 0.99),
            }
            for step in STEPS
            if rush.latencies[step]
        },
        **failures,
        "failures_by_step": by_step,
        # Cores kept busy per phase (1.0 = one core): the load generator, gunicorn's workers.
        "client_cpu_cores": meter.client,
        "server_cpu_cores": meter.workers,
    }


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if options.worker_class == "sync":
        options.threads = 1
    port = free_port()
    env = {
        "TESTPAY_SECRET": secrets.token_urlsafe(32),
        "DROPS_RESERVE_RATE_PER_IP": UNLIMITED_RATE,
        "DROPS_RESERVE_RATE_PER_EMAIL": UNLIMITED_RATE,
    }
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    with fresh_site("drop", port=port, keep=options.keep_data, env=env, log=log) as site:
        plan, edition_id = prepare(options, site.base)
        from django.db import connections

        connections.close_all()  # SQLite: no connection of this process beside the server's
        server = Server(site.env, port, options, site.data_dir / "gunicorn.log")
        try:
            server.start()
            server.wait_ready()
            result = asyncio.run(load(plan, server, options))
        finally:
            server.stop()
        result.update(invariants(edition_id))
        if result["server_errors"] or not result["invariants_hold"]:
            site.keep = True
            log(f"server log: {site.data_dir / 'gunicorn.log'}")
    result.update(
        database=site.database,
        copies=options.copies,
        concurrency=options.concurrency,
        server={
            "workers": options.workers,
            "worker_class": options.worker_class,
            "threads": options.threads,
        },
        targets={
            "all_sold": result["sold"] == options.copies,
            "none_oversold": result["oversold"] == 0 and result["duplicate_numbers"] == 0,
            "no_server_errors": result["server_errors"] == 0,
            "purchases_at_least_300_per_s": result["purchases_per_s"] >= 300,
            "reserve_p99_at_most_250ms": (result["reserve_p99_ms"] or 1e9) <= 250,
        },
    )
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
