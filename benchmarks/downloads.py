"""Downloads benchmark: a release's file through signed links, against the same bytes as a static
file from the same server.

Makes a shop with a free release holding one file per size (an MP3's ID3 header, then random
bytes: nothing compresses it) in a new data folder and database (SQLite, or a new database on the
PostgreSQL server ``DATABASE_URL`` names); gives each of ``--fans`` customers a grant of it (and
the release the highest per-grant download limit the shop can set), so that no allowance ever
runs out; copies the same files under ``STATIC_ROOT``, where whitenoise serves them; then serves
it all with gunicorn (2 workers) on a free loopback port. For each size (``--sizes`` in MB), at
concurrency 50, ``--requests`` downloads or ``--seconds`` at most:

1. ``static``: ``/static/bench/<file>``, the yardstick;
2. ``signed``: the ``storefront:release-download`` view with a signed link per fan and file
   (``kinfolk.releases.links.download_token``), the fans taking turns.

Each body is read to its end and its length checked (the first one of each kind also against the
file's SHA-256). Gunicorn's workers' peak memory (``VmHWM`` in ``/proc/<pid>/status``) is read
before the first phase and after each. Prints one JSON line (progress on stderr); never fails on
time.

    .venv/bin/python benchmarks/downloads.py [--sizes 10,100] [--requests 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from _fresh import Meter, fresh_site, logger, percentile_ms
from loadgen.server import Server, free_port

log = logger("downloads-bench")
MB = 1024 * 1024
TIMEOUT_SECONDS = 120.0
LINK_LIFETIME = dt.timedelta(hours=6)
# Peak memory growing less than this over the run, whatever the file sizes, counts as flat.
FLAT_KIB = 16 * 1024
# An MP3 file as the file checks see it: an ID3v2.4 tag header, empty.
ID3_HEADER = b"ID3\x04\x00\x00\x00\x00\x00\x00"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100", help="file sizes in MB, comma-separated")
    parser.add_argument("--requests", type=int, default=1000, help="at most this many per phase")
    parser.add_argument("--seconds", type=float, default=60.0, help="at most this long per phase")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--fans", type=int, default=200, help="customers with a grant each")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=["gthread", "sync"], default="gthread")
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the data folder, database and server log"
    )
    options = parser.parse_args(argv)
    options.sizes = [float(s) for s in options.sizes.split(",") if s.strip()]
    return options


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@dataclass
class Target:
    """One file and where each kind of request gets it."""

    megabytes: float
    size: int
    sha256: str
    static: str
    signed: list[str] = field(default_factory=list)  # one path per fan; empty: no view yet


def _write_file(path: Path, size: int) -> str:
    """Write ``size`` bytes of MP3-looking noise to ``path``; return their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        chunk = ID3_HEADER + os.urandom(min(size, MB) - len(ID3_HEADER))
        left = size
        while left > 0:
            piece = chunk[: min(left, len(chunk))]
            out.write(piece)
            digest.update(piece)
            left -= len(piece)
            chunk = os.urandom(min(left, MB)) if left else b""
    return digest.hexdigest()


