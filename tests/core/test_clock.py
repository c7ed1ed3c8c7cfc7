"""The one clock: frozen and moved by tests, aware UTC otherwise."""

import datetime as dt

from kinfolk.core import clock


def test_the_real_clock_is_aware_utc():
    now = clock.now()
    assert now.tzinfo is not None
    assert now.utcoffset() == dt.timedelta(0)


def test_frozen_stops_time_moves_it_on_demand_and_restores_it():
    at = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
    with clock.frozen(at) as advance:
        assert clock.now() == at
        assert clock.now() == at
        advance(dt.timedelta(days=2, hours=1))
        assert clock.now() == at + dt.timedelta(days=2, hours=1)
    assert clock.now() > at + dt.timedelta(days=300)


def test_frozen_restores_the_real_clock_even_after_an_error():
    at = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
    try:
        with clock.frozen(at):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert clock.now().year > 2001


def test_set_now_replaces_and_none_restores():
    at = dt.datetime(2030, 6, 1, tzinfo=dt.UTC)
    clock.set_now(lambda: at)
    try:
        assert clock.now() == at
    finally:
        clock.set_now(None)
    assert clock.now() != at
