"""The embedded task queue keeps tasks with the main database's durability settings."""

from __future__ import annotations

from kinfolk.core.task_queue import NormalSyncSqliteHuey


def test_embedded_queue_stores_and_hands_out_tasks_without_a_sync_per_commit(tmp_path):
    """Given the embedded queue on a file, when a task is enqueued, then its connection runs
    WAL with synchronous=NORMAL and a worker reading the same file gets the task back."""
    huey = NormalSyncSqliteHuey("test", filename=str(tmp_path / "tasks.sqlite3"))

    @huey.task()
    def add(a: int, b: int) -> int:
        return a + b

    add(2, 3)
    conn = huey.storage.conn
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    reader = NormalSyncSqliteHuey("test", filename=str(tmp_path / "tasks.sqlite3"))
    reader._registry = huey._registry
    task = reader.dequeue()
    assert task is not None
    assert reader.execute(task) == 5
