"""Holds lapse while payments arrive, in racing processes on SQLite and PostgreSQL: every early
fan's hold runs out on the card page, and their late payments race new fans reserving the same
copies. Each copy is sold exactly once, numbers 1..N once each, every payment either got a copy
or is refunded by the worker, and nobody hears anything but a clear answer."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
import threading
from collections import Counter

import pytest
from django.db import connection

from kinfolk.core import clock
from kinfolk.drops.models import Copy, Hold
from kinfolk.drops.services.checkout import order_refund_unfilled
from kinfolk.orders.models import Order
from tests.drops.race_lapse_buyers import lapse_race

pytestmark = pytest.mark.django_db(transaction=True)

PROCESSES = 6
EARLY_PER_PROCESS = 8
LATE_PER_PROCESS = 8
COPIES = 24
HOLD_MINUTES = 10


def _run(edition, early: list[list[str]], late: list[list[str]], offset) -> list[str]:
    context = multiprocessing.get_context("spawn")
    barriers = tuple(context.Barrier(PROCESSES + 1) for _ in range(3))
    results = context.Queue()
    name = connection.settings_dict["NAME"]
    processes = [
        context.Process(
            target=lapse_race,
            args=(name, edition.pk, early[p], late[p], offset, barriers, results),
        )
        for p in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    outcomes: list[str] = []
    try:
        start, reserved, moved = barriers
        start.wait(timeout=180)
        reserved.wait(timeout=300)
        # Every early hold runs out: the clock of every process jumps past the hold time.
        offset.value = (HOLD_MINUTES + 1) * 60
        moved.wait(timeout=60)
        for _ in processes:
            _pid, theirs = results.get(timeout=600)
            outcomes.extend(theirs)
    except (threading.BrokenBarrierError, queue.Empty):
        while not results.empty():
            outcomes.extend(results.get()[1])
        pytest.fail(f"a racing process did not keep up: {outcomes[-5:]}")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return outcomes


def test_late_payments_race_new_fans_for_lapsed_copies_and_each_copy_sells_once(
    make_edition,
):
    # Given an edition of 24 copies (opened an hour ago by the real clock), 48 early fans and
    # 48 new fans in 6 processes sharing one movable clock
    edition = make_edition(
        COPIES, opens_at=clock.now() - dt.timedelta(hours=1), hold_minutes=HOLD_MINUTES
    )
    early = [[f"early-{p}-{n}@example.com" for n in range(EARLY_PER_PROCESS)] for p in range(6)]
    late = [[f"new-{p}-{n}@example.com" for n in range(LATE_PER_PROCESS)] for p in range(6)]
    offset = multiprocessing.get_context("spawn").Value("d", 0.0)

    # When the early fans hold every copy, their holds lapse, and their payments arrive while
    # new fans reserve the lapsed copies and pay at once
    outcomes = _run(edition, early, late, offset)

    # Then nobody met an error, only clear answers
    errors = [o for o in outcomes if o.startswith("error")]
    assert errors == [], "\n".join(errors[:3])
    kinds = Counter(" ".join(o.split(" ")[::2]) for o in outcomes)
    assert kinds["early held"] == COPIES
    assert kinds["early held"] + kinds["early sold_out"] + kinds["early busy"] == 48

    # And exactly the 24 copies are sold, numbered 1..24 once each, each to one paid order
    sold = Copy.objects.filter(edition=edition, state=Copy.State.SOLD)
    assert sold.count() == COPIES
    assert sorted(sold.values_list("number", flat=True)) == list(range(1, COPIES + 1))
    assert len(set(sold.values_list("order_id", flat=True))) == COPIES
    assert set(Order.objects.filter(edition_copies__in=sold).values_list("status", flat=True)) == {
        "paid"
    }
    reported = sorted(int(o.rsplit(" ", 1)[1]) for o in outcomes if " copy " in o)
    assert reported == list(range(1, COPIES + 1))

    # And every payment that found no copy is refunded by the worker, and only those
    unfilled = Order.objects.filter(status="paid").exclude(edition_copies__in=sold)
    no_copy = [o for o in outcomes if o.endswith("no_copy")]
    assert unfilled.count() == len(no_copy)
    for order in list(unfilled):
        assert order_refund_unfilled(shop=edition.shop, order_id=order.pk) is True
    assert Order.objects.filter(status="refunded").count() == len(no_copy)
    # And no hold still holds a copy at the processes' time: each was paid or ran out
    shared_now = clock.now() + dt.timedelta(seconds=offset.value)
    live = Hold.objects.filter(
        edition=edition, status=Hold.Status.ACTIVE, expires_at__gt=shared_now
    )
    assert not live.exists()
