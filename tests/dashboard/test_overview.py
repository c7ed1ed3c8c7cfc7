"""The overview: today's figures and the week's revenue, by the shop's own calendar."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from tests.dashboard.factories import new_product, new_shop, new_user, place_order

from kinfolk.core import clock
from kinfolk.core.money import format_money
from kinfolk.dashboard import selectors
from kinfolk.orders.services import lifecycle

pytestmark = pytest.mark.django_db

SEOUL = dt.timezone(dt.timedelta(hours=9))


@pytest.fixture
def seoul_shop():
    owner = new_user()
    shop = new_shop(slug="seoul-night", owner=owner, currency="KRW", time_zone="Asia/Seoul")
    variant = new_product(shop, price=10000, stock=None).variants.get()
    return shop, owner, variant


def _order_at(shop, variant, when: dt.datetime, *, quantity: int = 1, paid: bool = True):
    with clock.frozen(when):
        order = place_order(shop, [(variant, quantity)])
        if paid:
            order = lifecycle.order_mark_paid(shop=shop, order=order)
    return order


def test_today_is_the_shops_day_not_utcs(seoul_shop, client):
    """Given a Seoul shop, an order at 23:50 Seoul time yesterday is not today's, though it is
    the same UTC day as one placed ten minutes after midnight in Seoul."""
    shop, owner, variant = seoul_shop
    yesterday = _order_at(shop, variant, dt.datetime(2025, 3, 9, 23, 50, tzinfo=SEOUL))
    today = _order_at(shop, variant, dt.datetime(2025, 3, 10, 0, 10, tzinfo=SEOUL), quantity=2)
    unpaid = _order_at(
        shop, variant, dt.datetime(2025, 3, 10, 9, 0, tzinfo=SEOUL), quantity=5, paid=False
    )
    assert yesterday.placed_at.date() == today.placed_at.date()  # one UTC day

    with clock.frozen(dt.datetime(2025, 3, 10, 12, 0, tzinfo=SEOUL)):
        figures = selectors.overview_figures(shop=shop)
        days = selectors.revenue_by_day(shop=shop)
        client.force_login(owner)
        page = client.get(reverse("dashboard:overview", kwargs={"shop": shop.slug}))

    assert figures.orders_today == 2  # the paid one and the unpaid one
    assert figures.revenue_today == today.total  # only money received counts
    assert figures.awaiting_payment == 1
    assert figures.to_ship == 2
    assert [day.day for day in days][-2:] == [dt.date(2025, 3, 9), dt.date(2025, 3, 10)]
    assert [day.revenue for day in days][-2:] == [yesterday.total, today.total]
    assert [day.share for day in days][-2:] == [round(yesterday.total * 100 / today.total), 100]
    assert len(days) == 7 and sum(day.revenue for day in days[:-2]) == 0

    assert page.status_code == 200
    html = page.content.decode()
    assert format_money(today.total, "KRW") in html
    assert unpaid.number in html  # among the recent orders
    assert 'style="height: 100%"' in html


def test_an_empty_shop_has_a_calm_overview(client):
    owner = new_user()
    shop = new_shop(slug="brand-new", owner=owner)
    client.force_login(owner)
    response = client.get(reverse("dashboard:overview", kwargs={"shop": shop.slug}))
    assert response.status_code == 200
    assert "No orders yet" in response.content.decode()
