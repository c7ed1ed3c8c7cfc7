"""Refunds on the processor: all of a paid charge or part of it, never more than is left, decided
at once, and named by the merchant's idempotency key, so that asking again (or two processes at
once) gives the money back once. A closed card's refund fails until its issuer reopens it."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from kinfolk.core.errors import Conflict, InvalidInput, NotFound
from kinfolk.testpay import cards, services
from kinfolk.testpay.models import Charge, Refund
from tests.racing import race

from .conftest import make_charge
from .refund_racers import refund_race

GOOD_CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12/99", "cvc": "123", "name": "Ada"}


def paid_charge(*, amount: int = 10000, currency: str = "USD", card: str = "") -> Charge:
    """Return a charge a buyer paid on its page with ``card`` (an approved test card)."""
    charge = make_charge(amount=amount, currency=currency)
    return services.charge_pay(
        charge_id=charge.pk, **{**GOOD_CARD, "card_number": card or "4242424242424242"}
    )


def refund(charge: Charge, amount: int, key: str | None = None) -> Refund:
    return services.refund_create(
        charge_id=charge.pk, amount=amount, idempotency_key=key or uuid.uuid4().hex, reason="test"
    )


def refunded(charge: Charge) -> int:
    return Charge.objects.get(pk=charge.pk).amount_refunded


@pytest.mark.django_db
class TestOnePaidCharge:
    def test_a_full_refund_gives_everything_back_at_once(self):
        charge = paid_charge(amount=10000)

        made = refund(charge, 10000, key="order-42-refund-1")

        assert made.status == Refund.Status.SUCCEEDED and made.failure_reason == ""
        assert (made.amount, made.currency, made.charge_id) == (10000, "USD", charge.pk)
        assert refunded(charge) == 10000
        assert Charge.objects.get(pk=charge.pk).refundable == 0
        assert Refund.objects.get(idempotency_key="order-42-refund-1") == made

    def test_partial_refunds_add_up_to_the_charge_and_no_further(self):
        charge = paid_charge(amount=10000)

        first = refund(charge, 2500)
        second = refund(charge, 7000)
        with pytest.raises(InvalidInput) as exc:
            refund(charge, 501)

        assert [first.status, second.status] == ["succeeded", "succeeded"]
        assert exc.value.code == "over_refund" and exc.value.field == "amount"
        assert exc.value.message == ("$5.01 is more than is left to refund on this charge ($5.00).")
        assert refunded(charge) == 9500
        assert Refund.objects.filter(charge=charge).count() == 2
        assert refund(charge, 500).status == "succeeded"
        assert refunded(charge) == 10000

    def test_the_same_key_returns_the_same_refund_and_gives_nothing_back_again(self):
        charge = paid_charge(amount=10000)
        first = refund(charge, 4000, key="rf_same")

        again = refund(charge, 4000, key="rf_same")
        once_more = refund(charge, 4000, key="rf_same")

        assert again.pk == first.pk == once_more.pk
        assert refunded(charge) == 4000
        assert Refund.objects.count() == 1

    @pytest.mark.parametrize("other", ["amount", "charge"])
    def test_a_key_used_for_another_refund_is_refused(self, other):
        charge = paid_charge(amount=10000)
        refund(charge, 4000, key="rf_once")
        target = paid_charge(amount=10000) if other == "charge" else charge
        amount = 3000 if other == "amount" else 4000

        with pytest.raises(Conflict) as exc:
            refund(target, amount, key="rf_once")

        assert exc.value.code == "idempotency_key_reused"
        assert refunded(charge) == 4000 and refunded(target) == (4000 if target == charge else 0)

    def test_a_refund_in_a_currency_without_minor_units_is_refused_in_its_own_terms(self):
        charge = paid_charge(amount=33500, currency="KRW")

        with pytest.raises(InvalidInput) as exc:
            refund(charge, 40000)

        assert (
            exc.value.message == "₩40,000 is more than is left to refund on this charge (₩33,500)."
        )


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["created", "declined", "voided"])
def test_only_a_paid_charge_can_be_refunded(state):
    charge = make_charge(amount=10000)
    if state == "declined":
        services.charge_pay(charge_id=charge.pk, **{**GOOD_CARD, "card_number": "4000000000000002"})
    elif state == "voided":
        services.charge_void(charge_id=charge.pk)

    with pytest.raises(Conflict) as exc:
        refund(charge, 100)

    assert exc.value.code == "not_paid" and "Only a paid charge" in exc.value.message
    assert not Refund.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -1}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "two words"}, "idempotency_key"),
        ({"idempotency_key": "k" * 101}, "idempotency_key"),
        ({"idempotency_key": "키"}, "idempotency_key"),
        ({"reason": "r" * 201}, "reason"),
    ],
)
def test_a_refund_with_bad_terms_is_refused_and_nothing_is_given_back(arguments, field):
    charge = paid_charge(amount=10000)

    with pytest.raises(InvalidInput) as exc:
        services.refund_create(
            **{"charge_id": charge.pk, "amount": 100, "idempotency_key": "k1", **arguments}
        )

    assert exc.value.field == field
    assert refunded(charge) == 0 and not Refund.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("charge_id", [uuid.uuid4(), "not-a-uuid"])
def test_a_refund_of_an_unknown_charge_is_not_found(charge_id):
    with pytest.raises(NotFound):
        services.refund_create(charge_id=charge_id, amount=100, idempotency_key="k1")


@pytest.mark.django_db
def test_a_closed_card_s_refund_fails_until_its_issuer_reopens_it():
    """Given a charge paid with the card whose issuer then closed it, when the merchant refunds
    it, then the refund fails and gives nothing back; asked again with the same key it still
    fails; once the card is reopened the same key succeeds, once."""
    charge = paid_charge(amount=10000, card=cards.CLOSED_CARD)
    assert Charge.objects.get(pk=charge.pk).card_closed

    failed = refund(charge, 10000, key="rf_closed")
    still = refund(charge, 10000, key="rf_closed")

    assert failed.status == still.status == Refund.Status.FAILED
    assert failed.failure_reason == cards.REFUND_CARD_CLOSED
    assert still.pk == failed.pk and still.attempts == 2
    assert refunded(charge) == 0

    services.charge_card_reopen(charge_id=charge.pk)
    done = refund(charge, 10000, key="rf_closed")
    again = refund(charge, 10000, key="rf_closed")

    assert done.pk == again.pk == failed.pk
    assert (done.status, done.failure_reason, done.attempts) == ("succeeded", "", 3)
    assert refunded(charge) == 10000


@pytest.mark.django_db
def test_the_database_refuses_a_refund_beyond_the_charge_and_a_key_twice():
    charge = paid_charge(amount=10000)
    made = refund(charge, 100, key="rf_unique")

    with pytest.raises(IntegrityError), transaction.atomic():
        Charge.objects.filter(pk=charge.pk).update(amount_refunded=10001)
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(
            charge=charge,
            amount=100,
            currency="USD",
            idempotency_key="rf_unique",
            status="succeeded",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.filter(pk=made.pk).update(status="failed")

    assert refunded(charge) == 100


@pytest.mark.django_db
def test_the_pay_page_lists_the_closed_card_for_testers(client):
    charge = make_charge()

    page = client.get(charge.get_absolute_url()).content.decode()

    assert "4000 0000 0000 5126" in page and "refunds fail (card closed)" in page


@pytest.mark.django_db
def test_refunds_are_shown_in_the_processor_s_back_office_and_a_card_can_be_reopened(
    client, make_user
):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    charge = paid_charge(amount=10000, card=cards.CLOSED_CARD)
    made = refund(charge, 2500, key="rf_admin")

    listing = client.get(reverse("admin:testpay_refund_changelist")).content.decode()
    detail = client.get(reverse("admin:testpay_charge_change", args=[charge.pk])).content.decode()
    reopened = client.post(
        reverse("admin:testpay_charge_changelist"),
        {"action": "reopen_cards", "_selected_action": [str(charge.pk)]},
    )

    assert str(made.pk) in listing and "card_closed" in listing
    assert "rf_admin" in detail
    assert reopened.status_code == 302
    assert not Charge.objects.get(pk=charge.pk).card_closed
    assert client.get(reverse("admin:testpay_refund_add")).status_code == 403


def _race(charge: Charge, asks_per_process: list[list[tuple[str, int]]]) -> list[str]:
    return race(refund_race, [(str(charge.pk), asks) for asks in asks_per_process])


@pytest.mark.django_db(transaction=True)
def test_processes_racing_the_same_refund_make_one_and_all_get_it():
    # Given a paid charge and four processes retrying one refund with the same key at once
    charge = paid_charge(amount=10000)

    # When they all ask, three times each
    outcomes = _race(charge, [[("rf_race", 6000)] * 3 for _ in range(4)])

    # Then every ask got the one refund, and the money went back once
    assert len(outcomes) == 12
    assert len(set(outcomes)) == 1, outcomes
    assert outcomes[0].endswith(" succeeded")
    assert Refund.objects.count() == 1
    assert refunded(charge) == 6000


@pytest.mark.django_db(transaction=True)
def test_processes_racing_different_refunds_never_give_back_more_than_the_charge():
    # Given a paid charge of 10,000 and four processes each refunding 3,000 twice (own keys)
    charge = paid_charge(amount=10000)
    asks = [[(f"rf_{p}_{n}", 3000) for n in range(2)] for p in range(4)]

    # When they all ask at once
    outcomes = _race(charge, asks)

    # Then three refunds went through and the others were refused for what is left
    kinds = Counter(" ".join(o.split(" ")[::2]) for o in outcomes)
    assert kinds == {"refund succeeded": 3, "refused": 5}, outcomes
    assert refunded(charge) == 9000
    assert Refund.objects.filter(status="succeeded").count() == 3
