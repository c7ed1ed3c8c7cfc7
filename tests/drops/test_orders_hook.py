"""Orders and drops meet through the orders app's lifecycle handlers: paying an order sells the
fan's held copy and numbers it, refunding frees it for the next fan on the waitlist, and the
orders app never imports the drops."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.drops.models import Copy, DropMessage, Hold, WaitlistEntry
from kinfolk.drops.services import hold_take, waitlist_join
from kinfolk.drops.services.checkout import hold_attach_order
from kinfolk.orders import extensions
from kinfolk.orders.models import Order
from kinfolk.orders.services.lifecycle import order_mark_paid, order_refund
from tests.drops.card_payments import card_callback, card_order
from tests.drops.conftest import order_for

SRC = Path(__file__).resolve().parents[2] / "src" / "kinfolk"


def _hold(shop, edition, email):
    return hold_take(shop=shop, edition=edition, email=email).hold


def _copy_of(order) -> Copy | None:
    return Copy.objects.filter(order=order).first()


def test_the_orders_app_never_imports_the_drops():
    """Given the orders app's source, then no module of it names the drops app (one-way deps)."""
    offenders = [
        str(path.relative_to(SRC))
        for path in (SRC / "orders").rglob("*.py")
        if re.search(r"kinfolk\.drops|from kinfolk import drops", path.read_text())
    ]
    assert offenders == []


def test_the_drops_register_their_order_handlers_when_django_starts():
    """Given Django set up, then the drops' handlers are registered for all three events."""
    for event in extensions.EVENTS:
        assert "drops" in extensions._handlers[event]


@pytest.mark.django_db
def test_an_approved_card_payment_sells_the_held_copy_to_the_order(shop, edition, moving_clock):
    """Given a fan holding a copy and an order placed with it, when the processor's approval
    arrives, then the order is paid and the hold's own copy is sold to it, numbered."""
    hold = _hold(shop, edition, "minji@example.com")
    order = card_order(shop, edition, "minji@example.com")
    hold_attach_order(shop=shop, token=hold.token, order=order)

    assert card_callback(order) == "approved"

    order.refresh_from_db()
    copy = _copy_of(order)
    assert order.status == Order.Status.PAID
    assert copy is not None and copy.state == Copy.State.SOLD and copy.hold == hold
    assert copy.number == 1
    hold.refresh_from_db()
    assert hold.status == Hold.Status.PAID and hold.order == order


@pytest.mark.django_db
def test_a_callback_delivered_twice_sells_one_copy(shop, edition, moving_clock):
    """Given a paid order, when the same approval arrives again, then still one copy is sold."""
    hold = _hold(shop, edition, "minji@example.com")
    order = card_order(shop, edition, "minji@example.com")
    hold_attach_order(shop=shop, token=hold.token, order=order)
    card_callback(order, event_id="evt_once")

    assert card_callback(order, event_id="evt_once") == "duplicate"
    assert card_callback(order) == "ignored_approved"
    assert Copy.objects.filter(edition=edition, state=Copy.State.SOLD).count() == 1


@pytest.mark.django_db
def test_marking_paid_without_an_attached_hold_uses_the_fan_s_newest_hold(
    shop, edition, moving_clock
):
    """Given a bank-transfer order whose hold was never attached, when staff mark it paid, then
    the copy held under the order's e-mail address is sold to it."""
    hold = _hold(shop, edition, "Minji@Example.com")
    order = order_for(shop, edition, "minji@example.com")

    order_mark_paid(shop=shop, order=order)

    assert _copy_of(order).hold_id == hold.pk


@pytest.mark.django_db
def test_an_order_of_other_products_is_paid_as_before(shop, product, edition, moving_clock):
    """Given an order without an edition, when it is paid, then no copy changes."""
    from kinfolk.orders.services import cart as carts
    from kinfolk.orders.services.checkout import order_place

    cart = carts.cart_get_or_create(shop=shop, token=None)
    carts.cart_add(shop=shop, cart=cart, variant_id=product.variants.get().pk, quantity=1)
    order = order_place(
        shop=shop,
        cart=cart,
        email="fan@example.com",
        address={
            "name": "A",
            "street_address": "1",
            "city": "중구",
            "country_area": "서울특별시",
            "postal_code": "04524",
            "country_code": "KR",
        },
        payment_provider="manual",
        idempotency_key="k" * 32,
        return_url_for=lambda order: "http://testserver/",
    ).order

    order_mark_paid(shop=shop, order=order)

    assert set(Copy.objects.filter(edition=edition).values_list("state", flat=True)) == {"free"}


