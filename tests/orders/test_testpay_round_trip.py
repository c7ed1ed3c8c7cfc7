"""The whole card round trip inside one test: the processor's page decides the charge, its worker
posts the signed callback over HTTP to a live server, and the fan's confirmation goes out by SMTP."""

import pytest

from kinfolk.orders.models import Order
from kinfolk.testpay.models import CallbackAttempt
from kinfolk.testpay.services import charge_pay

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_card_payment_reaches_the_shop_by_signed_callback(
    shop, product, buy, live_server, settings, run_tasks, smtp_server
):
    settings.TESTPAY_CALLBACK_BASE = live_server.url
    placed = buy(shop, (product.variants.get(), 1))
    charge_pay(
        charge_id=placed.payment.reference,
        card_number="4242 4242 4242 4242",
        expiry="12/34",
        cvc="123",
        name="Kim Minji",
    )
    # The worker delivers the callback; the server, in this process, queues the e-mail that the
    # same drain then sends.
    run_tasks()
    attempt = CallbackAttempt.objects.get()
    assert attempt.status_code == 200
    assert attempt.url == f"{live_server.url}/payments/testpay/callback/"
    order = Order.objects.get(pk=placed.order.pk)
    assert order.status == "paid"
    assert [m["Subject"] for m in smtp_server.messages] == [
        f"Order #{order.number} confirmed – {shop.name}"
    ]


def test_a_declined_card_cancels_the_order(shop, product, buy, live_server, settings, run_tasks):
    settings.TESTPAY_CALLBACK_BASE = live_server.url
    placed = buy(shop, (product.variants.get(), 2))
    charge_pay(
        charge_id=placed.payment.reference,
        card_number="4000 0000 0000 0002",
        expiry="12/34",
        cvc="123",
        name="Kim Minji",
    )
    run_tasks()
    assert Order.objects.get(pk=placed.order.pk).status == "cancelled"
    assert product.variants.get().stock == 5
