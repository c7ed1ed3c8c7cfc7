"""A payment that arrives after its hold lapsed: it gets a copy if one is free; when every copy
went to other fans meanwhile the order is refunded by the worker, the money goes back to the
card through the processor exactly once, and the fan is told over SMTP, once, with the way to
the waitlist."""

from __future__ import annotations

import pytest

from kinfolk.drops import tasks as drop_tasks
from kinfolk.drops.emails import drop_email_send
from kinfolk.drops.models import Copy, DropMessage, Hold
from kinfolk.drops.services import hold_take
from kinfolk.drops.services.checkout import hold_attach_order, order_refund_unfilled
from kinfolk.orders import tasks as order_tasks
from kinfolk.orders.models import Order, Payment, Refund
from kinfolk.orders.payments import get_provider
from kinfolk.testpay.models import Charge
from kinfolk.testpay.models import Refund as CardRefund
from tests.drops.card_payments import card_callback, card_order

# Tests here commit for real, so that refunds and e-mails queued with on_commit run as in
# production (the worker is run_tasks).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def processor_callbacks_go_nowhere(settings):
    # The tests deliver each charge's callback themselves (card_callback); the processor's own
    # delivery, queued too, finds nothing listening on this loopback port and is retried later.
    settings.TESTPAY_CALLBACK_BASE = "http://127.0.0.1:9"


def _money_back(order) -> list[int]:
    """Return the amounts the processor gave back on the order's charge."""
    charge = Charge.objects.get(pk=order.payments.get().reference)
    return list(
        CardRefund.objects.filter(charge=charge, status="succeeded").values_list(
            "amount", flat=True
        )
    )


def _reserve_and_order(shop, edition, email):
    hold = hold_take(shop=shop, edition=edition, email=email).hold
    order = card_order(shop, edition, email)
    hold_attach_order(shop=shop, token=hold.token, order=order)
    return hold, order


def _sold_to(order) -> list[int]:
    return list(Copy.objects.filter(order=order).values_list("number", flat=True))


def test_a_late_payment_with_no_copy_left_is_refunded_and_the_fan_is_told(
    shop, make_edition, moving_clock, run_tasks, smtp_server
):
    """Given an edition of one copy, a fan whose hold lapsed while on the card page, and
    another fan who then took and paid for the copy, when the first fan's payment arrives,
    then their order is refunded by the worker, the copy stays the other fan's, and the first
    fan gets one e-mail saying so, with the link to the waitlist."""
    edition = make_edition(1, hold_minutes=10)
    late_hold, late_order = _reserve_and_order(shop, edition, "late@example.com")
    moving_clock.advance(minutes=11)
    _quick_hold, quick_order = _reserve_and_order(shop, edition, "quick@example.com")
    assert card_callback(quick_order) == "approved"
    run_tasks()

    assert card_callback(late_order) == "approved"
    run_tasks()

    late_order.refresh_from_db()
    assert late_order.status == Order.Status.REFUNDED
    assert late_order.payments.get().status == Payment.Status.REFUNDED
    assert late_order.events.filter(to_status="refunded", note__contains="Sold out").exists()
    # The money went back to the card through the processor, all of it, once
    assert _money_back(late_order) == [late_order.total]
    [refund] = late_order.refunds.all()
    assert (refund.status, refund.amount) == (Refund.Status.SUCCEEDED, late_order.total)
    card_refund = CardRefund.objects.get(pk=refund.provider_reference)
    assert card_refund.idempotency_key == refund.idempotency_key
    assert Charge.objects.get(pk=refund.payment.reference).amount_refunded == late_order.total
    assert _money_back(quick_order) == []
    assert _sold_to(quick_order) == [1] and _sold_to(late_order) == []
    late_hold.refresh_from_db()
    assert late_hold.status == Hold.Status.LAPSED
    [message] = [m for m in smtp_server.messages if m["To"] == "late@example.com"]
    assert f"#{late_order.number}" in message["Subject"] and "refunded" in message["Subject"]
    body = smtp_server.bodies(message)
    assert "₩750,000" in body and "refunded in full" in body
    assert f"/{shop.slug}/drops/{edition.product.slug}/" in body
    assert message["Auto-Submitted"] == "auto-generated"


