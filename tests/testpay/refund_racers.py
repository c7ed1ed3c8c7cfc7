"""What each racing process runs: its own interpreter and database connection, real refunds.

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


def refund_race(
    database_name: str, charge_id: str, asks: list[tuple[str, int]], barrier, results
) -> None:
    """Ask the processor for each ``(idempotency_key, amount)`` refund of the charge, every
    process starting together.

    Puts ``(pid, outcomes)`` on ``results``: "refund <id> <status>", "refused <code>" or
    "error: <type>: <message>" per ask.
    """
    outcomes: list[str] = []
    try:
        _setup_django(database_name)
        from django.db import connections

        from kinfolk.core.errors import KinfolkError
        from kinfolk.testpay.services import refund_create

        # A spawned process must never reuse a connection it did not open.
        connections.close_all()
        barrier.wait(timeout=120)
        for key, amount in asks:
            try:
                refund = refund_create(
                    charge_id=charge_id, amount=amount, idempotency_key=key, reason="race"
                )
                outcomes.append(f"refund {refund.pk} {refund.status}")
            except KinfolkError as exc:
                outcomes.append(f"refused {exc.code}")
            except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
                outcomes.append(f"error: {type(exc).__name__}: {exc}")
        connections.close_all()
    except Exception as exc:  # noqa: BLE001
        outcomes.append(f"error: {type(exc).__name__}: {exc}")
    results.put((os.getpid(), outcomes))
