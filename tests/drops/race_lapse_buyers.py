"""What each process of the lapse race runs: early fans reserve and place their orders; the shared
clock then jumps past their holds; the early fans' payments arrive late while new fans reserve
the lapsed copies and pay at once, all processes at the same time.

Kept free of Django imports at module level: a spawned process imports this module before
Django is set up. Every process reads the same movable clock: the real time plus the shared
``offset`` seconds, which the test moves between the phases.
"""

from __future__ import annotations

import os


def _setup(database_name: str, offset) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = database_name
    import django

    django.setup()
    import datetime as dt

    from django.db import connections
    from django.utils import timezone

    from kinfolk.core import clock

    clock.set_now(lambda: timezone.now() + dt.timedelta(seconds=offset.value))
    connections.close_all()


def _pay(shop, order) -> str:
    """Mark the order paid the way an approved callback does (retried while the rush keeps
    every free copy locked, as the processor retries); return "copy <n>" or "no_copy"."""
    from kinfolk.core.errors import Conflict
    from kinfolk.drops.models import Copy
    from kinfolk.orders.services.lifecycle import order_mark_paid

    for _attempt in range(5):
        try:
            order_mark_paid(shop=shop, order=order)
            break
        except Conflict as exc:
            if exc.code != "busy":
                raise
    else:
        return "busy"
    copy = Copy.objects.filter(order=order).first()
    return f"copy {copy.number}" if copy else "no_copy"


def _reserve_and_order(shop, edition, email: str):
    """Take a hold and place its order; return the order, or the clear answer as text."""
    from kinfolk.core.errors import Conflict
    from kinfolk.drops.services import hold_take
    from kinfolk.drops.services.checkout import hold_attach_order
    from kinfolk.drops.services.holds import SoldOut
    from tests.drops.conftest import order_for

    try:
        hold = hold_take(shop=shop, edition=edition, email=email).hold
    except SoldOut:
        return "sold_out"
    except Conflict as exc:
        return exc.code  # "busy": the fan is asked to try again
    order = order_for(shop, edition, email)
    hold_attach_order(shop=shop, token=hold.token, order=order)
    return order


def lapse_race(
    database_name: str,
    edition_id: int,
    early: list[str],
    late: list[str],
    offset,
    barriers,
    results,
):
    """Run both phases for this process's fans; put ``(pid, outcomes)`` on ``results``.

    Outcomes: "early <email> held|sold_out|busy", "late-pay <email> copy <n>|no_copy|busy",
    "new <email> copy <n>|no_copy|sold_out|busy", or "error: <type>: <message>".
    """
    start, reserved, moved = barriers
    outcomes: list[str] = []
    try:
        _setup(database_name, offset)
        from kinfolk.drops.models import Edition

        edition = Edition.objects.select_related("shop").get(pk=edition_id)
        shop = edition.shop
        start.wait(timeout=120)
        orders = {}
        for email in early:
            answer = _reserve_and_order(shop, edition, email)
            if isinstance(answer, str):
                outcomes.append(f"early {email} {answer}")
            else:
                orders[email] = answer
                outcomes.append(f"early {email} held")
        reserved.wait(timeout=300)
        moved.wait(timeout=120)  # the test moved the clock past every hold
        pending = list(orders.items())
        for index in range(max(len(pending), len(late))):
            if index < len(pending):
                email, order = pending[index]
                outcomes.append(f"late-pay {email} {_pay(shop, order)}")
            if index < len(late):
                answer = _reserve_and_order(shop, edition, late[index])
                if isinstance(answer, str):
                    outcomes.append(f"new {late[index]} {answer}")
                else:
                    outcomes.append(f"new {late[index]} {_pay(shop, answer)}")
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        outcomes.append(f"error: {type(exc).__name__}: {exc}")
    finally:
        results.put((os.getpid(), outcomes))
