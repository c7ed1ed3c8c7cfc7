"""Fixtures of the drops tests: a shop's numbered edition, a movable clock, orders for holds."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from kinfolk.core import clock
from kinfolk.drops.services import edition_create
from kinfolk.orders.services import cart as carts
from kinfolk.orders.services.checkout import order_place

OPENS = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def moving_clock():
    """A clock set to the edition's opening; ``moving_clock.advance(minutes=...)`` moves it."""

    class Clock:
        def __init__(self) -> None:
            self.now = OPENS

        def advance(self, **delta) -> dt.datetime:
            self.now += dt.timedelta(**delta)
            return self.now

        def __call__(self) -> dt.datetime:
            return self.now

    moving = Clock()
    clock.set_now(moving)
    yield moving
    clock.set_now(None)


@pytest.fixture
def make_edition(shop, make_product):
    def make(size: int = 3, *, name: str = "Deluxe Edition", **options):
        product = make_product(shop, name=name, price=750000, stock=None)
        options.setdefault("opens_at", OPENS)
        return edition_create(
            shop=shop, product=product, variant=product.variants.get(), size=size, **options
        )

    return make


@pytest.fixture
def edition(make_edition):
    return make_edition(3)


def order_for(shop, edition, email: str):
    """Place a real order (paid later by bank transfer) of one copy for ``email``."""
    cart = carts.cart_get_or_create(shop=shop, token=None)
    carts.cart_add(shop=shop, cart=cart, variant_id=edition.variant_id, quantity=1)
    return order_place(
        shop=shop,
        cart=cart,
        email=email,
        address={
            "name": "김민지",
            "street_address": "세종대로 110",
            "city": "중구",
            "country_area": "서울특별시",
            "postal_code": "04524",
            "country_code": "KR",
        },
        payment_provider="manual",
        idempotency_key=uuid.uuid4().hex,
        return_url_for=lambda order: "http://testserver/",
    ).order
