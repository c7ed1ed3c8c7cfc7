"""The admin shows orders and payments to platform operators but cannot change them: changes go
through the services, which keep the state machine and the history."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kinfolk.orders.models import Order, Payment, PaymentCallback

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, make_user):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def order(shop, product, buy):
    return buy(shop, (product.variants.get(), 1)).order


@pytest.mark.parametrize("model", [Order, Payment, PaymentCallback])
def test_orders_and_payments_cannot_be_added_in_the_admin(operator, model):
    url = reverse(f"admin:orders_{model._meta.model_name}_add")
    assert operator.get(url).status_code == 403


def test_an_order_is_shown_but_a_posted_change_is_refused(operator, order):
    url = reverse("admin:orders_order_change", args=[order.pk])

    page = operator.get(url)
    posted = operator.post(url, {"status": "paid", "total": "1"})

    assert page.status_code == 200 and order.number in page.text
    assert 'name="status"' not in page.text
    assert posted.status_code == 403
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.total) == (order.status, order.total)


def test_a_payment_is_shown_read_only(operator, order):
    payment = order.payments.get()
    url = reverse("admin:orders_payment_change", args=[payment.pk])

    assert operator.get(url).status_code == 200
    assert operator.post(url, {"status": "approved"}).status_code == 403
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING
    assert operator.get(reverse("admin:orders_order_changelist")).status_code == 200
    assert operator.get(reverse("admin:orders_payment_changelist")).status_code == 200
