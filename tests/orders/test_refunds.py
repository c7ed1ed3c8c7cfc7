"""Refunds of paid orders: recorded as requested in the order's short transaction, then the money
goes back through the payment's provider after commit, by the worker, once however often it is
asked (the refund's idempotency key goes with every ask). All that is left refunds the order;
part of it leaves the order paid. A card refund that fails is tried again by staff; a bank
transfer refund waits until staff mark it sent. Staff and the fan see each refund.

Tests here commit for real, so that the work queued with on_commit runs as in production (the
worker is run_tasks), and the card processor delivers its callbacks over HTTP to a live server.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from kinfolk.core import clock
from kinfolk.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from kinfolk.crm.models import Interaction
from kinfolk.orders import tasks
from kinfolk.orders.models import Order, Payment, Refund
from kinfolk.orders.payments import _providers
from kinfolk.orders.services import refunds
from kinfolk.orders.services.lifecycle import order_mark_paid, order_refund
from kinfolk.shops.services import membership_add
from kinfolk.testpay import cards
from kinfolk.testpay.models import Charge
from kinfolk.testpay.models import Refund as CardRefund
from kinfolk.testpay.services import charge_card_reopen
from tests import racing

from .refund_racers import order_refund_race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("processor_reaches_the_shop"),
]


@pytest.fixture
def staff(shop, make_user):
    user = make_user("packer@example.com")
    membership_add(shop=shop, user=user)
    return user


def _charge(order: Order) -> Charge:
    return Charge.objects.get(pk=order.payments.get().reference)


def _money_back(order: Order) -> list[int]:
    """Return what the processor gave back to the order's card, refund by refund."""
    return list(
        CardRefund.objects.filter(charge=_charge(order), status="succeeded")
        .order_by("created_at")
        .values_list("amount", flat=True)
    )


def _stock(variant) -> int:
    variant.refresh_from_db()
    return variant.stock


def test_a_full_card_refund_records_the_refund_then_the_worker_gives_the_money_back(
    shop, vinyl, staff, card_order, run_tasks
):
    order = card_order(2)  # ₩70,000, shipping free
    stock = _stock(vinyl)

    # When staff refund it, before the worker has run
    order_refund(shop=shop, order=order, actor=staff, reason="Damaged sleeve")

    # Then the order is refunded and its stock back, the refund requested, no money moved yet
    order.refresh_from_db()
    refund = order.refunds.get()
    assert order.status == Order.Status.REFUNDED
    assert _stock(vinyl) == stock + 2
    assert (refund.status, refund.amount, refund.currency) == ("requested", 70000, "KRW")
    assert (refund.requested_by, refund.reason) == (staff, "Damaged sleeve")
    assert refund.idempotency_key.startswith("rf_")
    payment = order.payments.get()
    assert (payment.status, payment.refund_total) == (Payment.Status.APPROVED, 70000)
    assert _money_back(order) == []

    # When the worker runs
    run_tasks()

    # Then the processor gave all of it back, once, and the payment is refunded
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and refund.refunded_at is not None
    assert CardRefund.objects.get(pk=refund.provider_reference).amount == 70000
    assert _money_back(order) == [70000]
    assert _charge(order).amount_refunded == 70000
    assert order.payments.get().status == Payment.Status.REFUNDED
    notes = list(order.events.values_list("note", flat=True))
    assert notes[-2:] == ["Damaged sleeve", refunds.REFUND_SUCCEEDED_NOTE]


