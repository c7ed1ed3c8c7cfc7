"""What a refund leaves besides the money: a partial refund on the fan's CRM timeline (without
withdrawing the purchase or counting as the fan's own action), and one e-mail to the fan once
the money is back, in their language, however often the worker runs or races.

Tests here commit for real, so that the work queued with on_commit runs as in production (the
worker is run_tasks); e-mails go through a real SMTP server on loopback.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation
from huey.contrib.djhuey import HUEY

from kinfolk.crm.models import Customer, Interaction
from kinfolk.crm.stage_rules import AFFECTS_STAGE, FAN_ACTIONS
from kinfolk.orders import tasks
from kinfolk.orders.models import OrderMessage, Refund
from kinfolk.orders.services import refunds
from kinfolk.orders.services.lifecycle import order_mark_paid, order_refund
from kinfolk.shops.services import membership_add
from kinfolk.testpay import cards
from kinfolk.testpay.services import charge_card_reopen
from tests import racing

from .refund_racers import refund_tell_race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("processor_reaches_the_shop"),
]

HANGUL = re.compile("[\uac00-\ud7a3]")
PARTLY = Interaction.Kind.ORDER_PARTIALLY_REFUNDED


@pytest.fixture
def staff(shop, make_user):
    user = make_user("packer@example.com")
    membership_add(shop=shop, user=user)
    return user


def _subject(message) -> str:
    # A long encoded subject is folded onto the header's next line: unfolded, it starts with
    # that line's space, which readers do not show.
    return message["Subject"].strip()


def _refund_mails(inbox) -> list:
    """Return the "refunded" e-mails the SMTP server received."""
    return [m for m in inbox.messages if _subject(m).startswith("Refund of ")]


def _korean(msgid: str) -> str | None:
    """Return the Korean of ``msgid``, None while the catalogue has none yet."""
    with translation.override("ko"):
        text = translation.gettext(msgid)
    return text if HANGUL.search(text) else None


# Timeline


def test_a_partial_refund_is_on_the_fan_s_timeline_and_the_purchase_still_stands(
    shop, staff, card_order, run_tasks
):
    # Given a paid order of ₩70,000 that made its fan a buyer
    order = card_order(2)
    run_tasks()
    stage = Customer.objects.get(pk=order.customer_id).stage

    # When staff refund ₩10,000 of it
    order_refund(shop=shop, order=order, actor=staff, amount=10000, reason="Scratch")
    run_tasks()

    # Then the fan's timeline says so, with the amount, the order and the refund
    refund = order.refunds.get()
    entry = Interaction.objects.get(kind=PARTLY)
    assert (entry.customer_id, entry.subject_type, entry.subject_id) == (
        order.customer_id,
        "order",
        order.number,
    )
    assert entry.source == Interaction.Source.DASHBOARD
    assert entry.data == {
        "amount": 10000,
        "currency": "KRW",
        "number": order.number,
        "refund_id": refund.pk,
    }
    # And the order still counts as a purchase, the fan did nothing, and the stage holds
    assert not Interaction.objects.filter(kind=Interaction.Kind.ORDER_REFUNDED).exists()
    assert PARTLY not in FAN_ACTIONS and PARTLY not in AFFECTS_STAGE
    assert Customer.objects.get(pk=order.customer_id).stage == stage

    # When the rest is refunded
    order_refund(shop=shop, order=order, actor=staff)
    run_tasks()

    # Then that is the order's one "order refunded", as before, and no second partial entry
    assert Interaction.objects.filter(kind=Interaction.Kind.ORDER_REFUNDED).count() == 1
    assert Interaction.objects.filter(kind=PARTLY).count() == 1


def test_a_repeated_partial_refund_is_on_the_timeline_once(shop, staff, card_order):
    order = card_order(2)

    for _ in range(3):
        order_refund(shop=shop, order=order, actor=staff, amount=5000, idempotency_key="rf_same")

    assert Interaction.objects.filter(kind=PARTLY).count() == 1


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_customer_page_shows_a_partial_refund_with_its_label_and_amount(
    shop, staff, card_order, client, language
):
    order = card_order(2)
    order_refund(shop=shop, order=order, actor=staff, amount=12500)
    client.force_login(staff)

    page = client.get(
        reverse("dashboard:customer", kwargs={"shop": shop.slug, "customer_id": order.customer_id}),
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert page.status_code == 200
    text = page.content.decode()
    with translation.override(language):
        label = str(Interaction.Kind(PARTLY).label)
    assert f"<strong>{label}</strong>" in text
    assert "₩12,500" in text and f"#{order.number}" in text
    if language == "ko" and _korean("Order partly refunded"):
        assert HANGUL.search(label)


# E-mail to the fan


def test_a_card_refund_tells_the_fan_once_the_money_is_back(
    shop, staff, smtp_server, card_order, run_tasks
):
    # Given a paid card order of ₩70,000 (its confirmation sent)
    order = card_order(2)

    # When staff refund ₩30,000, before the worker has asked the processor
    order_refund(shop=shop, order=order, actor=staff, amount=30000)
    assert _refund_mails(smtp_server) == []

    # Then once the processor has given it back, the fan gets one e-mail
    run_tasks()
    refund = order.refunds.get()
    assert refund.status == Refund.Status.SUCCEEDED
    [message] = _refund_mails(smtp_server)
    assert message["To"] == "fan@example.com"
    assert _subject(message) == f"Refund of ₩30,000 for order #{order.number} – {shop.name}"
    body = smtp_server.bodies(message)
    assert f"We refunded ₩30,000 of order #{order.number}." in body
    assert "Refunded so far: ₩30,000 of the ₩70,000 you paid." in body
    assert "within 5 to 10 business days" in body
    assert f"/orders/{order.number}/?t={order.access_token}" in body
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "₩30,000" in html and order.access_token in html
    assert "Subtotal" not in html  # the refund, not the order's bill again

    # And however often its task runs again, no second e-mail
    assert not tasks.send_order_email.call_local(order.pk, "refunded", str(refund.pk))
    run_tasks()
    assert len(_refund_mails(smtp_server)) == 1
    assert OrderMessage.objects.get(kind="refunded").key == str(refund.pk)

    # When the rest is refunded, that refund gets its own e-mail, saying all of it is back
    order_refund(shop=shop, order=order, actor=staff)
    run_tasks()
    mails = _refund_mails(smtp_server)
    assert len(mails) == 2
    assert "All of your payment (₩70,000) has now been refunded." in smtp_server.bodies(mails[1])


def test_a_failed_refund_tells_the_fan_nothing_until_try_again_gives_the_money_back(
    shop, staff, smtp_server, card_order, run_tasks
):
    order = card_order(1, card=cards.CLOSED_CARD)
    order_refund(shop=shop, order=order, actor=staff)
    run_tasks()
    refund = order.refunds.get()
    assert refund.status == Refund.Status.FAILED
    # A task asked for a refund that did not go through sends nothing
    assert not tasks.send_order_email.call_local(order.pk, "refunded", str(refund.pk))
    assert _refund_mails(smtp_server) == []

    charge_card_reopen(charge_id=order.payments.get().reference)
    refunds.refund_retry(shop=shop, refund_id=refund.pk, actor=staff)
    run_tasks()

    [message] = _refund_mails(smtp_server)
    assert "All of your payment (₩38,000) has now been refunded." in smtp_server.bodies(message)


def test_a_bank_transfer_refund_tells_the_fan_when_staff_mark_it_sent(
    shop, vinyl, buy, staff, smtp_server, run_tasks
):
    order = buy(shop, (vinyl, 1), payment_provider="manual").order
    order_mark_paid(shop=shop, order=order, actor=staff)
    order_refund(shop=shop, order=order, actor=staff, amount=8000)
    run_tasks()
    refund = order.refunds.get()
    assert refund.status == Refund.Status.PENDING
    assert _refund_mails(smtp_server) == []  # pending: the money is not back yet

    refunds.refund_mark_sent(shop=shop, refund_id=refund.pk, actor=staff)
    run_tasks()

    [message] = _refund_mails(smtp_server)
    body = smtp_server.bodies(message)
    assert f"We refunded ₩8,000 of order #{order.number}." in body
    assert "Refunded so far: ₩8,000 of the ₩38,000 you paid." in body
    assert "bank transfer usually reaches your account within 1 to 3 business days" in body


def test_the_refund_e_mail_is_in_the_fan_s_language_with_money_as_they_write_it(
    make_shop, make_product, buy, smtp_server, run_tasks
):
    # Given a shop selling in dollars, and a fan who ordered in Korean
    shop = make_shop("garage", currency="USD", time_zone="America/Los_Angeles", country="US")
    variant = make_product(shop, name="Prop set", price=2500).variants.get()
    order = buy(shop, (variant, 1), payment_provider="manual", language="ko").order
    order_mark_paid(shop=shop, order=order)
    order_refund(shop=shop, order=order, amount=1250, tell_fan=True)
    run_tasks()

    refunds.refund_mark_sent(shop=shop, refund_id=order.refunds.get().pk)
    run_tasks()

    [message] = [m for m in smtp_server.messages if "12.50" in _subject(m)]
    body = smtp_server.bodies(message)
    # Babel writes dollars for a Korean reader as "US$"
    assert "US$12.50" in _subject(message) and "US$12.50" in body
    assert order.number in _subject(message) and order.access_token in body
    if _korean("We refunded %(amount)s of order #%(number)s."):
        assert HANGUL.search(_subject(message)) and HANGUL.search(body)


def test_a_refund_the_fan_is_told_about_otherwise_sends_no_refund_e_mail(
    shop, staff, smtp_server, card_order, run_tasks
):
    # Given a refund the system decides (a drop sold out, whose own e-mail explains it) and one
    # staff choose not to announce
    first, second = card_order(1), card_order(1)
    order_refund(shop=shop, order=first)
    order_refund(shop=shop, order=second, actor=staff, tell_fan=False)

    # When the processor gives the money back
    run_tasks()

    # Then the money is back and the fan hears nothing more about it, even if the task is asked
    for order in (first, second):
        refund = order.refunds.get()
        assert (refund.status, refund.tell_fan) == (Refund.Status.SUCCEEDED, False)
        assert not tasks.send_order_email.call_local(order.pk, "refunded", str(refund.pk))
    assert _refund_mails(smtp_server) == []


def test_workers_racing_a_refund_s_answer_and_its_e_mail_tell_the_fan_once(
    shop, staff, smtp_server, settings, card_order
):
    # Given a requested refund whose task was lost
    order = card_order(2)
    order_refund(shop=shop, order=order, actor=staff, amount=20000)
    HUEY.flush()
    refund = order.refunds.get()

    # When four workers ask the processor and send the fan's e-mail at once
    outcomes = racing.race(refund_tell_race, [(refund.pk, settings.EMAIL_PORT)] * 4)

    # Then the money went back once and the fan got one e-mail
    assert sorted(outcomes) == ["succeeded not sent"] * 3 + ["succeeded sent"], outcomes
    assert len(_refund_mails(smtp_server)) == 1
    assert order.payments.get().refund_total == 20000
    assert OrderMessage.objects.filter(kind="refunded").count() == 1
