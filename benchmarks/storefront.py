"""Storefront load benchmark: health check, product page, and the whole purchase, at concurrency 32.

Builds the demo in a temporary data folder (or in ``DATABASE_URL``'s database when it is set),
serves it with gunicorn on a free loopback port, and drives it with virtual users (asyncio and
aiohttp, one cookie jar each). No background worker runs: the benchmark plays the card processor
itself and sends each charge's signed callback exactly as ``kinfolk.testpay`` would.

Prints one JSON line of figures on stdout (progress goes to stderr) and never fails on time.

    .venv/bin/python benchmarks/storefront.py [--purchases 1500] [--seconds 60] ...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from loadgen.client import FAILURES, Figures, get_loop
from loadgen.purchase import STEPS, Plan, Purchaser, prepare_catalogue
from loadgen.server import HOST, Server, free_port, run_step


def log(message: str) -> None:
    print(f"[storefront-bench] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--health-requests", type=int, default=4000)
    parser.add_argument("--product-requests", type=int, default=3000)
    parser.add_argument("--purchases", type=int, default=1500, help="at most this many purchases")
    parser.add_argument("--seconds", type=float, default=60.0, help="at most this long per phase")
    parser.add_argument(
        "--physical-every",
        type=int,
        default=3,
        help="every n-th purchase is a T-shirt shipped to an address (0: none)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=["gthread", "sync"], default="gthread")
    # The same as ``kinfolk serve``'s default (see there why two).
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument("--fans", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--data-dir", help="reuse this data folder (default: a new temporary one)")
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the temporary data folder (and server log)"
    )
    return parser.parse_args(argv)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # The same way out as Ctrl-C: the finally blocks stop the server.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if options.worker_class == "sync":
        options.threads = 1
    data_dir = Path(options.data_dir or tempfile.mkdtemp(prefix="kinfolk-bench-")).resolve()
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kinfolk.settings",
        "KINFOLK_DATA_DIR": str(data_dir),
        "KINFOLK_BASE_URL": base,
        "TESTPAY_CALLBACK_BASE": base,
        "TESTPAY_SECRET": os.environ.get("TESTPAY_SECRET") or secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": HOST,
        "DEBUG": "0",
    }
    os.environ.update(env)
    database = "DATABASE_URL" if env.get("DATABASE_URL") else "SQLite"
    log(f"data folder {data_dir}; database {database}")
    demo_seconds = run_step(
        env, "demo", "--fans", str(options.fans), "--orders", str(options.orders)
    )
    run_step(env, "collectstatic", "--noinput", "-v", "0")
    plan, vendor, paths, charge_payload = prepare_catalogue()
    plan.physical_every = options.physical_every
    server = Server(env, port, options, data_dir / "gunicorn.log")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        server.start()
        server.wait_ready()
        result = asyncio.run(load(base, server, plan, paths, charge_payload, options))
    finally:
        server.stop()
    result.update(
        database=vendor,
        server={
            "workers": options.workers,
            "worker_class": options.worker_class,
            "threads": options.threads,
        },
        concurrency=options.concurrency,
        demo_seconds=round(demo_seconds, 1),
    )
    failed = any(sum(result[kind].values()) for kind in FAILURES if kind != "other_errors")
    if options.data_dir or options.keep_data or failed:
        log(f"server log: {data_dir / 'gunicorn.log'}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


class Meter:
    """CPU the load generator and the server's workers use during a phase, in cores."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.client: dict[str, float] = {}
        self.workers: dict[str, float] = {}

    @contextlib.contextmanager
    def phase(self, name: str):
        log(f"phase: {name}")
        wall, mine, theirs = time.monotonic(), time.process_time(), self.server.cpu_seconds()
        yield
        wall = time.monotonic() - wall
        self.client[name] = round((time.process_time() - mine) / wall, 2)
        self.workers[name] = round((self.server.cpu_seconds() - theirs) / wall, 2)


def _failures(phases: dict[str, tuple[Figures, str]]) -> dict[str, dict[str, int]]:
    """Return, for ``errors`` and each kind of failure, the count per step."""
    out = {}
    for kind in ("errors", *FAILURES):
        out[kind] = {}
        for name, (figures, step) in phases.items():
            counts = figures.errors if kind == "errors" else figures.kinds[kind]
            out[kind][name] = counts[step]
    return out


async def load(base: str, server: Server, plan: Plan, paths: list[str], payload, options) -> dict:
    c, s = options.concurrency, options.seconds
    log("warming up")
    await get_loop(base, paths + ["/health/"], count=200, seconds=s, concurrency=c, step="warmup")
    await Purchaser(base, plan, payload, c).run(count=c, seconds=s)
    # The load generator shares the machine with the server: its CPU time says how much.
    meter = Meter(server)
    with meter.phase("health"):
        health, health_s = await get_loop(
            base,
            ["/health/"],
            count=options.health_requests,
            seconds=s,
            concurrency=c,
            step="health",
        )
    with meter.phase("product_page"):
        product, product_s = await get_loop(
            base,
            paths,
            count=options.product_requests,
            seconds=s,
            concurrency=c,
            step="product_page",
        )
    buyer = Purchaser(base, plan, payload, c)
    with meter.phase("purchase"):
        buy_s = await buyer.run(count=options.purchases, seconds=s)
    health_rps = len(health.latencies["health"]) / health_s
    product_rps = len(product.latencies["product_page"]) / product_s
    page = product.summary("product_page")
    orders_per_s = buyer.completed / buy_s
    phases = {"health": (health, "health"), "product_page": (product, "product_page")}
    phases.update({f"purchase_{k}": (buyer.figures, k) for k in STEPS})
    for figures in (health, product, buyer.figures):
        for step, what in figures.examples.items():
            log(f"first failure of {step}: {what}")
    ratio = product_rps / health_rps if health_rps else 0.0
    return {
        "health_rps": round(health_rps, 1),
        "health": health.summary("health"),
        "product_page_rps": round(product_rps, 1),
        "product_page": page,
        "ratio": round(ratio, 3),
        "purchase_steps": {k: buyer.figures.summary(k) for k in STEPS},
        "purchases_attempted": buyer.attempted,
        "orders_completed": buyer.completed,
        "orders_per_s": round(orders_per_s, 1),
        "purchase_seconds": round(buy_s, 1),
        # errors: every failure; then by kind: 5xx answers, timeouts (30 s), connections refused
        # or dropped, and other unexpected answers (4xx, a declined payment).
        **_failures(phases),
        # Cores kept busy (1.0 = one core), per phase: the load generator, gunicorn's workers.
        "client_cpu_cores": meter.client,
        "server_cpu_cores": meter.workers,
        "targets": {
            "product_page_at_least_half_of_health": ratio >= 0.5,
            "product_page_p99_at_most_100ms": page.get("p99_ms", 1e9) <= 100,
            "orders_at_least_50_per_s": orders_per_s >= 50,
        },
    }


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