def prepare(options: argparse.Namespace, data_dir: Path) -> list[Target]:
    """Create the shop, the release, its files, the fans' grants and the static copies; return
    the targets, one per size."""
    from django.conf import settings
    from django.core.files import File
    from django.urls import NoReverseMatch, reverse

    from kinfolk.accounts.models import User
    from kinfolk.crm.services.customers import customer_get_or_create
    from kinfolk.releases.links import download_token
    from kinfolk.releases.models import Grant
    from kinfolk.releases.services.grants import grant_give
    from kinfolk.releases.services.setup import (
        MAX_DOWNLOAD_LIMIT,
        release_create,
        release_file_add,
    )
    from kinfolk.shops.services import shop_create

    owner = User.objects.create_user("owner@bench.example.com", "correct horse 42")
    shop = shop_create(
        slug="bench",
        name="Moonlit Bench",
        currency="KRW",
        time_zone="Asia/Seoul",
        country="KR",
        owner=owner,
    )
    release = release_create(
        shop=shop,
        name="Night Drive (single)",
        email_gate=False,
        download_limit=MAX_DOWNLOAD_LIMIT,
        link_hours=24,
        status="active",
    )
    static_dir = Path(settings.STATIC_ROOT) / "bench"
    static_dir.mkdir(parents=True, exist_ok=True)
    targets, files = [], []
    for megabytes in options.sizes:
        name = f"night-drive-{megabytes:g}mb.mp3"
        source = data_dir / name
        size = int(megabytes * MB)
        sha = _write_file(source, size)
        with source.open("rb") as handle:
            files.append(
                release_file_add(shop=shop, release=release, upload=File(handle, name=name))
            )
        # The same bytes where whitenoise finds them when the server starts.
        shutil.move(source, static_dir / name)
        static = "/" + settings.STATIC_URL.strip("/") + f"/bench/{name}"
        targets.append(Target(megabytes, size, sha, static))
    grants: list[Grant] = []
    for n in range(options.fans):
        customer = customer_get_or_create(shop=shop, email=f"fan{n}@bench.example.com")
        grants.append(grant_give(shop=shop, release=release, customer=customer, source="staff"))
    for target, release_file in zip(targets, files, strict=True):
        for grant in grants:
            token = download_token(
                grant_id=grant.pk, file_id=release_file.pk, lifetime=LINK_LIFETIME
            )
            try:
                path = reverse(
                    "storefront:release-download", kwargs={"shop": shop.slug, "token": token}
                )
            except NoReverseMatch:
                break
            target.signed.append(path)
    return targets


