"""Storefront load benchmark: health check, product page, and the whole purchase, at concurrency 32.

Builds the demo in a temporary data folder (or in ``DATABASE_URL``'s database when it is set),
serves it with gunicorn on a free loopback port, and drives it with virtual users (asyncio and
httpx, one cookie jar each). No background worker runs: the benchmark plays the card processor
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
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import httpx

HOST = "127.0.0.1"  # the only address this benchmark ever sends traffic to
STEPS = ("product_page", "add_to_cart", "checkout_get", "place_order", "pay_page", "callback")
CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12/99", "cvc": "123", "name": "Bench Fan"}
# Shipping address for the physical purchases, in the band's country.
ADDRESS = {
    "name": "김민지",
    "street_address": "세종대로 110",
    "city": "중구",
    "country_area": "서울특별시",
    "postal_code": "04524",
    "country_code": "KR",
}


def log(message: str) -> None:
    print(f"[storefront-bench] {message}", file=sys.stderr, flush=True)


# --- HTML forms -------------------------------------------------------------------------------


@dataclass
class Form:
    attrs: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)  # what a browser would submit as is
    options: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


class _FormParser(HTMLParser):
    """Collects every form's attributes, default values and select/radio options."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: str | None = None
        self._option: dict[str, str] | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(attrs=a))
        if not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name", "")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in {"radio", "checkbox"}:
                form.options[name].append(a.get("value", "on"))
                if "checked" in a:
                    form.fields[name] = a.get("value", "on")
            elif kind not in {"submit", "button", "image", "file"}:
                form.fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            form.options[self._select].append(value)
            if self._first_option is None:
                self._first_option = value
                form.fields.setdefault(self._select, value)
            if "selected" in a:
                form.fields[self._select] = value
        elif tag == "textarea" and name:
            form.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def find_form(html: str, *, having: str) -> Form | None:
    """Return the first form of ``html`` with a field named ``having``."""
    parser = _FormParser()
    parser.feed(html)
    return next((f for f in parser.forms if having in f.fields or having in f.options), None)


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child before exec: have Linux stop gunicorn if the benchmark itself is killed."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Server:
    """gunicorn serving Kinfolk in its own process group, stopped (and if need be killed) at exit."""

    def __init__(self, env: dict[str, str], port: int, options: argparse.Namespace, log_path: Path):
        self.env, self.port, self.options, self.log_path = env, port, options, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "kinfolk.wsgi:application",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.options.workers),
            "--worker-class",
            self.options.worker_class,
            "--threads",
            str(self.options.threads),
            "--graceful-timeout",
            "5",
            "--timeout",
            "60",
            "--backlog",
            "2048",
        ]
        from gunicorn.config import KNOWN_SETTINGS

        if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS):
            command.append("--no-control-socket")
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 (this process runs no threads yet)
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{HOST}:{self.port}/health/", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in time")

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # The group is gunicorn's own (start_new_session): its master and workers only.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_step(env: dict[str, str], *args: str) -> float:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "kinfolk", *args], env=env, check=True, stdout=subprocess.DEVNULL
    )
    return time.monotonic() - started


# --- figures ----------------------------------------------------------------------------------


