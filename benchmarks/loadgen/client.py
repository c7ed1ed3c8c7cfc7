"""The HTTP side of the load: aiohttp sessions, one per virtual user, and what they measure.

aiohttp rather than httpx: it costs the load generator about half the CPU per request, and the
load generator shares the machine's cores with the server it measures.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass

import aiohttp

TIMEOUT_SECONDS = 30.0
# How a request can go wrong, as counted in the figures.
FAILURES = ("server_errors", "timeouts", "connection_errors", "other_errors")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str


def new_session(base: str, *, connections: int = 1, cookies: bool = True) -> aiohttp.ClientSession:
    """Return a session to ``base``: a visitor's (one connection, a cookie jar of its own), or
    with ``cookies=False`` a machine's (no cookies, ``connections`` connections)."""
    # unsafe=True: the server is reached by IP address, whose cookies aiohttp drops otherwise.
    jar = aiohttp.CookieJar(unsafe=True) if cookies else aiohttp.DummyCookieJar()
    return aiohttp.ClientSession(
        base_url=base,
        # gunicorn closes a keep-alive connection after 2 idle seconds (its --keep-alive): a
        # request sent on such a connection just as the server closes it fails without ever
        # reaching the application. Closing idle connections first keeps that race out.
        connector=aiohttp.TCPConnector(limit=connections, keepalive_timeout=1.0),
        cookie_jar=jar,
        timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
    )


async def fetch(session: aiohttp.ClientSession, method: str, path: str, **kwargs) -> Reply:
    async with session.request(method, path, allow_redirects=False, **kwargs) as response:
        text = await response.text()
        return Reply(response.status, dict(response.headers), text)


class Figures:
    """Latencies per step, and per step the failures by kind (see FAILURES)."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)  # every failure, whatever its kind
        self.kinds: dict[str, dict[str, int]] = {kind: defaultdict(int) for kind in FAILURES}
        self.examples: dict[str, str] = {}  # the first failure of each step, for the log

    def fail(self, step: str, kind: str, what: str) -> None:
        self.errors[step] += 1
        self.kinds[kind][step] += 1
        self.examples.setdefault(step, what)

    def summary(self, step: str) -> dict:
        values = sorted(self.latencies.get(step, []))
        if not values:
            return {"count": 0}

        def pct(p: float) -> float:
            return round(values[min(len(values) - 1, int(p * len(values)))] * 1000, 1)

        return {"count": len(values), "p50_ms": pct(0.50), "p99_ms": pct(0.99)}


async def timed(figures: Figures, step: str, request, expect: set[int]) -> Reply | None:
    """Await ``request`` (a ``fetch``), record its latency under ``step``; return the reply if its
    status is one of ``expect``, else count the failure by kind and return None."""
    started = time.perf_counter()
    try:
        reply = await request
    except TimeoutError as exc:
        figures.latencies[step].append(time.perf_counter() - started)
        figures.fail(step, "timeouts", repr(exc))
        return None
    except aiohttp.ClientError as exc:
        figures.latencies[step].append(time.perf_counter() - started)
        figures.fail(step, "connection_errors", repr(exc))
        return None
    figures.latencies[step].append(time.perf_counter() - started)
    if reply.status in expect:
        return reply
    kind = "server_errors" if reply.status >= 500 else "other_errors"
    figures.fail(step, kind, f"HTTP {reply.status}: {reply.text[:200]!r}")
    return None


async def get_loop(
    base: str, paths: list[str], *, count: int, seconds: float, concurrency: int, step: str
) -> tuple[Figures, float]:
    """GET ``paths`` in turn from ``concurrency`` users, ``count`` requests or ``seconds`` in all."""
    figures, issued = Figures(), 0
    deadline = time.monotonic() + seconds

    async def user(index: int) -> None:
        nonlocal issued
        async with new_session(base) as session:
            while issued < count and time.monotonic() < deadline:
                issued += 1
                path = paths[(issued + index) % len(paths)]
                await timed(figures, step, fetch(session, "GET", path), {200})

    started = time.monotonic()
    await asyncio.gather(*(user(i) for i in range(concurrency)))
    return figures, time.monotonic() - started