def worker_memory(server: Server) -> dict[str, int]:
    """Return each worker's peak resident memory so far (VmHWM), in KiB, by pid."""
    out = {}
    for pid in server.worker_pids():
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    out[str(pid)] = int(line.split()[1])
    return out


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)
    bytes: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    example: str = ""

    def fail(self, kind: str, what: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        self.example = self.example or what


async def download_loop(
    session: aiohttp.ClientSession,
    base: str,
    paths: list[str],
    target: Target,
    *,
    count: int,
    seconds: float,
    concurrency: int,
) -> tuple[Phase, float]:
    """GET ``paths`` in turn, ``count`` times or for ``seconds``, reading each body to its end."""
    phase, issued = Phase(), 0
    deadline = time.monotonic() + seconds
    checked = False

    async def one(path: str, check: bool) -> None:
        started = time.perf_counter()
        digest = hashlib.sha256() if check else None
        received = 0
        try:
            async with session.get(base + path, allow_redirects=False) as response:
                if response.status != 200:
                    body = await response.read()
                    kind = "server_errors" if response.status >= 500 else "other_errors"
                    phase.fail(kind, f"HTTP {response.status}: {body[:200]!r}")
                    return
                async for chunk in response.content.iter_any():
                    received += len(chunk)
                    if digest is not None:
                        digest.update(chunk)
        except TimeoutError as exc:
            phase.fail("timeouts", repr(exc))
            return
        except aiohttp.ClientError as exc:
            phase.fail("connection_errors", repr(exc))
            return
        finally:
            phase.latencies.append(time.perf_counter() - started)
        phase.bytes += received
        if received != target.size:
            phase.fail("wrong_bodies", f"{received} bytes instead of {target.size}")
        elif digest is not None and digest.hexdigest() != target.sha256:
            phase.fail("wrong_bodies", "the bytes differ from the file's")

    async def user(index: int) -> None:
        nonlocal issued, checked
        while issued < count and time.monotonic() < deadline:
            path = paths[(issued + index) % len(paths)]
            issued += 1
            check, checked = not checked, True
            await one(path, check)

    started = time.monotonic()
    await asyncio.gather(*(user(i) for i in range(concurrency)))
    return phase, time.monotonic() - started


def _figures(phase: Phase, seconds: float) -> dict:
    done = len(phase.latencies) - sum(phase.errors.values())
    return {
        "files": done,
        "files_per_s": round(done / seconds, 1),
        "mb_per_s": round(phase.bytes / MB / seconds, 1),
        "p50_ms": percentile_ms(phase.latencies, 0.50),
        "p99_ms": percentile_ms(phase.latencies, 0.99),
        "errors": phase.errors,
        "seconds": round(seconds, 2),
    }


async def load(base: str, server: Server, targets: list[Target], options) -> dict:
    c = options.concurrency
    meter = Meter(server, log)
    connector = aiohttp.TCPConnector(limit=c, keepalive_timeout=1.0)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
    sizes: dict[str, dict] = {}
    memory: dict[str, dict[str, int]] = {}
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
    ) as session:
        # Both workers serve a few of each kind first: neither kind then pays their first
        # imports, and the starting peak memory is that of a worker in service.
        log("warming up")
        smallest = min(targets, key=lambda t: t.size)
        for paths in ([smallest.static], smallest.signed):
            if paths:
                await download_loop(
                    session, base, paths, smallest, count=40, seconds=30, concurrency=8
                )
        memory["start"] = worker_memory(server)
        for target in targets:
            label = f"{target.megabytes:g}MB"
            figures = {"bytes": target.size}
            kinds = [("static", [target.static])]
            kinds += [("signed", target.signed)] if target.signed else []
            for kind, paths in kinds:
                name = f"{kind}_{label}"
                with meter.phase(name):
                    phase, seconds = await download_loop(
                        session,
                        base,
                        paths,
                        target,
                        count=options.requests,
                        seconds=options.seconds,
                        concurrency=c,
                    )
                if phase.example:
                    log(f"first failure of {name}: {phase.example}")
                figures[kind] = _figures(phase, seconds)
                memory[f"after_{name}"] = worker_memory(server)
            if target.signed:
                static, signed = figures["static"], figures["signed"]
                ratio = signed["files_per_s"] / static["files_per_s"] if static["files"] else 0
                figures["ratio"] = round(ratio, 3)
            sizes[label] = figures
    return {
        "sizes": sizes,
        # Each worker's peak resident memory (VmHWM, KiB) before the first phase and after each.
        "worker_peak_kib": memory,
        "client_cpu_cores": meter.client,
        "server_cpu_cores": meter.workers,
    }


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if options.worker_class == "sync":
        options.threads = 1
    port = free_port()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    with fresh_site("downloads", port=port, keep=options.keep_data, env={}, log=log) as site:
        targets = prepare(options, site.data_dir)
        if not targets[0].signed:
            log("no storefront:release-download view yet: the static files only")
        from django.db import connections

        connections.close_all()
        server = Server(site.env, port, options, site.data_dir / "gunicorn.log")
        try:
            server.start()
            server.wait_ready()
            result = asyncio.run(load(site.base, server, targets, options))
        finally:
            server.stop()
        failed = any(
            figures[kind]["errors"]
            for figures in result["sizes"].values()
            for kind in ("static", "signed")
            if kind in figures
        )
        if failed:
            site.keep = True
            log(f"server log: {site.data_dir / 'gunicorn.log'}")
    peaks = result["worker_peak_kib"]
    # "Flat whatever the file size": from the peaks once the smallest file went through both
    # kinds of delivery (each worker has then paid its imports and first allocations, which a
    # short warm-up does not always reach on both workers) to the peaks after the largest file.
    labels = list(peaks)
    first_size_done = [label for label in labels if label != "start"][: 2 if len(labels) > 3 else 0]
    first = peaks[first_size_done[-1]] if first_size_done else peaks["start"]
    last = peaks[labels[-1]]
    growth = max((last.get(pid, 0) - kib for pid, kib in first.items()), default=0)
    result.update(
        download_view=bool(targets[0].signed),
        database=site.database,
        concurrency=options.concurrency,
        fans=options.fans,
        server={
            "workers": options.workers,
            "worker_class": options.worker_class,
            "threads": options.threads,
        },
        # The most any worker's peak grew from the smallest file's phases to the largest's.
        worker_peak_growth_kib=growth,
        targets={
            **{
                f"signed_at_least_half_of_static_{label}": figures["ratio"] >= 0.5
                for label, figures in result["sizes"].items()
                if "ratio" in figures
            },
            "worker_memory_flat": growth < FLAT_KIB,
        },
    )
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