class Figures:
    """Latencies per step, errors per step, and the server errors among them."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.server_errors: dict[str, int] = defaultdict(int)

    def record(self, step: str, seconds: float, response: httpx.Response | None, ok: bool) -> None:
        self.latencies[step].append(seconds)
        if not ok:
            self.errors[step] += 1
            if response is None or response.status_code >= 500:
                self.server_errors[step] += 1

    def summary(self, step: str) -> dict:
        values = sorted(self.latencies.get(step, []))
        if not values:
            return {"count": 0}

        def pct(p: float) -> float:
            return round(values[min(len(values) - 1, int(p * len(values)))] * 1000, 1)

        return {"count": len(values), "p50_ms": pct(0.50), "p99_ms": pct(0.99)}


async def timed(figures: Figures, step: str, request, expect: set[int]) -> httpx.Response | None:
    """Await ``request``, record its latency under ``step``; return the response if as expected."""
    started = time.perf_counter()
    try:
        response = await request
    except httpx.HTTPError:
        figures.record(step, time.perf_counter() - started, None, False)
        return None
    ok = response.status_code in expect
    figures.record(step, time.perf_counter() - started, response, ok)
    return response if ok else None


# --- load -------------------------------------------------------------------------------------


def new_client(base: str, connections: int = 1) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=30.0, limits=limits)


async def get_loop(
    base: str, paths: list[str], *, count: int, seconds: float, concurrency: int, step: str
) -> tuple[Figures, float]:
    """GET ``paths`` in turn from ``concurrency`` users, ``count`` requests or ``seconds`` in all."""
    figures, issued = Figures(), 0
    deadline = time.monotonic() + seconds

    async def user(index: int) -> None:
        nonlocal issued
        async with new_client(base) as client:
            while issued < count and time.monotonic() < deadline:
                issued += 1
                path = paths[(issued + index) % len(paths)]
                await timed(figures, step, client.get(path), {200})

    started = time.monotonic()
    await asyncio.gather(*(user(i) for i in range(concurrency)))
    return figures, time.monotonic() - started


@dataclass
class Plan:
    """What the virtual users buy and where: URLs and variant ids from the demo catalogue."""

    digital_product: str  # product page path
    digital_variant: str
    physical_product: str
    physical_variant: str
    checkout: str
    callback: str
    secret: str
    physical_every: int  # every n-th purchase ships a T-shirt to an address


class Purchaser:
    """Runs whole purchases; one instance per benchmark, one client per virtual user."""

    def __init__(self, base: str, plan: Plan, charge_payload, concurrency: int) -> None:
        self.base, self.plan, self.charge_payload = base, plan, charge_payload
        self.figures = Figures()
        self.completed = 0
        self.attempted = 0
        # The processor's own client: no cookies, as many connections as there are buyers.
        self.processor = new_client(base, connections=concurrency)

    async def purchase(self, client: httpx.AsyncClient, number: int) -> bool:
        plan, f = self.plan, self.figures
        physical = plan.physical_every and number % plan.physical_every == 0
        page, variant = (
            (plan.physical_product, plan.physical_variant)
            if physical
            else (plan.digital_product, plan.digital_variant)
        )
        response = await timed(f, "product_page", client.get(page), {200})
        form = response and find_form(response.text, having="quantity")
        if form is None:
            return False
        data = {**form.fields, "variant": variant, "quantity": "1"}
        action = form.attrs.get("action") or page
        if not await timed(f, "add_to_cart", client.post(action, data=data), {302, 303}):
            return False
        response = await timed(f, "checkout_get", client.get(plan.checkout), {200})
        form = response and find_form(response.text, having="idempotency_key")
        if form is None:
            return False
        data = {**form.fields, "email": f"bench{number}@example.com", "payment_provider": "testpay"}
        if "street_address" in form.fields:
            data.update(ADDRESS)
            regions = [o for o in form.options.get("country_area", []) if o]
            if regions and ADDRESS["country_area"] not in regions:
                data["country_area"] = next(
                    (o for o in regions if "서울" in o or "Seoul" in o), regions[0]
                )
        response = await timed(
            f,
            "place_order",
            client.post(form.attrs.get("action") or plan.checkout, data=data),
            {303},
        )
        match = response and re.search(
            r"/testpay/pay/([0-9a-f-]{36})/", response.headers["location"]
        )
        if not match:
            return False
        pay = {**CARD, "csrfmiddlewaretoken": data.get("csrfmiddlewaretoken", "")}
        if not await timed(f, "pay_page", client.post(match.group(0), data=pay), {303}):
            return False
        body, header = await asyncio.to_thread(self.charge_payload, match.group(1), plan.secret)
        response = await timed(
            f,
            "callback",
            self.processor.post(
                plan.callback,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "Testpay/1.0",
                    "Testpay-Signature": header,
                },
            ),
            {200},
        )
        if response is None:
            return False
        if response.json().get("outcome") != "approved":
            f.errors["callback"] += 1
            return False
        return True

    async def run(self, *, count: int, seconds: float, concurrency: int) -> float:
        deadline = time.monotonic() + seconds

        async def user() -> None:
            client = new_client(self.base)
            try:
                while self.attempted < count and time.monotonic() < deadline:
                    self.attempted += 1
                    if await self.purchase(client, self.attempted):
                        self.completed += 1
                    else:
                        # A failed purchase may leave a cart behind: start afresh, new session.
                        await client.aclose()
                        client = new_client(self.base)
            finally:
                await client.aclose()

        started = time.monotonic()
        await asyncio.gather(*(user() for _ in range(concurrency)))
        return time.monotonic() - started


# --- Django-side setup (the same settings as the server) ------------------------------------


def prepare_catalogue(base: str) -> tuple[Plan, str, list[str], object]:
    """Give the purchased T-shirt plenty of stock; return the plan, the database vendor, the
    product page paths, and the processor's payload function."""
    import django

    django.setup()
    from django.db import connection
    from django.urls import reverse

    from kinfolk.catalog.models import Product, Variant
    from kinfolk.catalog.services import variant_update
    from kinfolk.testpay import selectors, services, signature

    shirt = Variant.objects.select_related("shop", "product").get(sku="MS-TEE-M")
    variant_update(
        shop=shirt.shop,
        variant=shirt,
        sku=shirt.sku,
        price=shirt.price,
        name=shirt.name,
        stock=10**8,
    )
    album = Variant.objects.select_related("shop", "product").get(sku="MS-DIG-AH")
    products = Product.objects.filter(status="active").select_related("shop").order_by("id")
    paths = [reverse("storefront:product", args=[p.shop.slug, p.slug]) for p in products]

    def product(v) -> str:
        return reverse("storefront:product", args=[v.shop.slug, v.product.slug])

    def charge_payload(charge_id: str, secret: str) -> tuple[bytes, str]:
        # What kinfolk.testpay.services.callback_deliver sends, built from the decided charge.
        charge = selectors.charge_get(charge_id=charge_id)
        body = json.dumps(services.callback_payload(charge), separators=(",", ":")).encode()
        return body, signature.sign(body, secret=secret, timestamp=int(time.time()))

    plan = Plan(
        digital_product=product(album),
        digital_variant=str(album.pk),
        physical_product=product(shirt),
        physical_variant=str(shirt.pk),
        checkout=reverse("storefront:checkout", args=[shirt.shop.slug]),
        callback=reverse("orders:payment-callback", args=["testpay"]),
        secret=os.environ["TESTPAY_SECRET"],
        physical_every=0,
    )
    vendor = connection.vendor
    connection.close()
    return plan, vendor, paths, charge_payload


