"""The one clock of the platform: ``now()`` returns an aware UTC datetime.

Tests move time with ``frozen(at)`` or ``set_now(func)``; production code never calls
``timezone.now()`` or ``datetime.now()`` directly so that everything moves together.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator

from django.utils import timezone

_now_func: Callable[[], dt.datetime] = timezone.now


def now() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return _now_func()


def set_now(func: Callable[[], dt.datetime] | None) -> None:
    """Replace the clock (``None`` restores the real one)."""
    global _now_func
    _now_func = func or timezone.now


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[Callable[[dt.timedelta], None]]:
    """Freeze the clock at ``at``; yields a function that moves it forward by a timedelta."""
    current = [at]

    def advance(delta: dt.timedelta) -> None:
        current[0] = current[0] + delta

    set_now(lambda: current[0])
    try:
        yield advance
    finally:
        set_now(None)
