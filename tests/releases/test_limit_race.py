"""Downloads started at the same moment never pass the release's limit: one conditional UPDATE
decides, on SQLite and PostgreSQL alike (threads, each with its own connection)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from kinfolk.crm.services import customer_get_or_create
from kinfolk.releases.models import Download, DownloadAllowance
from kinfolk.releases.services import LimitReached, download_take, grant_give

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 12
LIMIT = 5


def test_twelve_downloads_at_once_take_exactly_the_limit(shop, make_release):
    # Given a grant allowing 5 downloads of a file
    release = make_release("Race Song", download_limit=LIMIT)
    customer = customer_get_or_create(shop=shop, email="racer@example.com")
    grant = grant_give(shop=shop, release=release, customer=customer, source="free")
    file = release.files.get()
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def download() -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=30)
            download_take(shop=shop, grant=grant, file=file)
            result = "ok"
        except LimitReached:
            result = "limit"
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            result = f"error: {type(exc).__name__}: {exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    # When 12 start at the same moment
    threads = [threading.Thread(target=download) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # Then exactly 5 are served and counted, the others told the limit is reached
    assert sorted(outcomes) == ["limit"] * (THREADS - LIMIT) + ["ok"] * LIMIT, connection.vendor
    assert DownloadAllowance.objects.get(grant=grant, file=file).used == LIMIT
    assert Download.objects.filter(grant=grant).count() == LIMIT
