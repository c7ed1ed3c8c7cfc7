"""Order e-mails leave through a real SMTP server on loopback, in the fan's language, once each."""

import datetime as dt
import re
from email.utils import parseaddr

import pytest
from django.conf import settings
from django.utils import translation

from kinfolk.core import clock
from kinfolk.orders import tasks
from kinfolk.orders.emails import STALE_CLAIM, order_email_send
from kinfolk.orders.models import OrderMessage
from kinfolk.orders.services.lifecycle import order_mark_paid, order_ship
from tests.conftest import _free_port

# Tests here commit for real, so that e-mails queued with on_commit are sent as in production.
pytestmark = pytest.mark.django_db(transaction=True)

HANGUL = re.compile("[\uac00-\ud7a3]")


def _korean_translations_exist() -> bool:
    with translation.override("ko"):
        return bool(HANGUL.search(translation.gettext("Subtotal")))


@pytest.fixture
def vinyl(product):
    return product.variants.get()


def test_the_confirmation_follows_an_approved_callback(
    shop, vinyl, buy, deliver_callback, run_tasks, smtp_server
):
    # Given an order awaiting its card payment
    placed = buy(shop, (vinyl, 2), email="fan@example.com")
    run_tasks()
    assert smtp_server.messages == []  # a card order sends nothing until it is paid
    # When the processor's signed approval arrives and the worker runs
    assert deliver_callback(placed.payment) == "approved"
    run_tasks()
    # Then exactly one confirmation went out over SMTP, with the order's number and total
    [message] = smtp_server.messages
    number = placed.order.number
    assert message["To"] == "fan@example.com"
    assert message["Subject"] == f"Order #{number} confirmed – {shop.name}"
    assert message["Auto-Submitted"] == "auto-generated"
    body = smtp_server.bodies(message)
    assert f"Order #{number}" in body and "₩70,000" in body
    assert f"?t={placed.order.access_token}" in body
    html = message.get_body(preferencelist=("html",)).get_content()
    assert number in html


def test_the_confirmation_is_in_the_fan_s_language(
    shop, vinyl, buy, deliver_callback, run_tasks, smtp_server
):
    placed = buy(shop, (vinyl, 1), language="ko")
    deliver_callback(placed.payment)
    run_tasks()
    [message] = smtp_server.messages
    assert placed.order.number in message["Subject"]
    if _korean_translations_exist():
        assert HANGUL.search(message["Subject"])
        assert HANGUL.search(smtp_server.bodies(message))


def test_the_shipped_email_names_the_carrier_and_the_tracking_number(
    shop, vinyl, buy, run_tasks, smtp_server, kr_address
):
    order = buy(shop, (vinyl, 1), payment_provider="manual").order
    order_mark_paid(shop=shop, order=order)
    order_ship(shop=shop, order=order, carrier="CJ Logistics", tracking_number="6290 1234 5678")
    run_tasks()
    subjects = [message["Subject"] for message in smtp_server.messages]
    expected = f"Your order #{order.number} is on its way – {shop.name}"
    assert sorted(subjects) == sorted(
        [
            f"Order #{order.number} received – {shop.name}",
            f"Order #{order.number} confirmed – {shop.name}",
            expected,
        ]
    )
    shipped = smtp_server.messages[subjects.index(expected)]
    body = smtp_server.bodies(shipped)
    assert "Carrier: CJ Logistics" in body and "Tracking number: 6290 1234 5678" in body
    assert kr_address["street_address"] in body


# Tracking numbers no random part of an e-mail (the order page's access token) can contain.
FIRST_PARCEL, SECOND_PARCEL = "1Z-PARCEL-ONE", "1Z-PARCEL-TWO"


def test_each_parcel_gets_its_own_shipped_email(
    shop, vinyl, make_product, buy, run_tasks, smtp_server
):
    poster = make_product(shop, name="Poster", price=5000).variants.get()
    order = buy(shop, (vinyl, 1), (poster, 1), payment_provider="manual").order
    order_mark_paid(shop=shop, order=order)
    first_line = order.lines.get(sku=vinyl.sku)
    order_ship(
        shop=shop,
        order=order,
        carrier="UPS",
        tracking_number=FIRST_PARCEL,
        quantities={first_line.pk: 1},
    )
    order_ship(shop=shop, order=order, carrier="UPS", tracking_number=SECOND_PARCEL)
    run_tasks()
    bodies = [smtp_server.bodies(m) for m in smtp_server.messages]
    assert sum(FIRST_PARCEL in b for b in bodies) == 1
    assert sum(SECOND_PARCEL in b for b in bodies) == 1


