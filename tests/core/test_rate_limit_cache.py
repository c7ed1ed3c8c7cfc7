"""Rate limits hold across worker processes, with Redis and without it."""

from __future__ import annotations

import os
import subprocess
import sys

from django.core.cache import caches


def _count_in_another_process(key: str) -> int:
    """Add one to ``key`` in the rate-limit cache from a separate Python process, as another
    gunicorn worker would, and return what that process read back."""
    code = (
        "import django; django.setup();"
        "from django.core.cache import caches;"
        f"c = caches['ratelimit']; c.add({key!r}, 0, 60); print(c.incr({key!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return int(done.stdout.strip().splitlines()[-1])


def test_a_count_made_in_one_worker_process_is_seen_by_another():
    """Given a rate-limit count of 2 made in this process, when another process adds one,
    then it reads 3 and so does this process: a bot cannot multiply its allowance by the
    number of workers it happens to reach."""
    limits = caches["ratelimit"]
    limits.set("rl:test:shared", 2, 60)

    seen_there = _count_in_another_process("rl:test:shared")

    assert seen_there == 3
    assert limits.get("rl:test:shared") == 3