def test_partial_refunds_keep_the_order_paid_until_the_rest_is_refunded(
    shop, vinyl, staff, card_order, run_tasks
):
    order = card_order(2)
    stock = _stock(vinyl)

    # When staff refund ₩10,000 and then ₩5,000 of ₩70,000
    order_refund(shop=shop, order=order, actor=staff, amount=10000, reason="Scratch")
    run_tasks()
    order_refund(shop=shop, order=order, actor=staff, amount=5000)
    run_tasks()

    # Then the order stays paid with nothing back in stock, and the card got both amounts back
    order.refresh_from_db()
    payment = order.payments.get()
    assert order.status == Order.Status.PAID
    assert _stock(vinyl) == stock
    assert (payment.status, payment.refund_total, payment.refundable) == ("approved", 15000, 55000)
    assert [r.status for r in order.refunds.all()] == ["succeeded", "succeeded"]
    assert _money_back(order) == [10000, 5000]
    # A partial refund is not the CRM's "order refunded" (which counts it as no purchase)
    refunded_kinds = Interaction.objects.filter(kind=Interaction.Kind.ORDER_REFUNDED)
    assert not refunded_kinds.exists()

    # When the rest is refunded (no amount: all that is left)
    order_refund(shop=shop, order=order, actor=staff)
    run_tasks()

    # Then the order is refunded, its stock back, and the card got exactly its charge back
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert _stock(vinyl) == stock + 2
    assert _money_back(order) == [10000, 5000, 55000]
    assert _charge(order).amount_refunded == 70000
    assert order.payments.get().status == Payment.Status.REFUNDED
    assert refunded_kinds.count() == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (70001, "₩70,001 is more than is left to refund on this order (₩70,000)."),
        (0, "Enter an amount of more than zero."),
        (-5, "Enter an amount of more than zero."),
    ],
)
def test_a_refund_above_what_is_left_or_of_nothing_is_refused_and_nothing_changes(
    shop, staff, card_order, amount, message
):
    order = card_order(2)

    with pytest.raises(InvalidInput) as exc:
        order_refund(shop=shop, order=order, actor=staff, amount=amount)

    assert (exc.value.message, exc.value.field) == (message, "amount")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert not order.refunds.exists() and order.payments.get().refund_total == 0


def test_a_refund_after_a_partial_one_is_limited_to_what_is_left(shop, staff, card_order):
    order = card_order(2)
    order_refund(shop=shop, order=order, actor=staff, amount=60000)

    with pytest.raises(InvalidInput, match=r"₩10,001 is more than is left .*\(₩10,000\)"):
        order_refund(shop=shop, order=order, actor=staff, amount=10001)


def test_an_unpaid_order_cannot_be_refunded(shop, vinyl, buy, staff):
    order = buy(shop, (vinyl, 1)).order

    with pytest.raises(InvalidTransition, match="awaiting payment cannot be refunded"):
        order_refund(shop=shop, order=order, actor=staff, amount=100)

    assert not Refund.objects.exists()


def test_a_repeated_refund_with_the_same_key_refunds_once(shop, staff, card_order, run_tasks):
    order = card_order(2)
    key = uuid.uuid4().hex

    for _ in range(3):
        order_refund(shop=shop, order=order, actor=staff, amount=20000, idempotency_key=key)
    run_tasks()
    refund = order.refunds.get()
    # A retried task, a resend and the drops' old task ask again: the processor answers the same
    assert tasks.send_refund.call_local(refund.pk) == "succeeded"
    assert refunds.refund_send(refund_id=refund.pk).pk == refund.pk

    assert refund.idempotency_key == key
    assert _money_back(order) == [20000]
    assert order.payments.get().refund_total == 20000


def test_a_key_of_another_order_s_refund_is_refused(shop, staff, card_order):
    first, second = card_order(1), card_order(1)
    order_refund(shop=shop, order=first, actor=staff, amount=1000, idempotency_key="k-1")

    with pytest.raises(Conflict):
        order_refund(shop=shop, order=second, actor=staff, amount=1000, idempotency_key="k-1")

    assert not second.refunds.exists()


def _race(shop, order, amount: int, key: str, processes: int) -> list[str]:
    return racing.race(
        order_refund_race, [(shop.pk, order.pk, amount, key) for _ in range(processes)]
    )


def test_processes_racing_the_same_refund_give_the_money_back_once(shop, card_order):
    # Given a paid order, and four processes that each submit the same refund (one key) and ask
    # the processor at once, as a double submit and retried tasks would
    order = card_order(2)

    outcomes = _race(shop, order, 25000, "rf_raced", processes=4)

    # Then each saw the one refund succeed, and the card got ₩25,000 back once
    refund = order.refunds.get()
    assert outcomes == [f"refund {refund.pk} succeeded"] * 4
    assert _money_back(order) == [25000]
    assert order.payments.get().refund_total == 25000
    assert CardRefund.objects.get().idempotency_key == "rf_raced"


