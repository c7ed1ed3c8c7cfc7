"""A fan's own data, shop by shop: the page lists only the shops with a record linked to the fan's
account, the download holds only the fan's own data, and an erasure needs the password again,
happens at once and is confirmed by e-mail through a real SMTP server."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse

from kinfolk.crm.models import Customer, Erasure
from kinfolk.orders.models import Order
from tests.conftest import _free_port
from tests.crm.test_privacy import place

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse 42"  # make_user's default


@pytest.fixture
def world(shop, make_shop, make_product, make_user):
    """A fan with orders at two shops, another fan at the first, and a guest order the fan
    placed at a third shop under another address (not linked to the account)."""
    fan = make_user("minji@example.com", name="Kim Minji")
    second = make_shop("second-shop", name="Second Shop")
    third = make_shop("third-shop", name="Third Shop")
    orders = {}
    for key, where in (("first", shop), ("second", second), ("third", third)):
        variant = make_product(where, price=1000, stock=20).variants.get()
        if key == "third":
            orders[key] = place(where, variant, email="minji.guest@example.com", name="Kim Minji")
        else:
            orders[key] = place(
                where, variant, email="minji@example.com", name="Kim Minji", account=fan
            )
        if key == "first":
            orders["other"] = place(where, variant, email="other@example.com", name="Park Other")
    return {"fan": fan, "shops": (shop, second, third), "orders": orders}


def test_the_account_page_leads_to_the_fans_data(client, world):
    client.force_login(world["fan"])
    page = client.get(reverse("accounts:home")).content.decode()
    assert reverse("storefront:privacy") in page


def test_a_fan_sees_only_the_shops_that_keep_a_record_linked_to_them(client, world):
    shop, second, third = world["shops"]
    client.force_login(world["fan"])

    response = client.get(reverse("storefront:privacy"))

    page = response.content.decode()
    assert response.status_code == 200
    assert shop.name in page and second.name in page
    assert third.name not in page  # the guest order is under another address, not linked
    assert "staff can send you a copy or erase it" in page
    assert reverse("storefront:privacy-erase", args=[shop.slug]) in page


def test_visitors_who_are_not_logged_in_are_sent_to_log_in(client, world):
    shop = world["shops"][0]
    for url in (
        reverse("storefront:privacy"),
        reverse("storefront:privacy-download", args=[shop.slug]),
        reverse("storefront:privacy-erase", args=[shop.slug]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))
    assert client.post(reverse("storefront:privacy-erase", args=[shop.slug])).status_code == 302
    assert not Erasure.objects.exists()


def test_the_download_holds_the_fans_own_data_and_nothing_else(client, world):
    shop = world["shops"][0]
    orders = world["orders"]
    client.force_login(world["fan"])

    response = client.get(reverse("storefront:privacy-download", args=[shop.slug]))

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["profile"]["email"] == "minji@example.com"
    assert [order["number"] for order in data["orders"]] == [orders["first"].number]
    text = response.content.decode()
    for key in ("second", "third", "other"):
        assert orders[key].number not in text
    assert "other@example.com" not in text


@pytest.mark.parametrize("which", ["guest", "none", "unknown"])
def test_a_fan_reaches_no_record_that_is_not_linked_to_them(client, world, which):
    """Given the fan's unlinked guest record (third shop), a shop with only another fan's
    record, and a shop that does not exist, then download and erase answer 404 and nothing
    is erased."""
    shop, _second, third = world["shops"]
    client.force_login(world["fan"])
    if which == "none":
        # The fan's record at the first shop goes; only the other fan's stays there.
        Customer.objects.filter(shop=shop, account=world["fan"]).update(account=None)
    slug = {"guest": third.slug, "none": shop.slug, "unknown": "no-such-shop"}[which]
    assert client.get(reverse("storefront:privacy-download", args=[slug])).status_code == 404
    erase = reverse("storefront:privacy-erase", args=[slug])
    assert client.get(erase).status_code == 404
    assert client.post(erase, {"password": PASSWORD}).status_code == 404
    assert not Erasure.objects.exists()


def test_a_wrong_password_erases_nothing_and_says_why(client, world, smtp_server):
    shop = world["shops"][0]
    client.force_login(world["fan"])

    response = client.post(
        reverse("storefront:privacy-erase", args=[shop.slug]), {"password": "not it"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "This password is not correct" in page and 'aria-invalid="true"' in page
    assert Customer.objects.get(shop=shop, email="minji@example.com").erased_at is None
    assert smtp_server.messages == []


def test_an_erasure_happens_at_once_and_is_confirmed_by_email(client, world, smtp_server):
    """Given a fan at two shops, when they ask the first shop to erase their data with their
    password, then the record is erased at once, the first shop leaves their list and their
    orders there leave their account, the second shop's record stays, and a confirmation
    arrives over SMTP at the account's address."""
    shop, second, _third = world["shops"]
    fan = world["fan"]
    client.force_login(fan)

    response = client.post(
        reverse("storefront:privacy-erase", args=[shop.slug]), {"password": PASSWORD}
    )

    assert response.status_code == 303
    assert response["Location"] == reverse("storefront:privacy")
    erased = Customer.objects.get(pk=world["orders"]["first"].customer_id)
    assert erased.erased_at is not None and erased.email == "" and erased.account is None
    assert Erasure.objects.get(customer=erased).requested_by == Erasure.RequestedBy.FAN
    assert Order.objects.get(pk=world["orders"]["first"].pk).email == ""
    assert Customer.objects.get(shop=second, account=fan).erased_at is None
    [message] = smtp_server.messages
    assert message["To"] == "minji@example.com"
    assert shop.name in message["Subject"] and shop.name in message["From"]
    assert "account is unchanged" in smtp_server.bodies(message)
    page = client.get(response["Location"]).content.decode()
    assert "A confirmation was sent to minji@example.com" in page
    assert reverse("storefront:privacy-erase", args=[shop.slug]) not in page
    assert second.name in page
    account_page = client.get(reverse("accounts:home")).content.decode()
    assert world["orders"]["first"].number not in account_page
    assert world["orders"]["second"].number in account_page
    fan.refresh_from_db()
    assert fan.is_active and fan.check_password(PASSWORD)


