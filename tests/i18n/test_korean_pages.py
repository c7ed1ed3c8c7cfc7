"""A fan whose browser asks for Korean reads Korean: service errors raised during the request,
the storefront's messages, the order e-mail and the dashboard's history."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from kinfolk.core.errors import InvalidInput
from kinfolk.orders.models import CartLine, Order
from kinfolk.orders.services.cart import cart_add, cart_get_or_create
from tests.storefront.conftest import form_value

pytestmark = pytest.mark.django_db

KO = {"HTTP_ACCEPT_LANGUAGE": "ko"}


@pytest.fixture
def vinyl(product):
    """The shop's one LP: ₩35,000, five left."""
    return product.variants.get()


@pytest.fixture
def korean_cart(client, shop, vinyl):
    """A visitor's cart holding two LPs, filled through the product page in Korean."""
    client.post(
        reverse("storefront:cart-add", args=[shop.slug]),
        {"product": vinyl.product.slug, "variant": vinyl.pk, "quantity": 2},
        **KO,
    )
    return CartLine.objects.get(variant=vinyl)


def _checkout_form(client, shop, address, **overrides) -> dict[str, str]:
    html = client.get(reverse("storefront:checkout", args=[shop.slug]), **KO).text
    data = {
        "idempotency_key": form_value(html, "idempotency_key"),
        "expected_total": form_value(html, "expected_total"),
        "email": "fan@example.com",
        "payment_provider": "testpay",
        **address,
    }
    data.update(overrides)
    return data


def test_a_bad_postal_code_is_explained_in_korean(client, shop, korean_cart, kr_address):
    # Given a fan checking out in Korean
    data = _checkout_form(client, shop, kr_address, postal_code="ABC")
    # When the postal code is not a Korean one
    response = client.post(reverse("storefront:checkout", args=[shop.slug]), data, **KO)
    # Then the error beside the field is Korean, with the country's example, and nothing is placed
    assert response.status_code == 400
    html = response.text
    assert "이 국가의 우편번호 형식에 맞지 않습니다(예: 03051)." in html
    assert "빨간색으로 표시된 항목을 확인해 주세요." in html
    assert "not valid" not in html
    assert 'value="ABC"' in html
    assert not Order.objects.exists()


def test_too_many_in_the_cart_says_how_many_are_left_in_korean(client, shop, korean_cart):
    # Given two LPs in the cart and five on the shelf
    # When the fan asks for nine on the cart page
    response = client.post(
        reverse("storefront:cart-line", args=[shop.slug, korean_cart.pk]),
        {"quantity": "9"},
        **KO,
    )
    # Then the line says, in Korean, how many are left, and keeps what was typed
    assert response.status_code == 400
    assert "Vinyl LP은(는) 5개만 남았습니다." in response.text
    assert 'value="9"' in response.text
    korean_cart.refresh_from_db()
    assert korean_cart.quantity == 2


def test_service_errors_are_translated_when_raised_not_when_imported(shop, vinyl):
    # The same service call answers in the language active at the time of the call.
    cart = cart_get_or_create(shop=shop, token=None)
    messages = {}
    for language in ("en", "ko"):
        with translation.override(language), pytest.raises(InvalidInput) as info:
            cart_add(shop=shop, cart=cart, variant_id=vinyl.pk, quantity=6)
        messages[language] = info.value.message
    assert messages == {
        "en": "Only 5 of Vinyl LP left.",
        "ko": "Vinyl LP은(는) 5개만 남았습니다.",
    }


def test_the_address_labels_follow_the_language_they_are_shown_in(client, shop, korean_cart):
    html = client.get(reverse("storefront:checkout", args=[shop.slug]), **KO).text

    assert ">우편번호<" in html.replace(" ", "")
    assert ">시/도<" in html.replace(" ", "")
    english = client.get(
        reverse("storefront:checkout", args=[shop.slug]), HTTP_ACCEPT_LANGUAGE="en"
    ).text
    assert "Postal code" in english and "Province" in english


# Committed for real: the e-mail is queued on commit and the worker's task opens its own
# connection, as in production.
@pytest.mark.django_db(transaction=True)
def test_an_order_placed_in_korean_gets_a_korean_e_mail(
    client, shop, korean_cart, kr_address, run_tasks
):
    # Given a fan who checks out in Korean and pays by bank transfer
    data = _checkout_form(client, shop, kr_address, payment_provider="manual")
    response = client.post(reverse("storefront:checkout", args=[shop.slug]), data, **KO)
    assert response.status_code == 303
    order = Order.objects.get()
    assert order.language == "ko"
    # When the worker sends the queued e-mail
    run_tasks()
    # Then its subject and body are Korean
    [message] = mail.outbox
    assert message.subject == f"[{shop.name}] 주문이 접수되었습니다(주문 번호 {order.number})"
    assert f"{shop.name}에서 주문해 주셔서 감사합니다." in message.body
    assert "합계: ₩70,000" in message.body
    assert "입금이 확인되는 대로" in message.body


def test_the_dashboard_shows_system_notes_in_the_reader_s_language(
    client, shop, korean_cart, kr_address
):
    data = _checkout_form(client, shop, kr_address)
    client.post(reverse("storefront:checkout", args=[shop.slug]), data, **KO)
    order = Order.objects.get()
    client.force_login(shop.memberships.get().user)

    url = reverse("dashboard:order", kwargs={"shop": shop.slug, "number": order.number})
    korean = client.get(url, **KO).text
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").text

    assert order.events.get().note == "Order placed"
    assert '<span class="timeline-note">주문 접수</span>' in korean
    assert '<span class="timeline-note">Order placed</span>' in english
    assert "발송 수량" in korean