def test_a_manual_order_is_acknowledged_with_payment_instructions(
    shop, vinyl, buy, run_tasks, smtp_server
):
    order = buy(shop, (vinyl, 1), payment_provider="manual").order
    run_tasks()
    [message] = smtp_server.messages
    assert order.number in message["Subject"]
    assert "Use your order number as the payment reference." in smtp_server.bodies(message)


def test_no_email_is_sent_twice_even_if_the_task_runs_twice(
    shop, vinyl, buy, run_tasks, smtp_server, deliver_callback
):
    placed = buy(shop, (vinyl, 1))
    deliver_callback(placed.payment)
    tasks.send_order_email(placed.order.pk, "confirmed")
    tasks.send_order_email(placed.order.pk, "confirmed")
    run_tasks()
    assert len(smtp_server.messages) == 1
    assert OrderMessage.objects.get(order=placed.order, kind="confirmed").sent_at is not None


def test_an_email_that_could_not_be_sent_is_sent_by_the_retry(
    shop, vinyl, buy, smtp_server, settings
):
    order = buy(shop, (vinyl, 1), payment_provider="manual").order
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 9  # nothing listens on the discard port
    with pytest.raises(OSError):
        order_email_send(order_id=order.pk, kind="placed")
    assert not OrderMessage.objects.filter(order=order).exists()
    settings.EMAIL_PORT = port
    assert order_email_send(order_id=order.pk, kind="placed") is True
    assert order_email_send(order_id=order.pk, kind="placed") is False
    assert len(smtp_server.messages) == 1


def _claim(order, *, age: dt.timedelta) -> OrderMessage:
    """Record another worker's claim on the order's confirmation, made ``age`` ago."""
    return OrderMessage.objects.create(
        order=order, kind="confirmed", key="", to=order.email, claimed_at=clock.now() - age
    )


def test_a_message_another_worker_is_sending_is_not_sent_again(
    shop, vinyl, buy, smtp_server, settings
):
    # Given a worker that has just claimed the confirmation and is sending it
    order = buy(shop, (vinyl, 1), payment_provider="manual").order
    first = _claim(order, age=dt.timedelta(seconds=5))
    # When a second worker tries while the mail server is failing
    settings.EMAIL_PORT = _free_port()

    sent = order_email_send(order_id=order.pk, kind="confirmed")

    # Then it sends nothing and leaves the first worker's claim alone
    assert sent is False
    assert smtp_server.messages == []
    assert OrderMessage.objects.get(pk=first.pk).claimed_at == first.claimed_at


def test_a_claim_left_by_a_dead_worker_is_taken_over_and_sent_once(shop, vinyl, buy, smtp_server):
    order = buy(shop, (vinyl, 1), payment_provider="manual").order
    stale = _claim(order, age=STALE_CLAIM + dt.timedelta(minutes=1))

    assert order_email_send(order_id=order.pk, kind="confirmed") is True
    assert order_email_send(order_id=order.pk, kind="confirmed") is False

    assert len(smtp_server.messages) == 1
    message = OrderMessage.objects.get(pk=stale.pk)
    assert message.sent_at is not None and message.claimed_at > stale.claimed_at


def test_the_sender_is_the_shop_s_name_however_it_is_spelled(shop, vinyl, buy, smtp_server):
    shop.name = 'Moon, 달빛 "Records" <B-sides>'
    shop.save(update_fields=["name"])
    order = buy(shop, (vinyl, 1), payment_provider="manual").order

    order_email_send(order_id=order.pk, kind="placed")

    [message] = smtp_server.messages
    assert message["From"].addresses[0].display_name == shop.name
    assert message["From"].addresses[0].addr_spec == parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def test_an_order_whose_fan_was_erased_sends_nothing_and_does_not_fail(
    shop, vinyl, buy, run_tasks, smtp_server
):
    """Given an order whose e-mail address was blanked by an erasure, when its e-mail task runs,
    then nothing is sent, nothing is recorded as sent, and the task does not fail (no retries)."""
    order = buy(shop, (vinyl, 1), payment_provider="manual").order
    run_tasks()
    smtp_server.messages.clear()
    type(order).objects.filter(pk=order.pk).update(email="")

    assert order_email_send(order_id=order.pk, kind="shipped", key="parcel-1") is False
    assert smtp_server.messages == []
    assert not OrderMessage.objects.filter(order=order, kind="shipped").exists()