def test_a_mail_server_that_is_down_does_not_undo_the_erasure(client, world, smtp_server, settings):
    shop = world["shops"][0]
    settings.EMAIL_PORT = _free_port()  # nothing listens there
    client.force_login(world["fan"])

    response = client.post(
        reverse("storefront:privacy-erase", args=[shop.slug]), {"password": PASSWORD}
    )

    assert response.status_code == 303
    assert Customer.objects.get(pk=world["orders"]["first"].customer_id).erased_at is not None
    page = client.get(response["Location"]).content.decode()
    assert "this message is your confirmation" in page


def test_the_pages_work_in_korean(client, world):
    shop = world["shops"][0]
    client.force_login(world["fan"])
    for url in (
        reverse("storefront:privacy"),
        reverse("storefront:privacy-erase", args=[shop.slug]),
    ):
        assert client.get(url, HTTP_ACCEPT_LANGUAGE="ko").status_code == 200


def test_the_list_of_shops_takes_a_fixed_number_of_queries(
    client, world, make_shop, make_product, django_assert_max_num_queries
):
    fan = world["fan"]
    for n in range(5):
        shop = make_shop(f"more-{n}")
        place(shop, make_product(shop, price=1000).variants.get(), **_fan_order(fan))
    client.force_login(fan)
    with django_assert_max_num_queries(5):
        response = client.get(reverse("storefront:privacy"))
    assert response.content.decode().count("Download (JSON)") == 7


def _fan_order(fan) -> dict:
    return {"email": fan.email, "name": "Kim Minji", "account": fan}
