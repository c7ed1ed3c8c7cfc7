"""What the fan-page tests do as a fan's browser: open a drop's pages, reserve, check out."""

from __future__ import annotations

import re

from django.urls import reverse

from kinfolk.accounts.models import User

KOREAN = {"HTTP_ACCEPT_LANGUAGE": "ko"}
HTMX = {"HTTP_HX_REQUEST": "true"}


def drop_url(name, edition, *args):
    return reverse(f"storefront:{name}", args=[edition.shop.slug, edition.product.slug, *args])


def reserve(client, edition, email="minji@example.com", **extra):
    return client.post(drop_url("drop-reserve", edition), {"email": email}, **extra)


def checkout_form(client, shop, **overrides):
    html = client.get(reverse("storefront:checkout", args=[shop.slug])).text
    data = {
        name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1)
        for name in ("idempotency_key", "expected_total")
    }
    data.update(
        email="minji@example.com",
        payment_provider="manual",
        name="김민지",
        street_address="세종대로 110",
        city="중구",
        country_area="서울특별시",
        postal_code="04524",
        country_code="KR",
    )
    data.update(overrides)
    return data


def place(client, shop, **overrides):
    return client.post(
        reverse("storefront:checkout", args=[shop.slug]), checkout_form(client, shop, **overrides)
    )


def login(client, email):
    user = User.objects.create_user(email, "a long fan password 42")
    client.force_login(user)
    return user
