"""What each racing process runs: friends of one fan download at once, each credited.

Kept free of Django imports at module level: a spawned process imports this module before
Django is set up.
"""

from __future__ import annotations

import os


def credit_friends(
    database_name: str, shop_id: int, code: str, emails: list[str], barrier, results
):
    """For each e-mail: make the friend a customer and credit their download through ``code``.

    Puts ``(pid, outcomes)`` on ``results``: "credited", "none" or "error: <type>: <message>".
    """
    outcomes: list[str] = []
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
        from django.conf import settings

        settings.DATABASES["default"]["NAME"] = database_name
        import django

        django.setup()
        from django.db import connections

        from kinfolk.crm.services import customer_get_or_create
        from kinfolk.referrals.services import referral_credit
        from kinfolk.shops.models import Shop

        connections.close_all()
        shop = Shop.objects.get(pk=shop_id)
        barrier.wait(timeout=120)
        for email in emails:
            try:
                friend = customer_get_or_create(shop=shop, email=email)
                credit = referral_credit(
                    shop=shop, customer=friend, kind="download", subject_id=1, referral_code=code
                )
                outcomes.append("credited" if credit else "none")
            except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
                outcomes.append(f"error: {type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001
        outcomes.append(f"error: {type(exc).__name__}: {exc}")
    finally:
        results.put((os.getpid(), outcomes))
