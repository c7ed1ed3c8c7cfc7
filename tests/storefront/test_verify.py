"""The public verification page of certificates: what it tells about a code, and to whom."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from kinfolk.core import clock
from kinfolk.drops.certificates import display_code
from kinfolk.drops.models import Copy
from kinfolk.drops.services import (
    copies_free_for_order,
    copy_sell,
    edition_create,
    hold_take,
)
from tests.drops.conftest import order_for

pytestmark = pytest.mark.django_db
NOT_FOUND = "This code does not match any certificate"


@pytest.fixture
def make_sold_copy(make_product):
    """Return a function that sells the next copy of a 3-copy edition of ``shop``."""
    editions = {}

    def sell(shop, email: str = "minji@example.com", *, name: str = "Deluxe Edition") -> Copy:
        if shop.pk not in editions:
            product = make_product(shop, name=name, price=750000, stock=None)
            editions[shop.pk] = edition_create(
                shop=shop,
                product=product,
                variant=product.variants.get(),
                size=3,
                opens_at=clock.now() - dt.timedelta(hours=1),
            )
        edition = editions[shop.pk]
        hold = hold_take(shop=shop, edition=edition, email=email).hold
        return copy_sell(shop=shop, token=hold.token, order=order_for(shop, edition, email))

    return sell


def verify_url(code: str) -> str:
    return reverse("storefront:verify", args=[code])


def test_a_valid_code_shows_the_copy_and_only_the_owners_first_name(
    client, shop, make_sold_copy, django_assert_max_num_queries
):
    """Given copy No. 1 sold to 김민지 (an address in Seoul, an order number, an e-mail), when
    anyone opens its code's page, then it shows the edition, "No. 1 of 3", the shop, the day
    and "김*지" — and neither the full name, the e-mail, the order number nor the address."""
    copy = make_sold_copy(shop, "minji@example.com", name="한정판 디럭스")

    with django_assert_max_num_queries(2):
        response = client.get(verify_url(copy.verification_code))

    assert response.status_code == 200
    page = response.content.decode()
    assert "This certificate is genuine" in page
    assert "한정판 디럭스" in page
    assert "No. 1 of 3" in page
    assert shop.name in page
    assert "김*지" in page
    assert display_code(copy.verification_code) in page
    for private in ("김민지", "minji@example.com", copy.order.number, "세종대로"):
        assert private not in page


def test_codes_are_found_whatever_the_case_and_dashes(client, shop, make_sold_copy):
    """Given a code typed in lower case with dashes, in the address or in the form, then the
    visitor lands on the code's one address, which verifies."""
    copy = make_sold_copy(shop)
    typed = display_code(copy.verification_code).lower()

    from_address = client.get(verify_url(typed))
    from_form = client.get(reverse("storefront:verify-form"), {"code": f" {typed} "})

    assert from_address.status_code == from_form.status_code == 302
    assert from_address["Location"] == from_form["Location"] == verify_url(copy.verification_code)
    assert client.get(from_form["Location"]).status_code == 200


def test_the_form_keeps_a_malformed_code_and_says_what_is_wrong(client):
    """Given a code of the wrong length typed into the form, then the form comes back with the
    typed text and a message beside the field (400), not a lookup."""
    empty = client.get(reverse("storefront:verify-form"))
    response = client.get(reverse("storefront:verify-form"), {"code": "ABC-123"})

    assert empty.status_code == 200
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="ABC-123"' in page
    assert "A verification code has 12 letters and digits" in page
    assert 'aria-invalid="true"' in page


@pytest.mark.parametrize("how", ["refund", "cancel"])
def test_a_code_voided_by_a_refund_or_cancellation_matches_nothing(
    client, shop, make_sold_copy, how
):
    """Given a sold copy whose order is then refunded or cancelled (the copy freed), when its
    old code is checked, then the page says the code matches no certificate (404), and the copy's
    new code matches nothing either while the copy is unsold."""
    copy = make_sold_copy(shop)
    old_code = copy.verification_code

    copies_free_for_order(shop=shop, order=copy.order)

    copy.refresh_from_db()
    assert copy.state == Copy.State.FREE and copy.verification_code != old_code
    for code in (old_code, copy.verification_code):
        response = client.get(verify_url(code))
        assert response.status_code == 404
        assert NOT_FOUND in response.content.decode()


@pytest.mark.parametrize(
    "junk",
    [
        "ABCDEFGHJKMN",  # well formed, never issued
        "0000",
        "x" * 5000,
        "%00",
        '"><img src=x onerror=alert(1)>',
        "' OR 1=1 --",
        "김민지",
        "..",
        "ＡＢＣ",
    ],
)
def test_junk_codes_get_a_plain_answer_never_an_error(client, junk, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get(f"/verify/{junk}/")

    assert response.status_code == 404
    page = response.content.decode()
    assert NOT_FOUND in page
    assert "<img src=x" not in page


def test_codes_are_global_each_shop_answers_for_its_own_copies(
    client, shop, make_shop, make_sold_copy
):
    """Given copies sold by two shops, then each code verifies with its own shop's name and
    edition, and neither page names the other shop."""
    other = make_shop("other-shop", name="Other Records")
    mine = make_sold_copy(shop, name="Moon Deluxe")
    theirs = make_sold_copy(other, "ada@example.com", name="Sun Deluxe")

    mine_page = client.get(verify_url(mine.verification_code)).content.decode()
    their_page = client.get(verify_url(theirs.verification_code)).content.decode()

    assert "Moon Deluxe" in mine_page and shop.name in mine_page
    assert "Sun Deluxe" not in mine_page and other.name not in mine_page
    assert "Sun Deluxe" in their_page and other.name in their_page
    assert "ada@example.com" not in their_page


def test_the_page_reads_in_korean(client, shop, make_sold_copy):
    copy = make_sold_copy(shop)
    client.cookies["django_language"] = "ko"

    response = client.get(verify_url(copy.verification_code), HTTP_ACCEPT_LANGUAGE="ko")

    assert response.status_code == 200
    assert '<html lang="ko"' in response.content.decode()


def test_no_shop_can_take_the_verification_address(make_shop):
    from django.core.exceptions import ValidationError

    from kinfolk.shops.models import validate_shop_slug

    with pytest.raises(ValidationError):
        validate_shop_slug("verify")
