"""Charges: created once, decided once by the test card, with exactly the callbacks promised."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import transaction
from huey.contrib.djhuey import HUEY

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.testpay import selectors, services
from kinfolk.testpay.cards import luhn_valid
from kinfolk.testpay.models import Charge

from .conftest import make_charge

pytestmark = pytest.mark.django_db

GOOD_CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12/99", "cvc": "123", "name": "Ada"}


def pay(charge, **overrides) -> Charge:
    return services.charge_pay(charge_id=charge.pk, **{**GOOD_CARD, **overrides})


def queued_events() -> list[tuple]:
    return [task.args for task in HUEY.pending()]


def test_a_new_charge_waits_for_a_card():
    charge = make_charge(amount=15000, currency="krw")

    assert charge.status == Charge.Status.CREATED
    assert (charge.amount, charge.currency) == (15000, "KRW")
    assert charge.event_id == "" and charge.decided_at is None
    assert charge.get_absolute_url() == f"/testpay/pay/{charge.pk}/"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"callback_url": "not a url"}, "callback_url"),
        ({"return_url": "javascript:alert(1)"}, "return_url"),
    ],
)
def test_a_charge_with_bad_terms_is_refused(overrides, field):
    with pytest.raises(InvalidInput) as exc:
        make_charge(**overrides)

    assert exc.value.field == field
    assert not Charge.objects.exists()


@pytest.mark.parametrize(
    ("card_number", "status", "reason"),
    [
        ("4242 4242 4242 4242", "approved", ""),
        ("4000 0000 0000 0002", "declined", "card_declined"),
        ("4000-0000-0000-9995", "declined", "insufficient_funds"),
        ("5555 5555 5555 4444", "approved", ""),
    ],
)
def test_the_test_card_decides_the_charge(
    django_capture_on_commit_callbacks, card_number, status, reason
):
    charge = make_charge()

    with django_capture_on_commit_callbacks(execute=True):
        paid = pay(charge, card_number=card_number)

    stored = Charge.objects.get(pk=charge.pk)
    assert (stored.status, stored.decline_reason) == (status, reason)
    assert stored.card_last4 == card_number[-4:]
    assert stored.event_id.startswith("evt_") and stored.decided_at is not None
    assert paid.event_id == stored.event_id
    assert queued_events() == [(str(charge.pk), stored.event_id)]


def test_the_duplicate_card_queues_the_same_event_twice(django_capture_on_commit_callbacks):
    charge = make_charge()

    with django_capture_on_commit_callbacks(execute=True):
        paid = pay(charge, card_number="4000 0000 0000 0259")

    assert queued_events() == [(str(charge.pk), paid.event_id)] * 2


def test_paying_a_decided_charge_again_changes_and_queues_nothing(
    django_capture_on_commit_callbacks,
):
    charge = make_charge()
    with django_capture_on_commit_callbacks(execute=True):
        first = pay(charge, card_number="4000 0000 0000 0002")
    HUEY.flush()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = pay(charge, card_number="4242 4242 4242 4242")

    assert callbacks == [] and HUEY.pending_count() == 0
    assert (second.status, second.event_id, second.decided_at) == (
        first.status,
        first.event_id,
        first.decided_at,
    )
    assert Charge.objects.get(pk=charge.pk).decline_reason == "card_declined"


def test_a_rolled_back_payment_queues_no_callback(django_capture_on_commit_callbacks):
    charge = make_charge()

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        pay(charge)
        raise RuntimeError("the surrounding work failed")

    assert HUEY.pending_count() == 0
    assert Charge.objects.get(pk=charge.pk).status == Charge.Status.CREATED


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"card_number": ""}, "card_number", "Enter the card number."),
        ({"card_number": "4242 4242"}, "card_number", "Enter the 12 to 19 digits"),
        ({"card_number": "4242 4242 4242 424x"}, "card_number", "Enter the 12 to 19 digits"),
        ({"card_number": "4242 4242 4242 4241"}, "card_number", "not valid; check it for typos"),
        ({"expiry": "1299"}, "expiry", "Enter the expiry date as MM/YY."),
        ({"expiry": "13/30"}, "expiry", "month must be between 01 and 12"),
        ({"expiry": "05/30"}, "expiry", "This card has expired."),
        ({"cvc": "12"}, "cvc", "Enter the 3 or 4 digit security code."),
        ({"cvc": "12345"}, "cvc", "Enter the 3 or 4 digit security code."),
        ({"name": "   "}, "name", "Enter the name on the card."),
    ],
)
def test_a_bad_card_form_is_refused_with_a_readable_message(overrides, field, message):
    charge = make_charge()

    with clock.frozen(dt.datetime(2030, 6, 15, tzinfo=dt.UTC)), pytest.raises(InvalidInput) as exc:
        pay(charge, **overrides)

    assert exc.value.field == field
    assert message in exc.value.errors[field]
    assert Charge.objects.get(pk=charge.pk).status == Charge.Status.CREATED
    assert HUEY.pending_count() == 0


def test_a_card_is_valid_through_its_expiry_month():
    charge = make_charge()

    with clock.frozen(dt.datetime(2030, 6, 30, 23, 59, tzinfo=dt.UTC)):
        paid = pay(charge, expiry="06/30")

    assert paid.status == Charge.Status.APPROVED


def test_every_bad_field_is_reported_at_once():
    charge = make_charge()

    with pytest.raises(InvalidInput) as exc:
        pay(charge, card_number="1234", expiry="", cvc="", name="")

    assert set(exc.value.errors) == {"card_number", "expiry", "cvc", "name"}


def test_an_unknown_charge_is_not_found():
    with pytest.raises(NotFound):
        services.charge_pay(charge_id=uuid.uuid4(), **GOOD_CARD)
    with pytest.raises(NotFound):
        selectors.charge_get(charge_id="not-a-uuid")


def test_luhn_accepts_the_test_cards_and_refuses_a_typo():
    assert luhn_valid("4242424242424242") and luhn_valid("4000000000000259")
    assert not luhn_valid("4242424242424243")


def test_the_callback_payload_describes_the_decision(django_capture_on_commit_callbacks):
    charge = make_charge(amount=15000, currency="KRW")
    with django_capture_on_commit_callbacks(execute=True):
        paid = pay(charge, card_number="4000 0000 0000 9995")

    assert services.callback_payload(paid) == {
        "id": paid.event_id,
        "type": "charge.declined",
        "created": int(paid.decided_at.timestamp()),
        "charge": {
            "id": str(charge.pk),
            "reference": "order-42",
            "amount": 15000,
            "currency": "KRW",
            "status": "declined",
            "decline_reason": "insufficient_funds",
            "card_last4": "9995",
        },
    }
