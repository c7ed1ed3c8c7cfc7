"""Certificates of authenticity: what the PDF says, and who may download it."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from kinfolk.crm.models import Customer
from kinfolk.drops.certificates import (
    Certificate,
    certificate_for,
    certificate_pdf,
    display_code,
    normalize_code,
    owner_name,
    public_name,
)
from kinfolk.drops.models import Copy, new_verification_code
from kinfolk.drops.services import copies_free_for_order, copy_sell, hold_take
from kinfolk.orders.models import Order
from kinfolk.orders.services import cart as carts
from kinfolk.orders.services.checkout import order_place
from tests.drops.conftest import order_for

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def sell(shop, edition, email: str, *, order=None) -> Copy:
    """Hold a copy for ``email`` and pay for it with ``order`` (a new one by default)."""
    hold = hold_take(shop=shop, edition=edition, email=email).hold
    return copy_sell(shop=shop, token=hold.token, order=order or order_for(shop, edition, email))


def order_with_account(shop, edition, account) -> Order:
    """Place an order of one copy while logged in as ``account``."""
    cart = carts.cart_get_or_create(shop=shop, token=None)
    carts.cart_add(shop=shop, cart=cart, variant_id=edition.variant_id, quantity=1)
    return order_place(
        shop=shop,
        cart=cart,
        email=account.email,
        address={
            "name": "Ada Lovelace",
            "street_address": "세종대로 110",
            "city": "중구",
            "country_area": "서울특별시",
            "postal_code": "04524",
            "country_code": "KR",
        },
        payment_provider="manual",
        idempotency_key=uuid.uuid4().hex,
        return_url_for=lambda order: "http://testserver/",
        account=account,
    ).order


def test_certificate_holds_the_number_the_edition_and_a_korean_owner(
    shop, make_edition, moving_clock
):
    """Given copy No. 1 of a Korean-named edition sold to 김민지, when its certificate is drawn,
    then the PDF's text holds the edition, the shop, "No. 1 of 3", the owner's Korean name, the
    code and the verification address."""
    edition = make_edition(3, name="한정판 디럭스 에디션")
    copy = sell(shop, edition, "minji@example.com")
    url = f"https://kinfolk.example/verify/{copy.verification_code}/"

    with translation.override("en"):
        certificate = certificate_for(copy, shop=shop, order=copy.order, verify_url=url)
        text = pdf_text(certificate_pdf(certificate))

    assert "한정판 디럭스 에디션" in text
    assert shop.name in text
    assert "No. 1 of 3" in text
    assert "김민지" in text
    assert display_code(copy.verification_code) in text
    assert url in text


def test_the_date_of_sale_is_the_shops_local_date(shop, make_edition, moving_clock):
    """Given a shop in Seoul and a copy sold at 16:00 UTC on 1 December (01:00 on the 2nd in
    Seoul), when the certificate is drawn, then it says it was sold on 2 December."""
    edition = make_edition(3)
    moving_clock.now = dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC)
    copy = sell(shop, edition, "late@example.com")

    with translation.override("en"):
        certificate = certificate_for(copy, shop=shop, order=copy.order, verify_url="https://x/")
        text = pdf_text(certificate_pdf(certificate))

    assert certificate.sold_on == dt.date(2026, 12, 2)
    assert "Dec. 2, 2026" in text


def test_a_certificate_without_a_name_names_the_holder_and_long_names_still_fit():
    """Given an order whose fan gave no name, and an edition with a very long name, when the
    certificate is drawn, then it is owned by "the holder" and the drawing does not fail."""
    order = Order(shipping_address={}, customer=Customer(name=""))
    certificate = Certificate(
        shop_name="Moonlit",
        edition_name="Deluxe " * 40,
        number=1999,
        size=2000,
        owner=owner_name(order),
        sold_on=dt.date(2026, 12, 1),
        code="ABCDEFGHJKMN",
        verify_url="https://kinfolk.example/verify/ABCDEFGHJKMN/",
    )

    with translation.override("en"):
        text = pdf_text(certificate_pdf(certificate))

    assert "the holder" in text
    assert "No. 1,999 of 2,000" in text


def test_the_certificate_is_drawn_in_korean_too(shop, make_edition, moving_clock):
    """Given the Korean interface, when a certificate is drawn, then it is a PDF that still holds
    the owner's name and the number."""
    edition = make_edition(2000)
    copy = sell(shop, edition, "minji@example.com")

    with translation.override("ko"):
        certificate = certificate_for(copy, shop=shop, order=copy.order, verify_url="https://x/")
        pdf = certificate_pdf(certificate)

    assert pdf.startswith(b"%PDF")
    assert "김민지" in pdf_text(pdf)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ABCDEFGHJKMN", "ABCDEFGHJKMN"),
        ("abcd-efgh-jkmn", "ABCDEFGHJKMN"),
        ("  abcd efgh\tjkmn ", "ABCDEFGHJKMN"),
        ("ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮ", "ABCDEFGHJKMN"),  # typed with a Korean input method
        ("ABCD—EFGH—JKMN", "ABCDEFGHJKMN"),
        ("ABCDEFGHJKM", None),  # one short
        ("ABCDEFGHJKMNP", None),  # one too many
        ("ABCDEFGHJKM0", None),  # 0 is never printed (looks like O)
        ("'; DROP TABLE drops_copy; --", None),
        ("x" * 10_000, None),
        ("", None),
        (None, None),
    ],
)
def test_codes_are_read_whatever_the_case_spaces_and_dashes(typed, expected):
    assert normalize_code(typed) == expected


