"""A fan's account page lists their own orders, and only theirs: a logged-in fan who types
another person's address (a gift, a typo, a stranger's) neither fails nor gains that person's
history, and a guest order placed before signing up opens from the account page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from kinfolk.crm.models import Customer
from kinfolk.orders.models import Order

pytestmark = pytest.mark.django_db


def _checkout(client, shop, data):
    return client.post(reverse("storefront:checkout", args=[shop.slug]), data)


@pytest.fixture
def place(client, shop, product, add_to_cart, checkout_form):
    """Return a function that fills the cart and checks out with ``email``; returns the order."""

    def order(email: str) -> Order:
        add_to_cart(shop, product.variants.get(), 1)
        response = _checkout(client, shop, checkout_form(shop, email=email))
        assert response.status_code == 303, response.content[:2000]
        return Order.objects.get(
            email=email, idempotency_key=response.wsgi_request.POST["idempotency_key"]
        )

    return order


def test_a_logged_in_fan_can_send_a_gift_to_another_address(client, shop, place, make_user):
    # Given a fan who already ordered in the shop with their own address
    fan = make_user("fan@example.com")
    client.force_login(fan)
    own = place("fan@example.com")

    # When they order a gift with their mother's address
    gift = place("mum@example.com")

    # Then the order is placed, theirs, and mum's customer record is not tied to the fan
    assert gift.status == "awaiting_payment" and gift.account == fan
    assert own.customer.account == fan
    assert Customer.objects.get(shop=shop, email="mum@example.com").account is None


def test_typing_a_stranger_s_address_does_not_reveal_their_orders(client, shop, place, make_user):
    # Given a guest order by a stranger
    earlier = place("stranger@example.com")
    client.cookies.clear()

    # When a logged-in fan checks out with the stranger's address
    client.force_login(make_user("intruder@example.com"))
    place("stranger@example.com")

    # Then the stranger's record stays unlinked and their earlier order is not on the fan's page
    assert Customer.objects.get(shop=shop, email="stranger@example.com").account is None
    page = client.get(reverse("accounts:home")).text
    assert f"#{earlier.number}" not in page
    url = reverse("storefront:order", args=[shop.slug, earlier.number])
    assert client.get(url).status_code == 404


def test_a_guest_order_opens_from_the_account_page_after_signing_up(
    client, shop, place, django_capture_on_commit_callbacks
):
    # Given a guest order
    order = place("minji@example.com")
    client.cookies.clear()
    HUEY.flush()

    # When the fan later signs up with that address and follows the confirmation link
    password = "a long fan password 42"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:signup"),
            {"email": "minji@example.com", "password1": password, "password2": password},
        )
    [task] = _queued()
    client.get(urlsplit(task.kwargs["url"]).path)

    # Then the account page links to the order, and the link opens it
    page = client.get(reverse("accounts:home")).text
    url = reverse("storefront:order", args=[shop.slug, order.number])
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200 and order.number in response.text


def _queued() -> list:
    tasks = []
    while (task := HUEY.dequeue()) is not None:
        tasks.append(task)
    return tasks
