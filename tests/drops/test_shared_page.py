"""The page of an open or sold-out drop that every visitor with nothing of their own on it sees is
rendered once and kept for a moment: each visitor still gets their own CSRF token, cart badge,
clock and typed address, and a visitor with a hold or a place on the waitlist gets their own
page. The many "sold out" answers to reserving come from it too."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client

from kinfolk.drops.services import hold_take
from tests.drops.fan_browser import KOREAN, drop_url, reserve

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _without_tokens(html: str) -> str:
    """Return the page without its CSRF token (in its forms and its htmx headers)."""
    return html.replace(TOKEN.search(html).group(1), "")


def test_two_visitors_see_one_page_each_with_their_own_token(edition, moving_clock):
    """Given an open drop, when two new visitors open its page, then both see the same page but
    for their own CSRF token, which each can reserve with."""
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)

    one = first.get(drop_url("drop", edition)).text
    other = second.get(drop_url("drop", edition)).text

    assert "3 of 3 left" in one and "Reserve a copy" in one
    assert _without_tokens(one) == _without_tokens(other)
    assert TOKEN.search(one).group(1) != TOKEN.search(other).group(1)
    for client, html, email in ((first, one, "a@example.com"), (second, other, "b@example.com")):
        token = TOKEN.search(html).group(1)
        response = client.post(
            drop_url("drop-reserve", edition), {"email": email, "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 303


def test_the_kept_page_follows_the_copies_left(client, edition, moving_clock):
    """Given a visitor who saw 3 of 3 left, when another fan holds a copy and the counts are
    read again, then the next visitor sees 2 of 3 left, not the kept page."""
    assert "3 of 3 left" in client.get(drop_url("drop", edition)).text

    hold_take(shop=edition.shop, edition=edition, email="first@example.com")
    cache.clear()  # the counts every fan's page reads are kept a moment: read them afresh

    assert "2 of 3 left" in Client().get(drop_url("drop", edition)).text


def test_a_visitor_with_a_hold_sees_their_hold_not_the_shared_page(client, edition, moving_clock):
    """Given a fan who reserved, when they open the drop's page again, then it shows their
    hold, while a new visitor sees the reserve form."""
    Client().get(drop_url("drop", edition))  # the page every visitor sees is kept
    assert reserve(client, edition, "minji@example.com").status_code == 303

    mine = client.get(drop_url("drop", edition)).text
    theirs = Client().get(drop_url("drop", edition)).text

    assert "You hold a copy" in mine and "Reserve a copy" not in mine
    assert "Reserve a copy" in theirs and "You hold a copy" not in theirs


def test_sold_out_answers_show_the_waitlist_with_each_fan_s_own_address(make_edition, moving_clock):
    """Given a sold-out drop, when two fans try to reserve, then each is told it is sold out,
    offered the waitlist with the address they typed (escaped) in its form."""
    edition = make_edition(1)
    hold_take(shop=edition.shop, edition=edition, email="first@example.com")

    one = reserve(Client(), edition, "o'brien@example.com")
    other = reserve(Client(), edition, "kim@example.com")

    for response, shown in ((one, "o&#x27;brien@example.com"), (other, "kim@example.com")):
        assert response.status_code == 409
        html = response.text
        assert "Sold out: every copy is sold or held." in html
        assert "Join the waitlist" in html
        assert f'value="{shown}"' in html
    assert "kim@example.com" not in one.text and "brien" not in other.text


def test_a_fan_on_the_waitlist_sees_their_place_not_the_shared_page(
    client, make_edition, moving_clock
):
    """Given a sold-out drop whose page was kept for every visitor, when a fan joins the
    waitlist and opens the page again, then it says they are on it."""
    edition = make_edition(1)
    hold_take(shop=edition.shop, edition=edition, email="first@example.com")
    assert "Join the waitlist" in Client().get(drop_url("drop", edition)).text

    joined = client.post(drop_url("drop-waitlist", edition), {"email": "minji@example.com"})
    assert joined.status_code in (200, 303)

    assert "You&#x27;re on the waitlist." in client.get(drop_url("drop", edition)).text


def test_each_language_has_its_own_kept_page(edition, moving_clock):
    """Given the English page kept, then a Korean reader still gets the Korean page."""
    english = Client().get(drop_url("drop", edition)).text
    korean = Client().get(drop_url("drop", edition), **KOREAN).text

    assert "Reserve a copy" in english
    assert "Reserve a copy" not in korean and 'lang="ko"' in korean


def test_the_kept_page_is_served_without_rendering_it_again(
    edition, moving_clock, django_assert_max_num_queries
):
    """Given the page kept, then another visitor's view reads only the shop and the edition and
    renders no template (its cart badge is kept too)."""
    first = Client().get(drop_url("drop", edition))
    assert "storefront/drop.html" in [template.name for template in first.templates]

    with django_assert_max_num_queries(2):
        response = Client().get(drop_url("drop", edition))

    assert "3 of 3 left" in response.text
    assert [template.name for template in response.templates] == []
