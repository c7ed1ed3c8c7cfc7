"""Confirming a new account credits the sign-up to the fan whose link brought the visitor to the
shop the sign-up started from, and tells no other shop of the person."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from kinfolk.crm.models import Customer
from kinfolk.referrals.models import Referral, ReferralCredit
from kinfolk.referrals.services import share_link_get_or_create
from kinfolk.storefront.services import confirmation_email_send
from tests.referrals.conftest import BROWSER

pytestmark = pytest.mark.django_db


@pytest.fixture
def sign_up_and_confirm(client, django_capture_on_commit_callbacks):
    """Return a function that signs up (``shop``/``next`` as the page passed them), sends the
    queued confirmation e-mail as the worker would, and follows its link."""
    HUEY.flush()

    def run(**start):
        data = {
            **start,
            "email": "friend@example.com",
            "name": "Friend",
            "password1": "correct horse 42",
            "password2": "correct horse 42",
        }
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("accounts:signup"), data)
        while (task := HUEY.dequeue()) is not None:
            confirmation_email_send(**task.kwargs)
        path = re.search(r"http://[^/\s]+(/accounts/confirm/[^\s\"]+/)", mail.outbox[-1].body)
        return client.get(path.group(1))

    yield run
    HUEY.flush()


def test_a_signup_through_a_share_link_is_credited(client, shop, link, sign_up_and_confirm):
    # Given a visitor who arrived through the sharer's link
    client.get(f"/{shop.slug}/?via={link.code}", HTTP_USER_AGENT=BROWSER)

    # When they sign up from the shop and confirm their address
    response = sign_up_and_confirm(next=f"/{shop.slug}/")

    # Then the sign-up counts for the sharer
    assert response.status_code == 302
    credit = ReferralCredit.objects.get()
    assert credit.kind == "signup" and credit.referral.referrer_id == link.customer_id


def test_a_signup_tells_only_the_shop_it_started_from(
    client, shop, link, make_shop, make_fan, sign_up_and_confirm
):
    # Given a visitor who followed share links of two shops
    other = make_shop()
    other_link = share_link_get_or_create(shop=other, customer=make_fan(other, account=True))
    client.get(f"/{shop.slug}/?via={link.code}", HTTP_USER_AGENT=BROWSER)
    client.get(f"/{other.slug}/?via={other_link.code}", HTTP_USER_AGENT=BROWSER)

    # When they sign up from the first shop and confirm
    response = sign_up_and_confirm(shop=shop.slug)

    # Then only that shop credits the sign-up; the other shop learns nothing of them
    assert response.status_code == 302
    credit = ReferralCredit.objects.get()
    assert credit.shop_id == shop.pk and credit.referral.referrer_id == link.customer_id
    assert not Customer.objects.filter(shop=other, email="friend@example.com").exists()
    assert not Referral.objects.filter(shop=other).exists()


def test_a_signup_from_no_shop_credits_nobody(client, shop, link, sign_up_and_confirm):
    # Given a visitor who followed a share link, then signed up from the plain sign-up page
    client.get(f"/{shop.slug}/?via={link.code}", HTTP_USER_AGENT=BROWSER)

    response = sign_up_and_confirm()

    # Then no shop is told of them and nobody is credited
    assert response.status_code == 302
    assert not ReferralCredit.objects.exists()
    assert not Customer.objects.filter(email="friend@example.com").exists()


def test_a_signup_from_a_shop_without_its_cookie_credits_nobody(
    client, shop, make_shop, make_fan, sign_up_and_confirm
):
    # Given a visitor who followed another shop's link, then signed up from this shop
    other = make_shop()
    other_link = share_link_get_or_create(shop=other, customer=make_fan(other, account=True))
    client.get(f"/{other.slug}/?via={other_link.code}", HTTP_USER_AGENT=BROWSER)

    response = sign_up_and_confirm(next=f"/{shop.slug}/")

    # Then nobody is credited and the other shop knows nothing of them
    assert response.status_code == 302
    assert not ReferralCredit.objects.exists()
    assert not Customer.objects.filter(shop=other, email="friend@example.com").exists()
