"""What each racing uploader process runs: submit photos for one fan to one shop.

Kept free of Django imports at module level: a spawned process imports this module before
Django is set up.
"""

from __future__ import annotations

import os


def submit_photos(
    database_name: str, shop_id: int, account_id: int, count: int, per_day: int, barrier, results
):
    """Submit ``count`` photos; put ``(pid, outcomes)`` on ``results``: per photo "stored",
    the refusal's code, or "error: <type>: <message>"."""
    outcomes: list[str] = []
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
        from django.conf import settings

        settings.DATABASES["default"]["NAME"] = database_name
        settings.GALLERY_UPLOADS_PER_DAY = per_day
        import django

        django.setup()
        from django.db import connections

        from kinfolk.accounts.models import User
        from kinfolk.core.errors import InvalidInput
        from kinfolk.gallery.services import upload_submit
        from kinfolk.shops.models import Shop
        from tests.gallery.conftest import jpeg_with_gps, upload_file

        connections.close_all()
        shop = Shop.objects.get(pk=shop_id)
        account = User.objects.get(pk=account_id)
        barrier.wait(timeout=120)
        for index in range(count):
            try:
                upload_submit(
                    shop=shop,
                    account=account,
                    file=upload_file(f"{index}.jpg", jpeg_with_gps()),
                    rights_confirmed=True,
                )
                outcomes.append("stored")
            except InvalidInput as exc:
                outcomes.append(exc.code)
            except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
                outcomes.append(f"error: {type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001
        outcomes.append(f"error: {type(exc).__name__}: {exc}")
    finally:
        results.put((os.getpid(), outcomes))