def test_a_late_payment_takes_another_copy_when_one_is_free(
    shop, make_edition, moving_clock, run_tasks, smtp_server
):
    """Given an edition of two copies and a fan whose hold lapsed and whose copy another fan
    took, when the late payment arrives, then it gets the other free copy, nothing refunded."""
    edition = make_edition(2)
    _late_hold, late_order = _reserve_and_order(shop, edition, "late@example.com")
    moving_clock.advance(minutes=11)
    _quick_hold, quick_order = _reserve_and_order(shop, edition, "quick@example.com")
    card_callback(quick_order)

    assert card_callback(late_order) == "approved"
    run_tasks()

    late_order.refresh_from_db()
    assert late_order.status == Order.Status.PAID
    assert sorted(_sold_to(quick_order) + _sold_to(late_order)) == [1, 2]
    assert not [m for m in smtp_server.messages if "refunded" in str(m["Subject"])]


def test_the_refund_and_its_email_happen_once_however_often_the_worker_repeats_them(
    shop, make_edition, moving_clock, run_tasks, smtp_server
):
    """Given a late payment already refunded and the fan told, when the refund and the e-mail
    run again (a retried task), then nothing more is refunded or sent."""
    edition = make_edition(1)
    _late_hold, late_order = _reserve_and_order(shop, edition, "late@example.com")
    moving_clock.advance(minutes=11)
    _hold, quick_order = _reserve_and_order(shop, edition, "quick@example.com")
    card_callback(quick_order)
    card_callback(late_order)
    run_tasks()
    sent = len(smtp_server.messages)

    assert order_refund_unfilled(shop=shop, order_id=late_order.pk) is False
    assert drop_email_send(kind="sold_out_refund", key=str(late_order.pk)) is False
    refund = late_order.refunds.get()
    assert drop_tasks.refund_unfilled_order.call_local(late_order.pk) is False
    assert order_tasks.send_refund.call_local(refund.pk) == "succeeded"
    assert drop_tasks.return_payment.call_local(refund.payment_id) is False  # nothing waits
    run_tasks()

    assert len(smtp_server.messages) == sent
    assert late_order.events.filter(from_status="paid", to_status="refunded").count() == 1
    assert DropMessage.objects.filter(kind="sold_out_refund").count() == 1
    assert late_order.refunds.count() == 1
    assert _money_back(late_order) == [late_order.total]


def test_the_money_goes_back_once_when_the_processor_s_first_answer_was_lost(
    shop, make_edition, moving_clock, run_tasks, smtp_server
):
    """Given a late payment refunded by the worker, and the processor that already gave the
    money back to an ask whose answer never arrived (the worker died after the call), when the
    refund's task runs, then it asks again with the same key and the card gets the money once."""
    edition = make_edition(1)
    _late_hold, late_order = _reserve_and_order(shop, edition, "late@example.com")
    moving_clock.advance(minutes=11)
    _hold, quick_order = _reserve_and_order(shop, edition, "quick@example.com")
    card_callback(quick_order)
    card_callback(late_order)
    # The worker refunds the order; the task that asks the processor has not run yet
    assert drop_tasks.refund_unfilled_order.call_local(late_order.pk) is True
    refund = late_order.refunds.get()
    assert refund.status == Refund.Status.REQUESTED
    answer = get_provider("testpay").refund(
        payment=refund.payment, amount=refund.amount, idempotency_key=refund.idempotency_key
    )
    assert answer.succeeded

    run_tasks()
    assert drop_tasks.return_payment.call_local(refund.payment_id) is False  # answered already

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.provider_reference == answer.reference
    assert _money_back(late_order) == [late_order.total]
    assert late_order.payments.get().status == Payment.Status.REFUNDED
    # The fan's e-mail about the sold-out refund is unchanged, and sent once
    assert len([m for m in smtp_server.messages if m["To"] == "late@example.com"]) == 1


def test_a_paid_order_that_got_its_copy_is_never_refunded_by_the_worker(
    shop, make_edition, moving_clock, run_tasks
):
    """Given an order paid in time that got its copy, when a refund of unfilled orders runs for
    it anyway, then it stays paid."""
    edition = make_edition(1)
    _hold, order = _reserve_and_order(shop, edition, "fan@example.com")
    card_callback(order)

    assert order_refund_unfilled(shop=shop, order_id=order.pk) is False
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and _sold_to(order) == [1]
