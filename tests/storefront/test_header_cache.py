"""The header every storefront page shows is kept rendered per page, language, shop and cart
count: what is a visitor's own (the language form's CSRF token, the cart badge, being logged in)
stays theirs."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _header(html: str) -> str:
    return re.search(r'<header class="site-header">.*?</header>', html, re.DOTALL).group(0)


def _language_token(html: str) -> str:
    form = re.search(r'<form class="language-switch".*?</form>', html, re.DOTALL).group(0)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)


def _cart(client: Client, shop) -> str:
    response = client.get(reverse("storefront:cart", args=[shop.slug]))
    assert response.status_code == 200
    return response.text


def test_each_visitor_gets_a_token_of_their_own_that_switches_the_language(shop):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    page_one, page_two = _cart(first, shop), _cart(second, shop)
    token_one, token_two = _language_token(page_one), _language_token(page_two)

    assert token_one != token_two and "slot" not in token_one
    response = second.post(
        reverse("set_language"),
        {"language": "ko", "next": "/", "csrfmiddlewaretoken": token_two},
    )
    assert response.status_code == 302
    assert _header(_cart(second, shop)) != _header(page_two)  # now in Korean
    assert 'lang="ko" aria-current="true"' in _header(_cart(second, shop))
    assert 'lang="en" aria-current="true"' in _header(_cart(first, shop))


def test_the_cart_badge_and_the_login_link_are_the_visitor_s(
    client, shop, product, add_to_cart, make_user
):
    assert 'badge badge-empty" aria-hidden="true">0<' in _header(_cart(client, shop))
    add_to_cart(shop, product.variants.get(), 2)

    assert 'class="badge" aria-hidden="true">2<' in _header(_cart(client, shop))
    fan = Client()
    fan.force_login(make_user())
    header = _header(_cart(fan, shop))
    account_link = f'href="{reverse("accounts:home")}"'
    assert "badge-empty" in header and account_link in header
    assert account_link not in _header(_cart(client, shop))


def test_a_page_with_a_query_string_gets_its_own_escaped_header(client, shop):
    """Not kept (a query string makes a page seldom asked for twice), and escaped as any."""
    path = reverse("storefront:cart", args=[shop.slug])

    html = client.get(path + '?x="><script>alert(1)</script>').text

    header = _header(html)
    assert "<script>alert(1)</script>" not in header
    assert "%3Fx%3D%2522%253E%253Cscript%253Ealert%281%29%253C/script%253E" in header


def test_each_page_s_header_leads_back_to_that_page_after_logging_in(client, shop, product):
    cart_path = reverse("storefront:cart", args=[shop.slug])
    product_path = reverse("storefront:product", args=[shop.slug, product.slug])
    _cart(client, shop)

    cart_header = _header(client.get(cart_path).text)
    product_header = _header(client.get(product_path).text)

    assert f"?next={cart_path}" in cart_header and f"?next={product_path}" in product_header
