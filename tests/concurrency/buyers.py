"""What each buyer process runs: its own interpreter, its own database connection, real orders.

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


def buy_all(database_name: str, shop_id: int, cart_tokens: list[str], barrier, results) -> None:
    """Place one order per cart, all buyers of all processes starting together.

    Puts ``(pid, outcomes)`` on ``results``: "placed", "out_of_stock: <message>" or
    "error: <type>: <message>" per cart.
    """
    outcomes: list[str] = []
    try:
        _setup_django(database_name)
        from django.db import connections

        from kinfolk.core.errors import OutOfStock
        from kinfolk.orders.services.cart import cart_get
        from kinfolk.orders.services.checkout import order_place
        from kinfolk.shops.models import Shop

        # A forked or spawned process must never reuse a connection it did not open.
        connections.close_all()
        shop = Shop.objects.get(pk=shop_id)
        carts = [cart_get(shop=shop, token=token) for token in cart_tokens]
        barrier.wait(timeout=120)
        for number, cart in enumerate(carts):
            try:
                order_place(
                    shop=shop,
                    cart=cart,
                    email=f"buyer-{os.getpid()}-{number}@example.com",
                    address={
                        "name": "김민지",
                        "street_address": "세종대로 110",
                        "city": "중구",
                        "country_area": "서울특별시",
                        "postal_code": "04524",
                        "country_code": "KR",
                    },
                    payment_provider="testpay",
                    idempotency_key=f"{os.getpid()}-{number}",
                    return_url_for=lambda order: "http://127.0.0.1/",
                )
                outcomes.append("placed")
            except OutOfStock as exc:
                outcomes.append(f"out_of_stock: {exc.message}")
            except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
                outcomes.append(f"error: {type(exc).__name__}: {exc}")
        connections.close_all()
    except Exception as exc:  # noqa: BLE001
        outcomes.append(f"error: {type(exc).__name__}: {exc}")
    results.put((os.getpid(), outcomes))