@pytest.mark.django_db
def test_a_declined_card_cancels_the_order_and_the_fan_keeps_the_hold(shop, edition, moving_clock):
    """Given a fan paying for their hold, when the card is declined, then the order is cancelled,
    nothing is sold, and the copy stays held for the fan to try again."""
    hold = _hold(shop, edition, "minji@example.com")
    order = card_order(shop, edition, "minji@example.com")
    hold_attach_order(shop=shop, token=hold.token, order=order)

    assert card_callback(order, approved=False) == "declined"

    order.refresh_from_db()
    hold.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert hold.status == Hold.Status.ACTIVE
    assert Copy.objects.get(hold=hold).state == Copy.State.HELD


@pytest.mark.django_db
def test_a_hold_attaches_only_to_an_order_of_its_fan_holding_the_edition(
    shop, product, edition, make_edition, moving_clock
):
    """Given a fan's hold, when another address's order or an order without the edition tries
    to take it, then it is refused and the hold stays unattached."""
    hold = _hold(shop, edition, "minji@example.com")
    stranger = order_for(shop, edition, "stranger@example.com")
    other_edition = make_edition(2, name="Box set")
    other = order_for(shop, other_edition, "minji@example.com")

    with pytest.raises(NotFound):
        hold_attach_order(shop=shop, token=hold.token, order=stranger)
    with pytest.raises(InvalidInput):
        hold_attach_order(shop=shop, token=hold.token, order=other)
    with pytest.raises(NotFound):
        hold_attach_order(shop=shop, token="0" * 32, order=stranger)
    hold.refresh_from_db()
    assert hold.order is None


@pytest.mark.django_db(transaction=True)
def test_a_refund_frees_the_copy_and_offers_it_to_the_waitlist_by_email(
    shop, make_edition, moving_clock, run_tasks, smtp_server
):
    """Given a sold-out edition of one copy and a fan on its waitlist, when the buyer's order
    is refunded, then the copy is freed, held for the waiting fan, and they get one e-mail
    with the link to buy it."""
    edition = make_edition(1)
    hold = _hold(shop, edition, "first@example.com")
    order = order_for(shop, edition, "first@example.com")
    hold_attach_order(shop=shop, token=hold.token, order=order)
    order_mark_paid(shop=shop, order=order)
    run_tasks()
    waitlist_join(shop=shop, edition=edition, email="next@example.com")
    old_code = _copy_of(order).verification_code

    order_refund(shop=shop, order=order, reason="changed their mind")
    run_tasks()

    copy = Copy.objects.get(edition=edition)
    entry = WaitlistEntry.objects.get(edition=edition, email="next@example.com")
    assert entry.status == WaitlistEntry.Status.OFFERED
    assert copy.state == Copy.State.HELD and copy.hold == entry.offer
    assert copy.verification_code != old_code
    offers = [m for m in smtp_server.messages if m["To"] == "next@example.com"]
    assert len(offers) == 1
    assert "held for you" in offers[0]["Subject"]
    body = smtp_server.bodies(offers[0])
    assert f"/{shop.slug}/drops/{edition.product.slug}/holds/{entry.offer.token}/" in body
    # Sent once: the task running again sends nothing.
    from kinfolk.drops.emails import drop_email_send

    assert drop_email_send(kind="offer", key=entry.offer.token) is False
    assert DropMessage.objects.filter(kind="offer").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_minute_task_offers_a_lapsed_hold_s_copy_to_the_waitlist(
    shop, make_edition, moving_clock, run_tasks, smtp_server
):
    """Given a sold-out edition whose only copy's hold lapses, and a fan waiting for it, when
    the worker's minute task runs, then the copy is held for that fan and they are e-mailed;
    a second run offers nothing more."""
    from kinfolk.drops.tasks import offer_lapsed_copies

    edition = make_edition(1)
    _hold(shop, edition, "first@example.com")
    waitlist_join(shop=shop, edition=edition, email="next@example.com", language="ko")
    moving_clock.advance(minutes=11)

    assert offer_lapsed_copies.call_local() == 1
    run_tasks()
    assert offer_lapsed_copies.call_local() == 0

    entry = WaitlistEntry.objects.get(email="next@example.com")
    assert entry.status == WaitlistEntry.Status.OFFERED and entry.language == "ko"
    assert Copy.objects.get(edition=edition).hold == entry.offer
    assert [m["To"] for m in smtp_server.messages] == ["next@example.com"]


@pytest.mark.django_db(transaction=True)
def test_a_copy_given_back_goes_to_the_next_fan_on_the_waitlist(
    shop, make_edition, moving_clock, run_tasks, smtp_server
):
    from kinfolk.drops.services.checkout import hold_give_back

    edition = make_edition(1)
    hold = _hold(shop, edition, "first@example.com")
    waitlist_join(shop=shop, edition=edition, email="next@example.com")

    hold_give_back(shop=shop, token=hold.token, email="first@example.com")
    run_tasks()

    entry = WaitlistEntry.objects.get(email="next@example.com")
    assert entry.status == WaitlistEntry.Status.OFFERED
    assert [m["To"] for m in smtp_server.messages] == ["next@example.com"]
