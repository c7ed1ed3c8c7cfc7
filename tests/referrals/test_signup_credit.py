"""Confirming a new account credits the sign-up to the fan whose link brought the visitor."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse

from kinfolk.accounts.models import User
from kinfolk.accounts.tokens import confirm_token_make
from kinfolk.referrals.models import ReferralCredit
from tests.referrals.conftest import BROWSER

pytestmark = pytest.mark.django_db


def test_a_signup_through_a_share_link_is_credited(client, shop, link):
    # Given a visitor who arrived through the sharer's link
    client.get(f"/{shop.slug}/?via={link.code}", HTTP_USER_AGENT=BROWSER)

    # When they sign up and confirm their address
    client.post(
        reverse("accounts:signup"),
        {
            "email": "friend@example.com",
            "name": "Friend",
            "password1": "correct horse 42",
            "password2": "correct horse 42",
        },
    )
    user = User.objects.get(email="friend@example.com")
    token = confirm_token_make(user=user, password_hash=make_password("correct horse 42"))
    response = client.get(reverse("accounts:confirm", args=[token]))

    # Then the sign-up counts for the sharer
    assert response.status_code == 302
    credit = ReferralCredit.objects.get()
    assert credit.kind == "signup" and credit.referral.referrer_id == link.customer_id
