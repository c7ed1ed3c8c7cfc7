"""What the drop and downloads benchmarks share: a fresh site to serve, and their measures.

``fresh_site`` makes a new data folder and a new database (a SQLite file in the folder, or, when
``DATABASE_URL`` names a PostgreSQL server, a new database on that server), points this process's
Django at it, migrates it and collects the static files (the pages name them through the
manifest), and removes both at the end unless asked to keep them. ``Meter`` says how many cores
the load generator and gunicorn's workers kept busy during each phase.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from loadgen.server import HOST, Server


def logger(prefix: str) -> Callable[[str], None]:
    """Return a function writing progress lines to standard error under ``prefix``."""

    def log(message: str) -> None:
        print(f"[{prefix}] {message}", file=sys.stderr, flush=True)

    return log


@dataclass
class Site:
    data_dir: Path
    env: dict[str, str]  # the server's environment
    database: str  # "sqlite" or "postgresql"
    base: str  # http://127.0.0.1:<port>
    port: int
    keep: bool  # keep the data folder (and database) at the end


@contextlib.contextmanager
def fresh_site(
    name: str, *, port: int, keep: bool, env: dict[str, str], log: Callable[[str], None]
) -> Iterator[Site]:
    """Yield a migrated site in a new data folder and database, served later on ``port``.

    ``env`` adds to the server's environment (and this process's, read by Django's settings).
    Set ``site.keep`` to keep everything (a failed run's log, for one).
    """
    data_dir = Path(tempfile.mkdtemp(prefix=f"kinfolk-{name}-bench-")).resolve()
    base = f"http://{HOST}:{port}"
    server_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kinfolk.settings",
        "KINFOLK_DATA_DIR": str(data_dir),
        "KINFOLK_BASE_URL": base,
        "TESTPAY_CALLBACK_BASE": base,
        "ALLOWED_HOSTS": HOST,
        "DEBUG": "0",
        **env,
    }
    url = os.environ.get("DATABASE_URL", "")
    admin_url = db_name = ""
    if url:
        import psycopg

        parts = urlsplit(url)
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        db_name = f"kinfolk_{name}_bench_{os.getpid()}"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{db_name}"')
        server_env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{db_name}"))
    os.environ.update(server_env)
    site = Site(data_dir, server_env, "postgresql" if url else "sqlite", base, port, keep)
    log(f"data folder {data_dir}; database {db_name or 'SQLite'}")
    try:
        _django_setup(log)
        yield site
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if site.keep:
            log(f"kept: {data_dir}" + (f" and database {db_name}" if db_name else ""))
        else:
            if db_name:
                import psycopg

                with psycopg.connect(admin_url, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE "{db_name}" WITH (FORCE)')
            shutil.rmtree(data_dir, ignore_errors=True)


def _django_setup(log: Callable[[str], None]) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    log(f"migrated and collected static files in {time.monotonic() - started:.1f} s")


class Meter:
    """CPU the load generator and the server's workers use during each phase, in cores."""

    def __init__(self, server: Server, log: Callable[[str], None]) -> None:
        self.server, self.log = server, log
        self.client: dict[str, float] = {}
        self.workers: dict[str, float] = {}

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.log(f"phase: {name}")
        wall, mine, theirs = time.monotonic(), time.process_time(), self.server.cpu_seconds()
        yield
        wall = max(time.monotonic() - wall, 1e-9)
        self.client[name] = round((time.process_time() - mine) / wall, 2)
        self.workers[name] = round((self.server.cpu_seconds() - theirs) / wall, 2)


def percentile_ms(values: list[float], p: float) -> float | None:
    """Return the ``p`` quantile (0..1) of ``values`` (seconds) in milliseconds, or None."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)
