"""What each racing checkout process runs: place its cart's order with a shared reward code.

Kept free of Django imports at module level: a spawned process imports this module before
Django is set up.
"""

from __future__ import annotations

import os
import uuid


def place_with_code(database_name: str, shop_id: int, cart_token: str, code: str, barrier, results):
    """Place the cart's order with ``code``; put ``(pid, outcome)``: "placed <number>",
    "refused <code>: <message>" or "error: <type>: <message>"."""
    outcome = ""
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
        from django.conf import settings

        settings.DATABASES["default"]["NAME"] = database_name
        import django

        django.setup()
        from django.db import connections

        from kinfolk.core.errors import KinfolkError
        from kinfolk.orders.services.cart import cart_get
        from kinfolk.orders.services.checkout import order_place
        from kinfolk.shops.models import Shop

        connections.close_all()
        shop = Shop.objects.get(pk=shop_id)
        cart = cart_get(shop=shop, token=cart_token)
        barrier.wait(timeout=120)
        try:
            placed = order_place(
                shop=shop,
                cart=cart,
                email="sharer@example.com",
                address=None,
                payment_provider="manual",
                idempotency_key=uuid.uuid4().hex,
                return_url_for=lambda order: "/",
                discount_code=code,
            )
            outcome = f"placed {placed.order.number}"
        except KinfolkError as exc:
            outcome = f"refused {exc.code}: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        outcome = f"error: {type(exc).__name__}: {exc}"
    finally:
        results.put((os.getpid(), outcome))
