"""What each racing buyer process runs: reserve a copy and, with a hold, pay for it.

Kept free of Django imports at module level: a spawned process imports this module before
Django is set up.
"""

from __future__ import annotations

import os


def reserve_and_pay(database_name: str, edition_id: int, emails: list[str], barrier, results):
    """For each fan: take a hold and, when one was given, place an order and sell the copy.

    Puts ``(pid, outcomes)`` on ``results``: per fan "sold <number>", "sold_out: <message>",
    or "error: <type>: <message>".
    """
    outcomes: list[str] = []
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
        from django.conf import settings

        settings.DATABASES["default"]["NAME"] = database_name
        import django

        django.setup()
        from django.db import connections

        from kinfolk.drops.models import Edition
        from kinfolk.drops.services import copy_sell, hold_take
        from kinfolk.drops.services.holds import SoldOut
        from tests.drops.conftest import order_for

        connections.close_all()
        edition = Edition.objects.select_related("shop").get(pk=edition_id)
        shop = edition.shop
        barrier.wait(timeout=120)
        for email in emails:
            try:
                hold = hold_take(shop=shop, edition=edition, email=email).hold
            except SoldOut as exc:
                outcomes.append(f"sold_out: {exc.message}")
                continue
            except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
                outcomes.append(f"error: {type(exc).__name__}: {exc}")
                continue
            try:
                order = order_for(shop, edition, email)
                copy = copy_sell(shop=shop, token=hold.token, order=order)
                outcomes.append(f"sold {copy.number}")
            except Exception as exc:  # noqa: BLE001
                outcomes.append(f"error: {type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001
        outcomes.append(f"error: {type(exc).__name__}: {exc}")
    finally:
        results.put((os.getpid(), outcomes))