def test_a_closed_card_s_refund_fails_and_try_again_succeeds_once_it_is_reopened(
    shop, staff, card_order, run_tasks, client
):
    # Given an order paid with the card whose issuer closed it, refunded in full
    order = card_order(2, card=cards.CLOSED_CARD)
    order_refund(shop=shop, order=order, actor=staff)
    run_tasks()

    # Then the refund failed, nothing went back, and staff see why with "Try again"
    refund = order.refunds.get()
    assert refund.status == Refund.Status.FAILED and refund.attempts == 1
    assert "card is closed" in refund.message
    assert order.payments.get().status == Payment.Status.APPROVED
    assert _money_back(order) == []
    client.force_login(staff)
    url = reverse("dashboard:order", kwargs={"shop": shop.slug, "number": order.number})
    page = client.get(url).content.decode()
    assert "The refund of ₩70,000 failed." in page and "card is closed" in page
    assert "Try again" in page and "Mark refund as sent" in page

    # When staff try again while the card is still closed, it fails again, still nothing back
    refunds.refund_retry(shop=shop, refund_id=refund.pk, actor=staff)
    run_tasks()
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("failed", 2)

    # When the issuer reopens the card and staff press "Try again"
    charge_card_reopen(charge_id=_charge(order).pk)
    response = client.post(
        reverse("dashboard:order_refund", kwargs={"shop": shop.slug, "number": order.number}),
        {"action": "retry", "refund": refund.pk},
    )
    assert response.status_code == 302
    run_tasks()

    # Then the same refund (same key) succeeds and the card got the money back once
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("succeeded", 3)
    card_refund = CardRefund.objects.get()
    assert (card_refund.idempotency_key, card_refund.attempts) == (refund.idempotency_key, 3)
    assert _money_back(order) == [70000]
    assert order.payments.get().status == Payment.Status.REFUNDED
    page = client.get(url).content.decode()
    assert "Try again" not in page and "Nothing left to do" in page
    # A refund that succeeded is not tried again
    with pytest.raises(InvalidTransition):
        refunds.refund_retry(shop=shop, refund_id=refund.pk, actor=staff)


def test_a_bank_transfer_refund_waits_until_staff_mark_it_sent(
    shop, vinyl, buy, staff, run_tasks, client
):
    order = buy(shop, (vinyl, 1), payment_provider="manual").order
    order_mark_paid(shop=shop, order=order, actor=staff)

    order_refund(shop=shop, order=order, actor=staff, reason="Returned by post")
    run_tasks()

    refund = order.refunds.get()
    assert refund.status == Refund.Status.PENDING
    assert "bank transfer" in refund.message
    assert order.payments.get().status == Payment.Status.APPROVED
    client.force_login(staff)
    url = reverse("dashboard:order", kwargs={"shop": shop.slug, "number": order.number})
    page = client.get(url).content.decode()
    assert "₩38,000 to give back." in page and "Mark refund as sent" in page
    assert "Try again" not in page

    # When staff have sent the transfer and mark it sent
    action = reverse("dashboard:order_refund", kwargs={"shop": shop.slug, "number": order.number})
    assert client.post(action, {"action": "mark_sent", "refund": refund.pk}).status_code == 302

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and refund.refunded_at is not None
    assert order.payments.get().status == Payment.Status.REFUNDED
    assert order.events.last().actor == staff
    assert "Mark refund as sent" not in client.get(url).content.decode()
    # Marked twice: a clear refusal, nothing changes
    again = client.post(action, {"action": "mark_sent", "refund": refund.pk})
    assert again.status_code == 409
    assert "Only a pending or failed refund can be marked as sent" in again.content.decode()


def test_partial_refunds_from_the_dashboard_and_what_staff_and_the_fan_see(
    shop, staff, card_order, run_tasks, client
):
    order = card_order(2)
    client.force_login(staff)
    page_url = reverse("dashboard:order", kwargs={"shop": shop.slug, "number": order.number})
    action = reverse("dashboard:order_refund", kwargs={"shop": shop.slug, "number": order.number})
    form = client.get(page_url).content.decode()
    assert 'name="refund-amount"' in form and 'value="70000"' in form
    key = form.split('name="refund-idempotency_key" value="')[1].split('"')[0]

    # When staff refund ₩33,500, and the same form is submitted twice
    for _ in range(2):
        response = client.post(
            action,
            {"refund-amount": "33,500", "refund-note": "One sleeve", "refund-idempotency_key": key},
        )
        assert response.status_code == 302
    run_tasks()

    # Then one refund went through, and the order stays paid
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert _money_back(order) == [33500]
    page = client.get(page_url).content.decode()
    assert "−₩33,500" in page and "One sleeve" in page
    assert 'value="36500"' in page  # what is left, ready for the next refund

    # When staff ask for more than is left, they get a clear message and keep what they typed
    refused = client.post(
        action,
        {"refund-amount": "40000", "refund-note": "Typed", "refund-idempotency_key": "k-2"},
    )
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "₩40,000 is more than is left to refund on this order (₩36,500)." in text
    assert 'value="Typed"' in text
    bad = client.post(action, {"refund-amount": "12.5", "refund-idempotency_key": "k-3"})
    assert bad.status_code == 400
    assert "KRW amounts are whole numbers, without decimals." in bad.content.decode()
    for typed in ("NaN", "inf"):
        odd = client.post(action, {"refund-amount": typed, "refund-idempotency_key": "k-4"})
        assert odd.status_code == 400
        assert "Enter an amount such as 15000." in odd.content.decode()

    # And the fan's order page shows what came back, and when
    fan = client.get(
        reverse("storefront:order", args=[shop.slug, order.number]) + f"?t={order.access_token}"
    ).content.decode()
    refunded_on = clock.now().astimezone(shop.tzinfo)
    assert "Refunds" in fan
    assert f"<strong>₩33,500</strong> refunded on {refunded_on:%b}" in fan


