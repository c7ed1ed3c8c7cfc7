"""The order's status moves only along the allowed transitions, and each move leaves an event."""

import itertools

import pytest

from kinfolk.core.errors import InvalidTransition
from kinfolk.orders.models import Order, OrderEvent

S = Order.Status
ALLOWED = {
    (S.AWAITING_PAYMENT, S.PAID),
    (S.AWAITING_PAYMENT, S.CANCELLED),
    (S.PAID, S.PARTIALLY_SHIPPED),
    (S.PAID, S.SHIPPED),
    (S.PAID, S.DELIVERED),
    (S.PAID, S.REFUNDED),
    (S.PARTIALLY_SHIPPED, S.PARTIALLY_SHIPPED),
    (S.PARTIALLY_SHIPPED, S.SHIPPED),
    (S.PARTIALLY_SHIPPED, S.REFUNDED),
    (S.SHIPPED, S.DELIVERED),
    (S.SHIPPED, S.REFUNDED),
    (S.DELIVERED, S.REFUNDED),
}
PAIRS = list(itertools.product(S.values, repeat=2))


def test_the_table_of_transitions_is_the_one_documented_here():
    declared = {(a, b) for a, targets in Order.TRANSITIONS.items() for b in targets}
    assert declared == {(str(a), str(b)) for a, b in ALLOWED}
    assert not Order.TRANSITIONS[S.CANCELLED] and not Order.TRANSITIONS[S.REFUNDED]


@pytest.fixture
def order(shop, product, buy):
    return buy(shop, (product.variants.get(), 1)).order


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_each_transition_is_allowed_or_refused_and_recorded(
    order, make_user, from_status, to_status
):
    staff = make_user("staff@example.com")
    order.status = from_status
    events_before = OrderEvent.objects.filter(order=order).count()
    if (from_status, to_status) in ALLOWED:
        order.transition_to(to_status, actor=staff, note="because")
        assert order.status == to_status
        event = OrderEvent.objects.filter(order=order).latest("id")
        assert (event.from_status, event.to_status) == (from_status, to_status)
        assert event.actor == staff and event.actor_label == "staff@example.com"
        assert event.note == "because" and event.created_at is not None
    else:
        with pytest.raises(InvalidTransition) as info:
            order.transition_to(to_status, actor=staff, note="because")
        assert order.status == from_status
        assert info.value.message.startswith("An order that is ")
        assert OrderEvent.objects.filter(order=order).count() == events_before


@pytest.mark.django_db
def test_a_change_without_an_actor_is_recorded_as_the_system(order):
    order.transition_to(S.PAID)
    event = order.events.latest("id")
    assert event.actor is None and event.actor_label == "system"


@pytest.mark.django_db
def test_a_refused_transition_names_both_statuses(order):
    with pytest.raises(InvalidTransition) as info:
        order.transition_to(S.SHIPPED)
    assert info.value.message == "An order that is awaiting payment cannot become shipped."
