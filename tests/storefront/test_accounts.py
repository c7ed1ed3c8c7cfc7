"""A fan's account: sign up, confirm the address by e-mail, log in and out, reset a password,
and see every order across shops on one page."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from kinfolk.crm.models import Customer, Interaction
from kinfolk.crm.services import customer_get_or_create
from kinfolk.storefront.services import confirmation_email_send

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "a long fan password 42"


def send_queued_confirmations() -> int:
    """Send the confirmation e-mails the sign-ups queued, as the worker would; return how many.

    The service is called directly: a worker's task closes its database connection, which the
    test's transaction cannot survive (tests/storefront/test_signup_email.py runs the real task).
    """
    count = 0
    while (task := HUEY.dequeue()) is not None:
        assert task.name.endswith("send_confirmation_email"), task.name
        confirmation_email_send(**task.kwargs)
        count += 1
    return count


@pytest.fixture
def sign_up(client, django_capture_on_commit_callbacks):
    """Return a function that posts the sign-up form and sends its queued e-mail."""
    HUEY.flush()

    def post(query: str = "", **overrides):
        data = {
            "email": "fan@example.com",
            "name": "Kim Minji",
            "password1": PASSWORD,
            "password2": PASSWORD,
            **overrides,
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:signup") + query, data)
        send_queued_confirmations()
        return response

    yield post
    HUEY.flush()


def _confirm_path() -> str:
    match = re.search(r"http://[^/\s]+(/accounts/confirm/[^\s\"]+/)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_signing_up_creates_an_inactive_account_and_emails_a_link(sign_up):
    response = sign_up()

    assert response.status_code == 303
    assert response["Location"] == reverse("accounts:signup-done")
    user = User.objects.get(email="fan@example.com")
    assert not user.is_active and user.email_confirmed_at is None
    assert user.name == "Kim Minji" and user.preferred_language == "en"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["fan@example.com"]
    assert _confirm_path()


def test_following_the_link_activates_links_guest_orders_and_logs_in(client, sign_up, shop):
    guest = customer_get_or_create(shop=shop, email="fan@example.com")
    sign_up()

    response = client.get(_confirm_path())

    user = User.objects.get(email="fan@example.com")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:home")
    assert user.is_active and user.email_confirmed_at is not None
    assert Customer.objects.get(pk=guest.pk).account == user
    assert client.get(reverse("accounts:home")).status_code == 200


def test_a_sign_up_from_a_shop_is_credited_to_that_shop(client, sign_up, shop):
    sign_up(query=f"?next=/{shop.slug}/cart/", next=f"/{shop.slug}/cart/")

    response = client.get(_confirm_path())

    assert response["Location"] == reverse("storefront:shop", args=[shop.slug])
    interaction = Interaction.objects.get(kind=Interaction.Kind.ACCOUNT_CREATED)
    assert interaction.shop == shop and interaction.source == "storefront"
    assert interaction.customer.account.email == "fan@example.com"


def test_a_used_or_altered_link_does_not_log_anyone_in(client, sign_up):
    sign_up()
    path = _confirm_path()
    client.get(path)
    client.logout()

    again = client.get(path)
    altered = client.get(path.replace("/confirm/", "/confirm/x"))

    assert again.status_code == 400 and "already confirmed" in again.text
    assert altered.status_code == 400 and "not valid" in altered.text
    assert "_auth_user_id" not in client.session


def test_a_link_older_than_three_days_has_expired(client, sign_up, monkeypatch):
    sign_up()
    path = _confirm_path()
    later = time.time() + 3 * 86400 + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)

    response = client.get(path)

    assert response.status_code == 400 and "expired" in response.text
    assert not User.objects.get(email="fan@example.com").is_active


def test_an_address_with_an_account_cannot_sign_up_again(sign_up, make_user):
    make_user("fan@example.com")

    response = sign_up(email="FAN@example.com")

    assert response.status_code == 400
    assert "already registered" in response.text and "id_email-error" in response.text
    assert 'value="FAN@example.com"' in response.text
    assert mail.outbox == []


def test_signing_up_again_before_confirming_sends_a_new_link(sign_up):
    sign_up()
    sign_up(password1="another long password 7", password2="another long password 7")

    assert User.objects.filter(email="fan@example.com").count() == 1
    assert len(mail.outbox) == 2


def test_whoever_confirms_the_address_chooses_the_password(client, sign_up):
    # Given someone who signs up first with another person's address
    sign_up(password1="the squatter's pass 1", password2="the squatter's pass 1")
    attackers_link = _confirm_path()
    # When the address's owner signs up too and follows the link sent to them
    sign_up()
    client.get(_confirm_path())
    client.logout()

    # Then only the owner's password opens the account
    assert not client.login(username="fan@example.com", password="the squatter's pass 1")
    assert client.login(username="fan@example.com", password=PASSWORD)
    # and the earlier link, had it been intercepted, is spent
    client.logout()
    assert client.get(attackers_link).status_code == 400


def test_an_unconfirmed_account_has_no_password_yet(client, sign_up):
    sign_up()

    user = User.objects.get(email="fan@example.com")

    assert not user.has_usable_password()
    assert not client.login(username="fan@example.com", password=PASSWORD)


@pytest.mark.parametrize(
    ("fields", "error_field", "message"),
    [
        ({"password1": "12345678", "password2": "12345678"}, "password1", "entirely numeric"),
        ({"password2": "something else 99"}, "password2", "differ"),
        ({"email": "nope"}, "email", "valid email"),
    ],
)
def test_bad_sign_up_input_is_shown_beside_the_field(sign_up, fields, error_field, message):
    response = sign_up(**fields)

    assert response.status_code == 400
    assert f'id="id_{error_field}-error"' in response.text
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="Kim Minji"' in response.text
    # A rejected password is typed afresh; any other mistake keeps it.
    password_kept = re.search(r'name="password1"[^>]*value="', response.text) is not None
    assert password_kept == (error_field == "email")
    assert not User.objects.exists()


def test_log_in_by_email_and_log_out(client, make_user):
    make_user("minji@example.com", password=PASSWORD)

    response = client.post(
        reverse("accounts:login"), {"username": "Minji@Example.com", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:home")

    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("accounts:home")).status_code == 302


def test_a_wrong_password_says_so_and_mentions_confirmation(client, make_user):
    make_user("minji@example.com", password=PASSWORD)

    response = client.post(
        reverse("accounts:login"), {"username": "minji@example.com", "password": "wrong"}
    )

    assert response.status_code == 200
    assert "do not match an account" in response.text


def test_password_reset_sends_a_link_that_sets_a_new_password(client, make_user):
    make_user("minji@example.com", password=PASSWORD)

    response = client.post(reverse("accounts:password_reset"), {"email": "minji@example.com"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    link = re.search(r"http://[^/\s]+(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert "new password" in form_page.text.lower()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand new secret 77", "new_password2": "brand new secret 77"},
    )

    assert done["Location"] == reverse("accounts:password_reset_complete")
    assert client.login(username="minji@example.com", password="brand new secret 77")


def test_account_page_lists_orders_across_shops_in_few_queries(
    client, make_user, make_shop, make_product, django_assert_max_num_queries, kr_address
):
    import uuid

    from kinfolk.orders.services.cart import cart_add, cart_get_or_create
    from kinfolk.orders.services.checkout import order_place

    fan = make_user("minji@example.com")
    client.force_login(fan)

    def buy(shop):
        product = make_product(shop)
        cart = cart_get_or_create(shop=shop, token=None)
        cart_add(shop=shop, cart=cart, variant_id=product.variants.get().pk, quantity=2)
        return order_place(
            shop=shop,
            cart=cart,
            email=fan.email,
            address=kr_address,
            payment_provider="manual",
            idempotency_key=uuid.uuid4().hex,
            return_url_for=lambda order: "http://127.0.0.1/",
            account=fan,
        ).order

    first = buy(make_shop("first-shop", name="First Shop"))
    with django_assert_max_num_queries(5) as few:
        client.get(reverse("accounts:home"))
    orders = [buy(make_shop()) for _ in range(6)]

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("accounts:home"))

    assert "First Shop" in response.text and f"#{first.number}" in response.text
    for order in orders:
        assert reverse("storefront:order", args=[order.shop.slug, order.number]) in response.text
    assert "2 items" in response.text
