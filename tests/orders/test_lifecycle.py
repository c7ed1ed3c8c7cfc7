"""After placement: paid, cancelled, refunded, shipped in parcels, delivered — each change through
a service that locks the order, records an event, and writes the fan's CRM timeline."""

import pytest
from django.db import IntegrityError, transaction

from kinfolk.catalog.models import Variant
from kinfolk.core.errors import InvalidInput, InvalidTransition
from kinfolk.crm.models import Interaction
from kinfolk.orders.models import Order, OrderLine, Payment, Shipment
from kinfolk.orders.services.lifecycle import (
    order_cancel,
    order_mark_delivered,
    order_mark_paid,
    order_refund,
    order_ship,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(shop, make_user):
    from kinfolk.shops.services import membership_add

    user = make_user("packer@example.com")
    membership_add(shop=shop, user=user)
    return user


@pytest.fixture
def vinyl(product):
    return product.variants.get()


@pytest.fixture
def poster(shop, make_product):
    return make_product(shop, name="Poster", price=5000, stock=10).variants.get()


def _stock(variant) -> int:
    return Variant.objects.get(pk=variant.pk).stock


def _timeline(order) -> list[str]:
    return list(
        Interaction.objects.filter(customer=order.customer, subject_id=order.number)
        .order_by("id")
        .values_list("kind", flat=True)
    )


def _last_event(order):
    return Order.objects.get(pk=order.pk).events.latest("id")


def test_staff_mark_a_manual_order_paid(shop, vinyl, buy, staff):
    order = buy(shop, (vinyl, 1), payment_provider="manual").order
    order_mark_paid(shop=shop, order=order, actor=staff, note="Transfer seen 3 May")
    order.refresh_from_db()
    assert order.status == "paid" and order.paid_at is not None
    assert order.payments.get().status == Payment.Status.APPROVED
    event = _last_event(order)
    assert (event.to_status, event.actor, event.note) == ("paid", staff, "Transfer seen 3 May")
    assert _timeline(order) == ["order_placed", "order_paid"]


def test_an_order_cannot_be_paid_twice(shop, vinyl, buy, staff):
    order = buy(shop, (vinyl, 1), payment_provider="manual").order
    order_mark_paid(shop=shop, order=order, actor=staff)
    with pytest.raises(InvalidTransition):
        order_mark_paid(shop=shop, order=order, actor=staff)
    assert Payment.objects.filter(order=order, status="approved").count() == 1
    assert _timeline(order) == ["order_placed", "order_paid"]


def test_cancelling_gives_the_stock_back_and_declines_the_payment(shop, vinyl, poster, buy, staff):
    order = buy(shop, (vinyl, 2), (poster, 3)).order
    assert (_stock(vinyl), _stock(poster)) == (3, 7)
    order_cancel(shop=shop, order=order, actor=staff, reason="Fan asked by phone")
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert (_stock(vinyl), _stock(poster)) == (5, 10)
    assert order.payments.get().status == Payment.Status.DECLINED
    event = _last_event(order)
    assert (event.to_status, event.actor, event.note) == ("cancelled", staff, "Fan asked by phone")
    assert _timeline(order) == ["order_placed", "order_cancelled"]


def test_cancelling_twice_does_not_give_stock_back_twice(shop, vinyl, buy, staff):
    order = buy(shop, (vinyl, 2)).order
    order_cancel(shop=shop, order=order, actor=staff)
    with pytest.raises(InvalidTransition):
        order_cancel(shop=shop, order=order, actor=staff)
    assert _stock(vinyl) == 5


def test_a_paid_order_is_refunded_not_cancelled(shop, vinyl, buy, staff):
    order = buy(shop, (vinyl, 2), payment_provider="manual").order
    order_mark_paid(shop=shop, order=order, actor=staff)
    with pytest.raises(InvalidTransition):
        order_cancel(shop=shop, order=order, actor=staff)
    order_refund(shop=shop, order=order, actor=staff, reason="Damaged sleeve")
    order.refresh_from_db()
    assert order.status == "refunded"
    # A bank transfer goes back by hand: the payment is refunded once staff mark it sent
    assert order.payments.get().status == Payment.Status.APPROVED
    assert order.refunds.get().amount == order.total
    assert _stock(vinyl) == 5  # nothing had shipped: all of it goes back
    assert _last_event(order).note == "Damaged sleeve"
    assert _timeline(order) == ["order_placed", "order_paid", "order_refunded"]


def test_an_unpaid_order_cannot_be_refunded(shop, vinyl, buy, staff):
    order = buy(shop, (vinyl, 1)).order
    with pytest.raises(InvalidTransition):
        order_refund(shop=shop, order=order, actor=staff)
    assert Order.objects.get(pk=order.pk).status == "awaiting_payment"


@pytest.fixture
def paid_order(shop, vinyl, poster, buy, staff):
    order = buy(shop, (vinyl, 2), (poster, 1), payment_provider="manual").order
    return order_mark_paid(shop=shop, order=order, actor=staff)


def _shipped(order) -> dict[str, int]:
    return dict(OrderLine.objects.filter(order=order).values_list("sku", "shipped_quantity"))


def test_shipping_in_parcels_goes_partially_shipped_then_shipped(
    shop, paid_order, vinyl, poster, staff
):
    lines = {line.sku: line for line in paid_order.lines.all()}
    vinyl_line, poster_line = lines[vinyl.sku], lines[poster.sku]

    first = order_ship(
        shop=shop,
        order=paid_order,
        carrier="CJ Logistics",
        tracking_number="111",
        actor=staff,
        quantities={vinyl_line.pk: 1},
    )
    assert Order.objects.get(pk=paid_order.pk).status == "partially_shipped"
    assert _shipped(paid_order) == {vinyl.sku: 1, poster.sku: 0}

    order_ship(
        shop=shop,
        order=paid_order,
        carrier="CJ Logistics",
        tracking_number="222",
        actor=staff,
        quantities={poster_line.pk: 1},
    )
    assert Order.objects.get(pk=paid_order.pk).status == "partially_shipped"

    last = order_ship(
        shop=shop, order=paid_order, carrier="Korea Post", tracking_number="333", actor=staff
    )
    assert Order.objects.get(pk=paid_order.pk).status == "shipped"
    assert _shipped(paid_order) == {vinyl.sku: 2, poster.sku: 1}
    assert [line.quantity for line in last.lines.all()] == [1]
    assert first.created_by == staff and first.carrier == "CJ Logistics"

    statuses = list(paid_order.events.order_by("id").values_list("to_status", "note"))
    assert statuses[-3:] == [
        ("partially_shipped", "CJ Logistics 111"),
        ("partially_shipped", "CJ Logistics 222"),
        ("shipped", "Korea Post 333"),
    ]
    assert _timeline(paid_order).count("order_shipped") == 3


def test_shipping_everything_at_once_is_shipped(shop, paid_order, staff):
    order_ship(shop=shop, order=paid_order, carrier="UPS", tracking_number="1Z999", actor=staff)
    assert Order.objects.get(pk=paid_order.pk).status == "shipped"
    assert Shipment.objects.get(order=paid_order).lines.count() == 2


def test_more_than_is_left_to_ship_is_refused_and_nothing_changes(shop, paid_order, vinyl, staff):
    line = paid_order.lines.get(sku=vinyl.sku)
    order_ship(
        shop=shop,
        order=paid_order,
        carrier="UPS",
        tracking_number="1",
        actor=staff,
        quantities={line.pk: 1},
    )
    for quantity in (2, -1):
        with pytest.raises(InvalidInput) as info:
            order_ship(
                shop=shop,
                order=paid_order,
                carrier="UPS",
                tracking_number="2",
                actor=staff,
                quantities={line.pk: quantity},
            )
        assert info.value.field == "quantities"
    assert OrderLine.objects.get(pk=line.pk).shipped_quantity == 1
    assert Shipment.objects.filter(order=paid_order).count() == 1


def test_a_line_of_another_order_cannot_be_shipped(shop, paid_order, vinyl, buy, staff):
    other = buy(shop, (vinyl, 1), payment_provider="manual").order
    foreign_line = other.lines.get()
    with pytest.raises(InvalidInput):
        order_ship(
            shop=shop,
            order=paid_order,
            carrier="UPS",
            tracking_number="1",
            actor=staff,
            quantities={foreign_line.pk: 1},
        )


def test_nothing_left_to_ship_is_refused(shop, paid_order, staff):
    order_ship(shop=shop, order=paid_order, carrier="UPS", tracking_number="1", actor=staff)
    with pytest.raises((InvalidInput, InvalidTransition)):
        order_ship(shop=shop, order=paid_order, carrier="UPS", tracking_number="2", actor=staff)
    assert Shipment.objects.filter(order=paid_order).count() == 1


def test_carrier_and_tracking_number_are_required(shop, paid_order, staff):
    with pytest.raises(InvalidInput) as info:
        order_ship(shop=shop, order=paid_order, carrier=" ", tracking_number="", actor=staff)
    assert set(info.value.errors) == {"carrier", "tracking_number"}
    assert Order.objects.get(pk=paid_order.pk).status == "paid"


def test_an_unpaid_order_cannot_be_shipped(shop, vinyl, buy, staff):
    order = buy(shop, (vinyl, 1)).order
    with pytest.raises(InvalidTransition):
        order_ship(shop=shop, order=order, carrier="UPS", tracking_number="1", actor=staff)
    assert not Shipment.objects.exists()
    assert _shipped(order) == {vinyl.sku: 0}


def test_the_database_refuses_to_ship_more_than_was_ordered(paid_order):
    line = paid_order.lines.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(pk=line.pk).update(shipped_quantity=line.quantity + 1)


def test_refunding_a_partly_shipped_order_returns_only_what_stayed(
    shop, paid_order, vinyl, poster, staff
):
    line = paid_order.lines.get(sku=vinyl.sku)
    order_ship(
        shop=shop,
        order=paid_order,
        carrier="UPS",
        tracking_number="1",
        actor=staff,
        quantities={line.pk: 1},
    )
    order_refund(shop=shop, order=paid_order, actor=staff)
    assert (_stock(vinyl), _stock(poster)) == (4, 10)


def test_a_shipped_order_is_delivered_then_can_be_refunded(shop, paid_order, staff):
    order_ship(shop=shop, order=paid_order, carrier="UPS", tracking_number="1", actor=staff)
    order_mark_delivered(shop=shop, order=paid_order, actor=staff)
    assert Order.objects.get(pk=paid_order.pk).status == "delivered"
    assert _timeline(paid_order) == [
        "order_placed",
        "order_paid",
        "order_shipped",
        "order_delivered",
    ]
    order_refund(shop=shop, order=paid_order, actor=staff)
    assert Order.objects.get(pk=paid_order.pk).status == "refunded"


@pytest.mark.parametrize(
    "change",
    [
        lambda shop, order: order_mark_paid(shop=shop, order=order),
        lambda shop, order: order_cancel(shop=shop, order=order),
        lambda shop, order: order_refund(shop=shop, order=order),
        lambda shop, order: order_mark_delivered(shop=shop, order=order),
        lambda shop, order: order_ship(shop=shop, order=order, carrier="X", tracking_number="1"),
    ],
    ids=["paid", "cancel", "refund", "delivered", "ship"],
)
def test_another_shop_cannot_change_an_order(make_shop, shop, vinyl, buy, change):
    order = buy(shop, (vinyl, 1)).order
    with pytest.raises(InvalidInput, match="another shop"):
        change(make_shop(), order)
    assert Order.objects.get(pk=order.pk).status == "awaiting_payment"
    assert order.events.count() == 1
