"""The embedded task queue: Huey's SQLite storage with the same durability as the main database.

Huey's SQLite storage leaves SQLite's default ``synchronous=FULL``, which in WAL mode syncs the
file to disk on every commit: each task enqueued from a request (a confirmation e-mail, a stage
update) then waited about 3 ms for the disk, holding one of the server's few threads. With
``synchronous=NORMAL`` (the setting of the main database, see ``settings.DATABASES``) WAL commits
stay atomic and consistent, and only the last commits before a power cut can be lost — the same
trade the main database makes, so a task cannot outlive the order it was queued for.
"""

from __future__ import annotations

import sqlite3

from huey import SqliteHuey
from huey.storage import SqliteStorage


class NormalSyncSqliteStorage(SqliteStorage):
    """Huey's SQLite storage with ``PRAGMA synchronous=NORMAL`` on every connection."""

    def _create_connection(self) -> sqlite3.Connection:
        conn = super()._create_connection()
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn


class NormalSyncSqliteHuey(SqliteHuey):
    """The Huey used when no Redis is configured (``settings.HUEY``)."""

    storage_class = NormalSyncSqliteStorage
