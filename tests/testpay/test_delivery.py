"""Callbacks reach a real HTTP endpoint, signed, retried until answered, duplicates identical."""

from __future__ import annotations

import datetime as dt
import json
import socket

import pytest
from django.conf import settings
from huey.contrib.djhuey import HUEY

from kinfolk.testpay import services
from kinfolk.testpay.models import CallbackAttempt
from kinfolk.testpay.signature import SIGNATURE_HEADER, verify

from .conftest import make_charge

# Transactional: payments commit for real, so on_commit enqueues, and the task's own
# connection handling (close_old_connections) cannot break a test-wide transaction.
pytestmark = pytest.mark.django_db(transaction=True)

GOOD_CARD = {"expiry": "12/99", "cvc": "123", "name": "Ada Lovelace"}


def run_queued_tasks() -> None:
    """Run what is queued now, as a worker would."""
    while (task := HUEY.dequeue()) is not None:
        HUEY.execute(task)


def run_scheduled_retries() -> None:
    """Run the retries that failures scheduled, as if their delay had passed."""
    for task in HUEY.read_schedule(dt.datetime.max):
        HUEY.execute(task, timestamp=task.eta)


def pay(charge, card_number: str):
    return services.charge_pay(charge_id=charge.pk, card_number=card_number, **GOOD_CARD)


def test_an_approved_charge_posts_a_signed_event_to_the_merchant(merchant):
    charge = make_charge(callback_url=merchant.url)
    paid = pay(charge, "4242 4242 4242 4242")

    run_queued_tasks()

    [request] = merchant.received
    assert request.path == "/callbacks/testpay/"
    assert request.headers["Content-Type"] == "application/json"
    assert verify(request.body, request.headers[SIGNATURE_HEADER], secret=settings.TESTPAY_SECRET)
    assert not verify(request.body, request.headers[SIGNATURE_HEADER], secret="wrong")
    event = json.loads(request.body)
    assert event == services.callback_payload(paid)
    assert event["type"] == "charge.approved" and event["charge"]["card_last4"] == "4242"
    [attempt] = CallbackAttempt.objects.filter(charge=charge)
    assert attempt.succeeded and attempt.event_id == paid.event_id


def test_a_declined_charge_posts_a_declined_event(merchant):
    charge = make_charge(callback_url=merchant.url)
    pay(charge, "4000 0000 0000 0002")

    run_queued_tasks()

    event = json.loads(merchant.received[0].body)
    assert event["type"] == "charge.declined"
    assert event["charge"]["decline_reason"] == "card_declined"


def test_the_duplicate_card_delivers_the_same_event_twice(merchant):
    charge = make_charge(callback_url=merchant.url)
    paid = pay(charge, "4000 0000 0000 0259")

    run_queued_tasks()

    assert len(merchant.received) == 2
    events = [json.loads(request.body) for request in merchant.received]
    assert events[0]["id"] == events[1]["id"] == paid.event_id
    assert events[0] == events[1]
    assert all(
        verify(r.body, r.headers[SIGNATURE_HEADER], secret=settings.TESTPAY_SECRET)
        for r in merchant.received
    )


def test_a_failing_merchant_gets_the_callback_again_until_it_answers(merchant):
    merchant.statuses = [500]
    charge = make_charge(callback_url=merchant.url)
    paid = pay(charge, "4242 4242 4242 4242")

    run_queued_tasks()

    assert len(merchant.received) == 1
    assert HUEY.scheduled_count() == 1

    run_scheduled_retries()

    assert len(merchant.received) == 2
    assert merchant.received[0].body == merchant.received[1].body
    assert HUEY.scheduled_count() == 0 and HUEY.pending_count() == 0
    attempts = CallbackAttempt.objects.filter(charge=charge)
    assert [a.status_code for a in attempts] == [500, 200]
    assert {a.event_id for a in attempts} == {paid.event_id}


def test_an_unreachable_merchant_is_recorded_and_retried():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    charge = make_charge(callback_url=f"http://127.0.0.1:{closed_port}/callback")
    pay(charge, "4242 4242 4242 4242")

    run_queued_tasks()

    [attempt] = CallbackAttempt.objects.filter(charge=charge)
    assert attempt.status_code is None and "ConnectError" in attempt.error
    assert HUEY.scheduled_count() == 1


def test_paying_twice_delivers_one_callback(merchant):
    charge = make_charge(callback_url=merchant.url)
    pay(charge, "4242 4242 4242 4242")
    pay(charge, "4242 4242 4242 4242")

    run_queued_tasks()

    assert len(merchant.received) == 1
