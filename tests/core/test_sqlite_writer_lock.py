"""SQLite writers queue on the file lock: one transaction at a time, the next as soon as it ends,
and a clear "database is locked" after the timeout."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection

from kinfolk.core.sqlite.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the writer lock belongs to the SQLite backend"
)


@pytest.fixture(autouse=True)
def _own_database_files(django_db_blocker):
    """These tests open their own database files, not the test database."""
    with django_db_blocker.unblock():
        yield


def _wrapper(path, *, timeout: float) -> DatabaseWrapper:
    settings = dict(connection.settings_dict, NAME=str(path))
    settings["OPTIONS"] = {**settings["OPTIONS"], "timeout": timeout}
    wrapper = DatabaseWrapper(settings, alias=f"lock-test-{id(settings)}")
    wrapper.ensure_connection()
    return wrapper


def _begin(wrapper: DatabaseWrapper) -> None:
    wrapper._start_transaction_under_autocommit()


def test_a_second_writer_starts_only_after_the_first_commits(tmp_path):
    path = tmp_path / "db.sqlite3"
    first, second = _wrapper(path, timeout=10), _wrapper(path, timeout=10)
    second.inc_thread_sharing()  # used by the writer thread below
    first.cursor().execute("CREATE TABLE t (n integer)")
    events: list[str] = []

    _begin(first)
    first.cursor().execute("INSERT INTO t VALUES (1)")

    def writer() -> None:
        _begin(second)
        events.append("second began")
        second.cursor().execute("INSERT INTO t VALUES (2)")
        second.commit()

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join(timeout=0.3)
    assert thread.is_alive() and events == []  # still queued behind the first writer
    events.append("first committed")
    first.commit()
    thread.join(timeout=10)

    assert events == ["first committed", "second began"]
    assert first.cursor().execute("SELECT count(*) FROM t").fetchone() == (2,)
    first.close()
    second.dec_thread_sharing()
    second.close()


def test_a_writer_that_waits_past_the_timeout_gets_database_is_locked(tmp_path):
    path = tmp_path / "db.sqlite3"
    holder, waiter = _wrapper(path, timeout=10), _wrapper(path, timeout=0.05)
    _begin(holder)

    with pytest.raises(OperationalError, match="database is locked"):
        _begin(waiter)

    holder.rollback()
    _begin(waiter)  # free again once the holder is done
    waiter.rollback()
    holder.close()
    waiter.close()
