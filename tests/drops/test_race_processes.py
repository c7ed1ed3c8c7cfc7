"""Many processes race for few copies: every copy is sold exactly once, numbers 1..N each once,
and every other buyer is told clearly that the edition sold out — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
from collections import Counter

import pytest
from django.db import connection

from kinfolk.core import clock
from kinfolk.drops.models import Copy, Hold
from tests.drops.race_buyers import reserve_and_pay

pytestmark = pytest.mark.django_db(transaction=True)

PROCESSES = 8
BUYERS_PER_PROCESS = 100
COPIES = 50


def _race(edition, emails_per_process: list[list[str]]) -> list[str]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(emails_per_process))
    results = context.Queue()
    database_name = connection.settings_dict["NAME"]
    processes = [
        context.Process(
            target=reserve_and_pay, args=(database_name, edition.pk, emails, barrier, results)
        )
        for emails in emails_per_process
    ]
    for process in processes:
        process.start()
    outcomes: list[str] = []
    try:
        for _ in processes:
            _pid, theirs = results.get(timeout=600)
            outcomes.extend(theirs)
    except queue.Empty:
        pytest.fail("a buyer process did not report within 600 s")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return outcomes


def test_eight_hundred_buyers_in_eight_processes_share_fifty_copies(make_edition):
    # Given an edition of 50 numbered copies and 800 fans in 8 processes
    # (opened an hour ago by the real clock: the buyer processes run on it)
    edition = make_edition(COPIES, opens_at=clock.now() - dt.timedelta(hours=1))
    emails = [
        [f"fan-{p}-{n}@example.com" for n in range(BUYERS_PER_PROCESS)] for p in range(PROCESSES)
    ]

    # When they all reserve and pay at once
    outcomes = _race(edition, emails)

    # Then exactly 50 copies are sold, numbered 1..50 once each, and 750 fans heard "sold out"
    errors = [o for o in outcomes if o.startswith("error")]
    assert errors == []
    kinds = Counter(o.split(" ")[0].rstrip(":") for o in outcomes)
    assert kinds == {"sold": COPIES, "sold_out": PROCESSES * BUYERS_PER_PROCESS - COPIES}
    numbers = sorted(int(o.split(" ")[1]) for o in outcomes if o.startswith("sold "))
    assert numbers == list(range(1, COPIES + 1))
    sold = Copy.objects.filter(edition=edition, state="sold")
    assert sold.count() == COPIES
    assert len(set(sold.values_list("order_id", flat=True))) == COPIES
    assert Hold.objects.filter(edition=edition, status="paid").count() == COPIES
