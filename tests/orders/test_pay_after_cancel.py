"""A card order that is cancelled (by the shop, or because it expired) withdraws its charge, so
the processor's page no longer takes a card; and money that arrives all the same is never
dropped silently: staff see on the order that it must be refunded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from kinfolk.core import clock
from kinfolk.orders.models import Order, OrderEvent, Payment, PaymentCallback
from kinfolk.orders.services.expiry import CARD_PAYMENT_WINDOW, orders_expire_unpaid
from kinfolk.orders.services.lifecycle import order_cancel
from kinfolk.orders.services.payments import payment_callback_handle
from kinfolk.testpay import services as testpay
from kinfolk.testpay.models import Charge

from .conftest import callback_body, signed_headers

pytestmark = pytest.mark.django_db

CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12/99", "cvc": "123", "name": "Kim"}


def test_an_expired_order_s_charge_can_no_longer_be_paid(
    client, shop, product, buy, django_capture_on_commit_callbacks
):
    # Given a card order abandoned on the processor's page
    with clock.frozen(clock.now()) as advance:
        placed = buy(shop, (product.variants.get(), 1))
        advance(CARD_PAYMENT_WINDOW + dt.timedelta(minutes=1))
        # When it expires
        with django_capture_on_commit_callbacks(execute=True):
            assert orders_expire_unpaid() == 1

    # Then its charge is voided, and the page refuses a card with a clear message
    charge = Charge.objects.get(pk=placed.payment.reference)
    assert charge.status == Charge.Status.VOIDED
    url = reverse("testpay:pay", args=[charge.pk])
    response = client.post(url, CARD)
    assert response.status_code == 200
    assert "The merchant cancelled this payment" in response.text
    assert 'name="card_number"' not in response.text
    assert Charge.objects.get(pk=charge.pk).status == Charge.Status.VOIDED
    assert testpay.charge_pay(charge_id=charge.pk, **CARD).status == Charge.Status.VOIDED


def test_a_manual_order_cancels_without_a_charge_to_void(
    shop, product, buy, django_capture_on_commit_callbacks
):
    placed = buy(shop, (product.variants.get(), 1), payment_provider="manual")

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(shop=shop, order=placed.order)

    assert Order.objects.get(pk=placed.order.pk).status == Order.Status.CANCELLED


def test_money_taken_after_cancellation_is_shown_to_staff_as_a_refund_to_make(
    client, shop, product, buy, django_capture_on_commit_callbacks
):
    # Given a card order cancelled while the fan was paying on the processor's page: the card
    # was taken before the charge could be voided
    placed = buy(shop, (product.variants.get(), 1))
    with django_capture_on_commit_callbacks(execute=False):
        order_cancel(shop=shop, order=placed.order, reason="Out of glaze")
    charge = testpay.charge_pay(charge_id=placed.payment.reference, **CARD)
    assert charge.status == Charge.Status.APPROVED

    # When the processor's approval arrives
    body = callback_body(placed.payment, approved=True)
    outcome = payment_callback_handle(
        provider_code="testpay", body=body, headers=signed_headers(body)
    )

    # Then the order stays cancelled, the payment is not counted as paid, and the callback and
    # the order's history say a refund is needed
    assert outcome == "approved_after_cancel"
    assert PaymentCallback.objects.get().outcome == "approved_after_cancel"
    order = Order.objects.get(pk=placed.order.pk)
    assert order.status == Order.Status.CANCELLED
    assert Payment.objects.get(pk=placed.payment.pk).status == Payment.Status.DECLINED
    assert OrderEvent.objects.filter(order=order, note__contains="refund needed").count() == 1
    client.force_login(shop.memberships.get().user)
    url = reverse("dashboard:order", kwargs={"shop": shop.slug, "number": order.number})
    page = client.get(url).text
    assert "Payment received after cancellation: refund needed" in page
