"""Payment callbacks: only signed ones count, each is applied once, and a late or wrong one
changes nothing."""

import json

import pytest
from django.test import Client

from kinfolk.catalog.models import Variant
from kinfolk.core.errors import Forbidden
from kinfolk.crm.models import Interaction
from kinfolk.orders.models import Order, Payment, PaymentCallback
from kinfolk.orders.services.lifecycle import order_cancel
from kinfolk.orders.services.payments import payment_callback_handle
from tests.orders.conftest import callback_body, signed_headers

pytestmark = pytest.mark.django_db

CALLBACK_URL = "/payments/testpay/callback/"


@pytest.fixture
def vinyl(product):
    return product.variants.get()


@pytest.fixture
def placed(shop, vinyl, buy):
    return buy(shop, (vinyl, 2))


def _order(placed) -> Order:
    return Order.objects.get(pk=placed.order.pk)


def _stock(variant) -> int:
    return Variant.objects.get(pk=variant.pk).stock


def test_an_approved_callback_pays_the_order(placed, deliver_callback):
    assert deliver_callback(placed.payment) == "approved"
    order = _order(placed)
    assert order.status == "paid" and order.paid_at is not None
    assert order.payments.get().status == Payment.Status.APPROVED
    event = order.events.latest("id")
    assert event.to_status == "paid" and event.actor is None
    assert event.note == f"testpay {placed.payment.reference}"
    paid = Interaction.objects.get(customer=order.customer, kind="order_paid")
    assert paid.source == Interaction.Source.PAYMENT and paid.subject_id == order.number


def test_a_bad_signature_is_forbidden_and_changes_nothing(placed):
    body = callback_body(placed.payment)
    with pytest.raises(Forbidden):
        payment_callback_handle(
            provider_code="testpay",
            body=body,
            headers=signed_headers(body, secret="not-the-secret"),
        )
    with pytest.raises(Forbidden):
        payment_callback_handle(provider_code="testpay", body=body, headers={})
    assert _order(placed).status == "awaiting_payment"
    assert not PaymentCallback.objects.exists()


def test_a_body_changed_after_signing_is_forbidden(placed):
    body = callback_body(placed.payment)
    headers = signed_headers(body)
    forged = body.replace(b'"amount": 70000', b'"amount": 1')
    assert forged != body
    with pytest.raises(Forbidden):
        payment_callback_handle(provider_code="testpay", body=forged, headers=headers)


def test_the_http_endpoint_answers_403_to_a_bad_signature(placed):
    body = callback_body(placed.payment)
    response = Client().post(
        CALLBACK_URL,
        data=body,
        content_type="application/json",
        headers={"Testpay-Signature": "t=1,v1=deadbeef"},
    )
    assert response.status_code == 403
    assert response.json() == {"error": "Bad signature."}
    assert _order(placed).status == "awaiting_payment"


def test_the_http_endpoint_applies_a_signed_callback_without_a_csrf_token(placed):
    body = callback_body(placed.payment)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        CALLBACK_URL, data=body, content_type="application/json", headers=signed_headers(body)
    )
    assert response.status_code == 200
    assert response.json() == {"outcome": "approved"}
    assert _order(placed).status == "paid"


def test_the_http_endpoint_refuses_get_and_unknown_providers(placed):
    assert Client().get(CALLBACK_URL).status_code == 405
    body = callback_body(placed.payment)
    response = Client().post(
        "/payments/paypal/callback/",
        data=body,
        content_type="application/json",
        headers=signed_headers(body),
    )
    assert response.status_code == 400


def test_a_manual_provider_has_no_callbacks(placed):
    body = callback_body(placed.payment)
    with pytest.raises(Forbidden):
        payment_callback_handle(provider_code="manual", body=body, headers=signed_headers(body))


def test_a_malformed_but_signed_body_is_forbidden(placed):
    body = json.dumps({"id": "evt_x", "type": "charge.approved"}).encode()
    with pytest.raises(Forbidden, match="Malformed"):
        payment_callback_handle(provider_code="testpay", body=body, headers=signed_headers(body))


@pytest.mark.parametrize("change", [{"amount": 1}, {"currency": "USD"}], ids=["amount", "currency"])
def test_an_amount_mismatch_leaves_the_order_unpaid(placed, deliver_callback, change):
    assert deliver_callback(placed.payment, **change) == "amount_mismatch"
    order = _order(placed)
    assert order.status == "awaiting_payment" and order.paid_at is None
    assert order.payments.get().status == Payment.Status.PENDING
    assert PaymentCallback.objects.get().outcome == "amount_mismatch"


def test_a_duplicate_callback_is_recognised_and_pays_once(placed, deliver_callback):
    assert deliver_callback(placed.payment, event_id="evt_same") == "approved"
    assert deliver_callback(placed.payment, event_id="evt_same") == "duplicate"
    assert Payment.objects.filter(order=placed.order, status="approved").count() == 1
    assert PaymentCallback.objects.count() == 1
    assert Interaction.objects.filter(kind="order_paid").count() == 1
    assert _order(placed).events.filter(to_status="paid").count() == 1


def test_a_second_approval_with_a_new_event_id_is_ignored(placed, deliver_callback):
    deliver_callback(placed.payment)
    assert deliver_callback(placed.payment) == "ignored_approved"
    assert Payment.objects.filter(order=placed.order, status="approved").count() == 1


def test_a_declined_payment_cancels_the_order_and_gives_stock_back(placed, vinyl, deliver_callback):
    assert _stock(vinyl) == 3
    assert deliver_callback(placed.payment, approved=False) == "declined"
    order = _order(placed)
    assert order.status == "cancelled"
    assert order.payments.get().status == Payment.Status.DECLINED
    assert order.events.latest("id").note == "Payment declined (card_declined)"
    assert _stock(vinyl) == 5
    kinds = set(Interaction.objects.filter(customer=order.customer).values_list("kind", flat=True))
    assert kinds == {"order_placed", "order_cancelled"}


def test_an_approval_after_a_decline_pays_nothing_and_asks_for_a_refund(
    placed, vinyl, deliver_callback
):
    deliver_callback(placed.payment, approved=False)
    assert deliver_callback(placed.payment) == "approved_after_cancel"
    assert _order(placed).status == "cancelled"
    assert _order(placed).events.latest("id").note.endswith("refund needed")
    assert _stock(vinyl) == 5


def test_a_payment_for_an_order_staff_cancelled_pays_nothing_and_asks_for_a_refund(
    shop, placed, vinyl, deliver_callback
):
    order_cancel(shop=shop, order=placed.order, reason="Fan changed their mind")
    outcome = deliver_callback(placed.payment)
    assert outcome == "approved_after_cancel"
    order = _order(placed)
    assert order.status == "cancelled" and order.paid_at is None
    assert not Payment.objects.filter(status="approved").exists()
    assert _stock(vinyl) == 5


def test_a_callback_for_an_unknown_payment_is_recorded_and_changes_nothing(placed):
    body = json.dumps(
        {
            "id": "evt_unknown",
            "type": "charge.approved",
            "created": 0,
            "charge": {"id": "no-such-charge", "amount": 1, "currency": "KRW"},
        }
    ).encode()
    outcome = payment_callback_handle(
        provider_code="testpay", body=body, headers=signed_headers(body)
    )
    assert outcome == "unknown_payment"
    assert _order(placed).status == "awaiting_payment"