def test_every_new_code_reads_as_itself():
    """The alphabet the certificates read matches the one the codes are made of."""
    for _ in range(200):
        code = new_verification_code()
        assert normalize_code(code) == code
        assert normalize_code(display_code(code).lower()) == code


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Ada Lovelace", "Ada L."),
        ("Mary  Ann   Evans", "Mary E."),
        ("Prince", "Prince"),
        ("김민지", "김*지"),
        ("김 민지", "김*지"),
        ("남궁민수", "남**수"),
        ("이안", "이*"),
        ("", ""),
    ],
)
def test_public_names_show_the_first_name_and_an_initial(name, shown):
    assert public_name(name) == shown


def test_the_owner_downloads_the_certificate_with_the_orders_link(
    client, shop, make_edition, moving_clock
):
    """Given a sold copy, when the fan opens the certificate link with the order's access token,
    then a PDF named after the edition and the number downloads, and it names the copy."""
    edition = make_edition(3, name="Deluxe Edition")
    copy = sell(shop, edition, "minji@example.com")
    url = reverse(
        "storefront:drop_certificate",
        kwargs={"shop": shop.slug, "number": copy.order.number, "copy_id": copy.pk},
    )

    response = client.get(url, {"t": copy.order.access_token})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    slug = edition.product.slug
    assert response["Content-Disposition"] == f'attachment; filename="certificate-{slug}-1.pdf"'
    assert "private" in response["Cache-Control"]
    text = pdf_text(response.content)
    assert "No. 1 of 3" in text
    assert f"/verify/{copy.verification_code}/" in text


def test_the_account_that_placed_the_order_downloads_it_without_the_token(
    client, shop, make_edition, make_user, moving_clock
):
    edition = make_edition(3)
    fan = make_user("ada@example.com")
    copy = sell(shop, edition, fan.email, order=order_with_account(shop, edition, fan))
    url = reverse(
        "storefront:drop_certificate",
        kwargs={"shop": shop.slug, "number": copy.order.number, "copy_id": copy.pk},
    )
    client.force_login(fan)

    response = client.get(url)

    assert response.status_code == 200
    assert "Ada Lovelace" in pdf_text(response.content)


def test_nobody_else_gets_the_certificate(client, shop, make_edition, make_user, moving_clock):
    """Given two fans' sold copies, then without the token, with another order's token, as
    another account, for the other fan's copy through one's own order, and after the order was
    refunded (the copy freed), the answer is 404."""
    edition = make_edition(3)
    mine = sell(shop, edition, "mine@example.com")
    theirs = sell(shop, edition, "theirs@example.com")

    def get(copy_id, token=None, number=None):
        url = reverse(
            "storefront:drop_certificate",
            kwargs={"shop": shop.slug, "number": number or mine.order.number, "copy_id": copy_id},
        )
        return client.get(url, {"t": token} if token else {})

    assert get(mine.pk).status_code == 404
    assert get(mine.pk, theirs.order.access_token).status_code == 404
    assert get(theirs.pk, mine.order.access_token).status_code == 404
    assert get(mine.pk, mine.order.access_token, number="NOSUCH").status_code == 404
    client.force_login(make_user("stranger@example.com"))
    assert get(mine.pk).status_code == 404
    client.logout()
    assert get(mine.pk, mine.order.access_token).status_code == 200

    copies_free_for_order(shop=shop, order=mine.order)

    assert get(mine.pk, mine.order.access_token).status_code == 404


def test_lines_that_mix_hangul_and_latin_read_whole():
    """Given an edition and an owner named in Hangul and Latin letters (drawn in two fonts),
    then each line of the PDF's text reads as typed."""
    certificate = Certificate(
        shop_name="Moonlit",
        edition_name="한정판 디럭스 LP — Deluxe Edition",
        number=7,
        size=50,
        owner="김민지 (Minji Kim)",
        sold_on=dt.date(2026, 12, 1),
        code="ABCDEFGHJKMN",
        verify_url="https://kinfolk.example/verify/ABCDEFGHJKMN/",
    )

    with translation.override("en"):
        lines = pdf_text(certificate_pdf(certificate)).splitlines()

    assert "한정판 디럭스 LP — Deluxe Edition" in lines
    assert "김민지 (Minji Kim)" in lines