# --- main -------------------------------------------------------------------------------------


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
    parser.add_argument("--threads", type=int, default=8, help="threads per gthread worker")
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
    log(
        f"data folder {data_dir}; database {'DATABASE_URL' if env.get('DATABASE_URL') else 'SQLite'}"
    )
    demo_seconds = run_step(
        env, "demo", "--fans", str(options.fans), "--orders", str(options.orders)
    )
    run_step(env, "collectstatic", "--noinput", "-v", "0")
    plan, vendor, paths, charge_payload = prepare_catalogue(base)
    plan.physical_every = options.physical_every
    server = Server(env, port, options, data_dir / "gunicorn.log")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        server.start()
        server.wait_ready()
        result = asyncio.run(load(base, plan, paths, charge_payload, options))
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
    if options.data_dir or options.keep_data or any(result["server_errors"].values()):
        log(f"server log: {data_dir / 'gunicorn.log'}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


async def load(base: str, plan: Plan, paths: list[str], charge_payload, options) -> dict:
    c, s = options.concurrency, options.seconds
    log("warming up")
    await get_loop(base, paths + ["/health/"], count=200, seconds=s, concurrency=c, step="warmup")
    warm = Purchaser(base, plan, charge_payload, c)
    try:
        await warm.run(count=c, seconds=s, concurrency=c)
    finally:
        await warm.processor.aclose()
    # The load generator shares the machine with the server: its CPU time says how much.
    client_cpu = {}
    log("phase 1: health")
    cpu = time.process_time()
    health, health_s = await get_loop(
        base, ["/health/"], count=options.health_requests, seconds=s, concurrency=c, step="health"
    )
    client_cpu["health"] = (time.process_time() - cpu) / health_s
    log("phase 2: product pages")
    cpu = time.process_time()
    product, product_s = await get_loop(
        base, paths, count=options.product_requests, seconds=s, concurrency=c, step="product_page"
    )
    client_cpu["product_page"] = (time.process_time() - cpu) / product_s
    log("phase 3: purchases")
    cpu = time.process_time()
    buyer = Purchaser(base, plan, charge_payload, c)
    try:
        buy_s = await buyer.run(count=options.purchases, seconds=s, concurrency=c)
    finally:
        await buyer.processor.aclose()
    client_cpu["purchase"] = (time.process_time() - cpu) / buy_s
    health_rps = len(health.latencies["health"]) / health_s
    product_rps = len(product.latencies["product_page"]) / product_s
    page = product.summary("product_page")
    orders_per_s = buyer.completed / buy_s
    errors = {"health": health.errors["health"], "product_page": product.errors["product_page"]}
    server_errors = {
        "health": health.server_errors["health"],
        "product_page": product.server_errors["product_page"],
    }
    errors.update({f"purchase_{k}": buyer.figures.errors[k] for k in STEPS})
    server_errors.update({f"purchase_{k}": buyer.figures.server_errors[k] for k in STEPS})
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
        "errors": errors,
        "server_errors": server_errors,
        # Cores the load generator kept busy (1.0 = one core), per phase.
        "client_cpu_cores": {k: round(v, 2) for k, v in client_cpu.items()},
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
