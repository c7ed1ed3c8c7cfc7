"""Order numbers are drawn at random: a number the shop already used is drawn again, never
answered with a server error."""

from __future__ import annotations

import pytest

from kinfolk.orders.models import Order
from kinfolk.orders.services import checkout

pytestmark = pytest.mark.django_db


def test_a_number_already_used_in_the_shop_is_drawn_again(shop, product, buy, monkeypatch):
    first = buy(shop, (product.variants.get(), 1)).order
    # The random source, made to repeat the first order's number once.
    draws = iter([first.number, "ZZZZ2345"])
    monkeypatch.setattr(checkout, "new_order_number", lambda: next(draws))

    second = buy(shop, (product.variants.get(), 1)).order

    assert second.number == "ZZZZ2345"
    assert Order.objects.filter(shop=shop).count() == 2