def test_the_fan_sees_a_refund_in_progress_until_the_money_is_back(
    shop, vinyl, buy, staff, run_tasks, client
):
    order = buy(shop, (vinyl, 1), payment_provider="manual").order
    order_mark_paid(shop=shop, order=order, actor=staff)
    order_refund(shop=shop, order=order, actor=staff, amount=8000)
    run_tasks()

    fan_url = reverse("storefront:order", args=[shop.slug, order.number])
    fan = client.get(fan_url + f"?t={order.access_token}").content.decode()

    assert "Refund of <strong>₩8,000</strong> in progress" in fan


@pytest.fixture
def gateway_down(settings):
    """A card gateway that cannot be reached, enabled next to the built-in providers."""
    settings.PAYMENT_PROVIDERS = [
        "kinfolk.orders.payments.testpay.TestpayProvider",
        "kinfolk.orders.payments.manual.ManualProvider",
        "tests.orders.gateway_down.GatewayDownProvider",
    ]
    _providers.cache_clear()
    yield
    _providers.cache_clear()


def test_an_unreachable_provider_is_retried_then_shown_as_failed(
    shop, vinyl, buy, staff, run_tasks, gateway_down
):
    order = buy(shop, (vinyl, 1), payment_provider="gateway_down").order
    order_mark_paid(shop=shop, order=order, actor=staff)
    order_refund(shop=shop, order=order, actor=staff)

    # The first tries fail on the network: the refund waits, and the task is retried later
    run_tasks()
    refund = order.refunds.get()
    assert refund.status == Refund.Status.REQUESTED
    assert [task.name for task in HUEY.scheduled()] == ["send_refund"]

    # The last retry fails too: staff are told, and may try again
    last = tasks.send_refund.s(refund.pk)
    last.retries = 0
    HUEY.execute(last)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED
    assert refund.message == refunds.PROVIDER_UNREACHABLE_NOTE


def test_a_refund_whose_task_was_lost_is_asked_again(shop, staff, card_order, run_tasks):
    order = card_order(1)
    order_refund(shop=shop, order=order, actor=staff, amount=1000)
    HUEY.flush()  # the queue lost the task
    refund = order.refunds.get()

    assert refunds.refunds_resend() == 0  # too early: its task may still be on its way
    later = clock.now() + refunds.RESEND_AFTER + dt.timedelta(minutes=1)
    assert refunds.refunds_resend(now=later) == 1
    assert refunds.refunds_resend(now=later) == 0
    run_tasks()

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert _money_back(order) == [1000]


def test_another_shop_cannot_act_on_a_refund(shop, make_shop, staff, card_order, run_tasks):
    order = card_order(1, card=cards.CLOSED_CARD)
    order_refund(shop=shop, order=order, actor=staff)
    run_tasks()
    refund = order.refunds.get()

    for act in (refunds.refund_retry, refunds.refund_mark_sent):
        with pytest.raises(NotFound):
            act(shop=make_shop(), refund_id=refund.pk)

    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED


def test_the_database_refuses_refunds_beyond_the_payment_and_a_key_twice(shop, staff, card_order):
    order = card_order(1)
    order_refund(shop=shop, order=order, actor=staff, amount=1000, idempotency_key="rf_db")
    payment = order.payments.get()
    refund = order.refunds.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(refund_total=payment.amount + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(
            shop=shop,
            order=order,
            payment=payment,
            amount=1,
            currency="KRW",
            provider="testpay",
            idempotency_key="rf_db",
            created_at=refund.created_at,
            updated_at=refund.created_at,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.filter(pk=refund.pk).update(status="succeeded")
