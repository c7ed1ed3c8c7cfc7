"""The orders list and one order's page, and the actions staff take on it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from tests.dashboard.factories import drain_tasks, new_product, new_shop, new_user, place_order

from kinfolk.catalog.models import Variant
from kinfolk.core import clock
from kinfolk.orders.models import Order, OrderEvent, Shipment
from kinfolk.orders.services import lifecycle

pytestmark = pytest.mark.django_db


def order_url(world, key: str, action: str = "") -> str:
    name = f"dashboard:order_{action}" if action else "dashboard:order"
    return reverse(name, kwargs={"shop": world.shop.slug, "number": world.orders[key].number})


def test_mark_paid_makes_the_order_paid_and_records_who_did_it(staff_client, world_a):
    order = world_a.orders["awaiting"]
    response = staff_client.post(
        order_url(world_a, "awaiting", "mark_paid"), {"mark_paid-note": "Transfer 0412"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    event = order.events.order_by("-pk").first()
    assert (event.from_status, event.to_status) == ("awaiting_payment", "paid")
    assert event.actor == world_a.owner and event.note == "Transfer 0412"
    page = staff_client.get(response["Location"]).content.decode()
    assert "is marked paid" in page
    assert "Transfer 0412" in page


# Commits for real: the e-mail task is queued on commit and the worker (huey) closes connections.
@pytest.mark.django_db(transaction=True)
def test_shipping_records_the_parcel_and_emails_the_fan(staff_client, world_a):
    order = world_a.orders["paid"]
    drain_tasks()  # the e-mails of the orders placed and paid while building the shop
    mail.outbox = []
    response = staff_client.post(
        order_url(world_a, "paid", "ship"),
        {"carrier": "CJ Logistics", "tracking_number": "6301-2233", **_all_left(order)},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.tracking_number) == ("CJ Logistics", "6301-2233")
    drain_tasks()
    sent = [m for m in mail.outbox if order.email in m.to]
    assert len(sent) == 1
    assert "6301-2233" in sent[0].body


def _all_left(order: Order) -> dict[str, str]:
    return {
        f"line_{line.pk}": str(line.quantity - line.shipped_quantity) for line in order.lines.all()
    }


def test_the_ship_form_offers_everything_left_and_ships_part_of_it(staff_client, world_a):
    order = world_a.orders["paid"]
    lines = list(order.lines.order_by("pk"))
    page = staff_client.get(order_url(world_a, "paid")).content.decode()
    for line in lines:
        assert re.search(rf'name="line_{line.pk}" value="{line.quantity}"', page)
    response = staff_client.post(
        order_url(world_a, "paid", "ship"),
        {
            "carrier": "USPS",
            "tracking_number": "111",
            f"line_{lines[0].pk}": "1",
            f"line_{lines[1].pk}": "0",
        },
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_SHIPPED
    page = staff_client.get(order_url(world_a, "paid")).content.decode()
    # What is left is offered next: one of the first line, all of the second.
    assert re.search(rf'name="line_{lines[0].pk}" value="1"', page)
    assert re.search(rf'name="line_{lines[1].pk}" value="{lines[1].quantity}"', page)


def test_a_missing_tracking_number_is_shown_next_to_the_field_and_keeps_the_carrier(
    staff_client, world_a
):
    order = world_a.orders["paid"]
    response = staff_client.post(
        order_url(world_a, "paid", "ship"),
        {"carrier": "Korea Post", "tracking_number": "  ", **_all_left(order)},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter the tracking number." in page
    assert 'value="Korea Post"' in page
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert not Shipment.objects.filter(order=order).exists()


def test_an_action_the_state_machine_refuses_shows_its_message_and_changes_nothing(
    staff_client, world_a
):
    """Given an order already shipped (another tab), marking it paid is refused with a message."""
    order = world_a.orders["shipped"]
    events = order.events.count()
    response = staff_client.post(order_url(world_a, "shipped", "mark_paid"), {})
    assert response.status_code == 409
    assert "cannot become paid" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert order.events.count() == events


def test_shipping_more_than_is_left_is_refused_and_keeps_what_was_typed(staff_client, world_a):
    order = world_a.orders["paid"]
    line = order.lines.order_by("pk").first()
    response = staff_client.post(
        order_url(world_a, "paid", "ship"),
        {
            "carrier": "DHL",
            "tracking_number": "JD0001",
            **_all_left(order),
            f"line_{line.pk}": str(line.quantity + 5),
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="DHL"' in page and 'value="JD0001"' in page
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_only_the_actions_the_state_machine_allows_are_offered(staff_client, world_a):
    awaiting = staff_client.get(order_url(world_a, "awaiting")).content.decode()
    assert order_url(world_a, "awaiting", "mark_paid") in awaiting
    assert order_url(world_a, "awaiting", "cancel") in awaiting
    assert order_url(world_a, "awaiting", "ship") not in awaiting
    assert order_url(world_a, "awaiting", "refund") not in awaiting
    shipped = staff_client.get(order_url(world_a, "shipped")).content.decode()
    assert order_url(world_a, "shipped", "mark_delivered") in shipped
    assert order_url(world_a, "shipped", "refund") in shipped
    assert order_url(world_a, "shipped", "mark_paid") not in shipped
    assert order_url(world_a, "shipped", "ship") not in shipped


def test_cancelling_an_unpaid_order_gives_its_stock_back(staff_client, world_a):
    order = world_a.orders["awaiting"]
    line = order.lines.get()
    stock = Variant.objects.get(pk=line.variant_id).stock
    response = staff_client.post(
        order_url(world_a, "awaiting", "cancel"), {"cancel-note": "Fan asked"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert Variant.objects.get(pk=line.variant_id).stock == stock + line.quantity
    assert order.events.order_by("-pk").first().note == "Fan asked"


def test_delivered_then_refunded(staff_client, world_a):
    order = world_a.orders["shipped"]
    assert staff_client.post(order_url(world_a, "shipped", "mark_delivered")).status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert (
        staff_client.post(
            order_url(world_a, "shipped", "refund"), {"refund-note": "Broken in transit"}
        ).status_code
        == 302
    )
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    page = staff_client.get(order_url(world_a, "shipped")).content.decode()
    assert "Broken in transit" in page
    # The money still has to go back: the refund is on its way to the payment provider
    assert "is being sent to the payment provider" in page


def test_the_order_page_shows_lines_address_payments_history_and_parcels(staff_client, world_a):
    order = world_a.orders["shipped"]
    page = staff_client.get(order_url(world_a, "shipped")).content.decode()
    line = order.lines.get()
    assert line.product_name in page and line.sku in page
    assert "NEW YORK" in page  # the address, formatted for its country
    assert "USPS" in page and "9400" in page
    assert "Awaiting payment → <strong>Paid</strong>" in page
    assert "Paid → <strong>Shipped</strong>" in page
    assert world_a.owner.email in page
    assert "manual" in page


def test_order_times_are_shown_in_the_shops_time_zone(client, db):
    owner = new_user()
    shop = new_shop(slug="late-night", owner=owner, time_zone="Asia/Seoul")
    product = new_product(shop)
    with clock.frozen(dt.datetime(2025, 3, 9, 23, 30, tzinfo=dt.UTC)):
        order = place_order(shop, [(product.variants.get(), 1)])
    client.force_login(owner)
    page = client.get(reverse("dashboard:orders", kwargs={"shop": shop.slug})).content.decode()
    # 23:30 UTC is 08:30 the next morning in Seoul.
    assert 'datetime="2025-03-10T08:30:00+09:00"' in page
    assert order.number in page


def test_the_list_filters_by_status_with_counts_and_searches(staff_client, world_a):
    url = reverse("dashboard:orders", kwargs={"shop": world_a.shop.slug})
    page = staff_client.get(url).content.decode()
    assert all(order.number in page for order in world_a.orders.values())
    assert re.search(r'Paid <span class="count">1</span>', page)
    assert re.search(r'All <span class="count">3</span>', page)

    paid = staff_client.get(url, {"status": "paid"}).content.decode()
    assert world_a.orders["paid"].number in paid
    assert world_a.orders["awaiting"].number not in paid

    by_email = staff_client.get(url, {"q": world_a.orders["shipped"].email.upper()})
    assert world_a.orders["shipped"].number in by_email.content.decode()
    assert world_a.orders["paid"].number not in by_email.content.decode()

    number = world_a.orders["awaiting"].number
    by_number = staff_client.get(url, {"q": f"#{number.lower()}"}).content.decode()
    assert number in by_number and world_a.orders["paid"].number not in by_number


def test_the_list_shows_fifty_orders_a_page(client, db):
    owner = new_user()
    shop = new_shop(slug="busy-shop", owner=owner)
    variant = new_product(shop, stock=None).variants.get()
    for n in range(52):
        place_order(shop, [(variant, 1)], email=f"fan{n}@example.com")
    client.force_login(owner)
    url = reverse("dashboard:orders", kwargs={"shop": shop.slug})
    first = client.get(url).content.decode()
    assert first.count('class="order-number"') == 50
    assert "page=2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert second.count('class="order-number"') == 2


@pytest.mark.parametrize("orders", [5, 60])
def test_the_list_runs_the_same_number_of_queries_whatever_its_length(
    client, db, orders, django_assert_max_num_queries
):
    owner = new_user()
    shop = new_shop(slug="counted", owner=owner)
    variants = [new_product(shop, name=f"P{n}", stock=None).variants.get() for n in range(3)]
    for n in range(orders):
        order = place_order(shop, [(variants[n % 3], 1)], email=f"fan{n}@example.com")
        if n % 2:
            lifecycle.order_mark_paid(shop=shop, order=order)
    client.force_login(owner)
    url = reverse("dashboard:orders", kwargs={"shop": shop.slug})
    with django_assert_max_num_queries(6):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('class="order-number"') == min(orders, 50)


def test_every_status_change_left_an_event_row(staff_client, world_a):
    order = world_a.orders["shipped"]
    assert list(OrderEvent.objects.filter(order=order).values_list("to_status", flat=True)) == [
        "awaiting_payment",
        "paid",
        "shipped",
    ]
