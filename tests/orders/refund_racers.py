"""What each racing process runs: its own interpreter and database connection, real refunds of a
real order through the test processor.

Kept free of Django imports at module level: a spawned process imports this module before
Django is set up.
"""

from __future__ import annotations

import os


def _setup_django(database_name: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    from django.conf import settings

    # The parent's test database, not the development one the settings name.
    settings.DATABASES["default"]["NAME"] = database_name
    import django

    django.setup()


def order_refund_race(
    database_name: str, shop_id: int, order_id: int, amount: int, key: str, barrier, results
) -> None:
    """Refund ``amount`` of the order with the idempotency key ``key`` and ask the provider at
    once, as a repeated submit and a retried task would, every process starting together.

    Puts ``(pid, outcomes)`` on ``results``: "refund <id> <status>", "refused <code>" or
    "error: <type>: <message>".
    """
    outcomes: list[str] = []
    try:
        _setup_django(database_name)
        from django.db import connections

        from kinfolk.core.errors import KinfolkError
        from kinfolk.orders.models import Order
        from kinfolk.orders.services.lifecycle import order_refund
        from kinfolk.orders.services.refunds import refund_send
        from kinfolk.shops.models import Shop

        connections.close_all()
        shop = Shop.objects.get(pk=shop_id)
        order = Order.objects.get(pk=order_id)
        barrier.wait(timeout=120)
        try:
            order_refund(shop=shop, order=order, amount=amount, idempotency_key=key)
            refund = order.refunds.get(idempotency_key=key)
            refund = refund_send(refund_id=refund.pk)
            outcomes.append(f"refund {refund.pk} {refund.status}")
        except KinfolkError as exc:
            outcomes.append(f"refused {exc.code}")
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            outcomes.append(f"error: {type(exc).__name__}: {exc}")
        connections.close_all()
    except Exception as exc:  # noqa: BLE001
        outcomes.append(f"error: {type(exc).__name__}: {exc}")
    results.put((os.getpid(), outcomes))
