"""Processes that race: each its own interpreter and database connection, all starting together.

The test (``race``) spawns one process per set of arguments, and each runs its racer through
``run``: Django set up on the parent's test database, a fresh connection, then the racer's body,
which waits for the others at the barrier before it acts. Each process reports its outcomes as
lines of text, "error: <type>: <message>" for anything unexpected, and the test asserts on them.

Kept free of Django imports at module level: a spawned process imports this module (and its
racer's) before Django is set up.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable, Sequence

BARRIER_TIMEOUT = 120
REPORT_TIMEOUT = 300


def setup_django(database_name: str, **settings_overrides) -> None:
    """Set Django up in a spawned process on the parent's test database (not the development
    one the settings name), with ``settings_overrides`` (e.g. the parent's SMTP server)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = database_name
    for name, value in settings_overrides.items():
        setattr(settings, name, value)
    import django

    django.setup()


def outcome(act: Callable[..., str], *args) -> str:
    """Return what ``act(*args)`` returns, "refused <code>" when a service refuses, or
    "error: <type>: <message>"."""
    from kinfolk.core.errors import KinfolkError

    try:
        return act(*args)
    except KinfolkError as exc:
        return f"refused {exc.code}"
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        return f"error: {type(exc).__name__}: {exc}"


def run(
    database_name: str,
    barrier,
    results,
    body: Callable[..., list[str]],
    *args,
    settings: dict | None = None,
) -> None:
    """Run ``body(start, *args)`` in this spawned process and put ``(pid, outcomes)`` on
    ``results``; ``start()`` waits until every process is ready, and the body calls it once its
    own preparations (reading rows) are done."""
    outcomes: list[str] = []
    try:
        setup_django(database_name, **(settings or {}))
        from django.db import connections

        # A spawned process must never reuse a connection it did not open.
        connections.close_all()
        outcomes.extend(body(lambda: barrier.wait(timeout=BARRIER_TIMEOUT), *args))
        connections.close_all()
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        outcomes.append(f"error: {type(exc).__name__}: {exc}")
    results.put((os.getpid(), outcomes))


def race(target: Callable, args_per_process: Sequence[tuple]) -> list[str]:
    """Spawn one process per tuple of ``args_per_process`` running
    ``target(database_name, *args, barrier, results)`` (a racer that calls ``run``), and return
    every process's outcomes, in the order the processes reported. Fails the test if one does
    not report."""
    import pytest
    from django.db import connection

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(args_per_process))
    results = context.Queue()
    name = connection.settings_dict["NAME"]
    processes = [
        context.Process(target=target, args=(name, *args, barrier, results))
        for args in args_per_process
    ]
    for process in processes:
        process.start()
    outcomes: list[str] = []
    try:
        for _ in processes:
            _pid, theirs = results.get(timeout=REPORT_TIMEOUT)
            outcomes.extend(theirs)
    except queue.Empty:
        pytest.fail(f"a racing process did not report: {outcomes}")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return outcomes
