"""Bad input and abuse on the fan's drop pages, each answered clearly with nothing changed:
reserving out of the window, over the limit, with a bad or someone else's address, a tampered or
someone else's hold token, checking out without one's own live hold, and bots hammering reserve
(rate-limited per IP and per address, in the reader's language, without slowing other fans)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse

from kinfolk.drops.models import Hold
from kinfolk.drops.services import hold_take
from kinfolk.drops.services.checkout import hold_attach_order
from kinfolk.orders.models import Order
from kinfolk.orders.services.lifecycle import order_mark_paid
from tests.drops.conftest import OPENS, order_for
from tests.drops.fan_browser import KOREAN, checkout_form, drop_url, place, reserve

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: rate-limit counters and cached counts."""
    cache.clear()
    yield
    cache.clear()


def test_a_bad_email_is_refused_beside_the_field_and_kept(client, edition, moving_clock):
    response = reserve(client, edition, "not-an-address")

    assert response.status_code == 400
    assert "Enter a valid e-mail address" in response.text
    assert 'value="not-an-address"' in response.text
    assert not Hold.objects.exists()


def test_reserving_after_closing_is_refused(client, make_edition, moving_clock):
    edition = make_edition(2, closes_at=OPENS + dt.timedelta(hours=1))
    moving_clock.advance(hours=2)

    response = reserve(client, edition)

    assert response.status_code == 409 and "This drop has closed" in response.text
    assert not Hold.objects.exists()


def test_reserving_over_the_per_fan_limit_is_refused(client, shop, edition, moving_clock):
    """Given a fan who already bought the one copy allowed per fan, when they reserve again,
    then they are told so and nothing is held."""
    hold = hold_take(shop=shop, edition=edition, email="minji@example.com").hold
    order = order_for(shop, edition, "minji@example.com")
    hold_attach_order(shop=shop, token=hold.token, order=order)
    order_mark_paid(shop=shop, order=order)

    response = reserve(client, edition)

    assert response.status_code == 409
    assert "most copies of this edition one fan may buy" in response.text
    assert Hold.objects.count() == 1


def test_another_person_s_address_does_not_hand_over_their_hold(
    client, shop, edition, moving_clock
):
    """Given a fan holding a copy, when someone else types their address, then they get no hold
    token (nor a way to give the copy back) and the fan's hold is untouched."""
    hold_take(shop=shop, edition=edition, email="minji@example.com")

    response = reserve(client, edition)

    assert response.status_code == 409
    assert "already holds a copy" in response.text
    assert client.session.get("drop_holds") in (None, {})
    assert Hold.objects.get().status == Hold.Status.ACTIVE


def test_an_unknown_or_tampered_hold_token_is_a_404_page_leading_back_to_the_drop(
    client, shop, edition, moving_clock
):
    reserve(client, edition)
    hold = Hold.objects.get()
    tampered = hold.token[:-1] + ("0" if hold.token[-1] != "0" else "1")

    for url in (
        drop_url("drop-hold", edition, tampered),
        drop_url("drop-hold", edition, "x" * 500),
    ):
        page = client.get(url)
        assert page.status_code == 404
        assert drop_url("drop", edition) in page.text
    refused = client.post(drop_url("drop-hold-release", edition, tampered))
    assert refused.status_code == 404
    assert Hold.objects.get().status == Hold.Status.ACTIVE


def test_another_browser_cannot_see_or_give_back_a_reserved_hold(
    client, shop, edition, moving_clock
):
    hold = hold_take(shop=shop, edition=edition, email="minji@example.com").hold

    assert client.get(drop_url("drop-hold", edition, hold.token)).status_code == 404
    assert client.post(drop_url("drop-hold-release", edition, hold.token)).status_code == 404
    assert client.post(drop_url("drop-hold-claim", edition, hold.token)).status_code == 404
    hold.refresh_from_db()
    assert hold.status == Hold.Status.ACTIVE


def test_checkout_refuses_an_edition_in_the_cart_without_the_fan_s_own_hold(
    client, shop, edition, moving_clock
):
    """Given someone else's hold, and a cart with the edition put there from the product page,
    when this fan checks out (even posting the other hold's token), then checkout refuses with a
    link to the drop, and no order is placed."""
    other = hold_take(shop=shop, edition=edition, email="minji@example.com").hold
    client.post(
        reverse("storefront:cart-add", args=[shop.slug]),
        {"product": edition.product.slug, "variant": edition.variant_id, "quantity": 1},
    )

    page = client.get(reverse("storefront:checkout", args=[shop.slug]))
    placed = place(client, shop, hold=other.token)

    assert "Reserve a copy of Deluxe Edition on its drop page first." in page.text
    assert drop_url("drop", edition) in page.text
    assert placed.status_code == 409
    assert not Order.objects.exists()


def test_checkout_refuses_another_address_than_the_hold_s(client, shop, edition, moving_clock):
    reserve(client, edition)

    placed = place(client, shop, email="someone-else@example.com")

    assert placed.status_code == 400
    assert "Use the address you reserved your copy with: minji@example.com." in placed.text
    assert 'value="someone-else@example.com"' in placed.text
    assert not Order.objects.exists()


def test_checkout_refuses_a_hold_that_ran_out(client, shop, edition, moving_clock):
    reserve(client, edition)
    form = checkout_form(client, shop)
    moving_clock.advance(minutes=11)

    placed = client.post(reverse("storefront:checkout", args=[shop.slug]), form)

    assert placed.status_code == 409
    assert "Your hold on Deluxe Edition has run out." in placed.text
    assert not Order.objects.exists()


def test_checkout_refuses_more_than_one_copy_per_hold(client, shop, edition, moving_clock):
    reserve(client, edition)
    client.post(
        reverse("storefront:cart-add", args=[shop.slug]),
        {"product": edition.product.slug, "variant": edition.variant_id, "quantity": 1},
    )

    placed = place(client, shop)

    assert placed.status_code == 400
    assert "set its quantity to 1" in placed.text
    assert not Order.objects.exists()


def test_a_bot_hammering_reserve_is_limited_by_ip_without_slowing_other_fans(
    client, make_edition, moving_clock, settings
):
    """Given a limit of 3 reserve attempts per address and per IP, when one IP keeps posting,
    then it gets a 429 page (in Korean for a Korean reader) and holds nothing more, while a fan
    from another IP still reserves."""
    settings.DROPS_RESERVE_RATE_PER_IP = "3/30d"
    edition = make_edition(10)
    for n in range(3):
        reserve(client, edition, f"bot{n}@example.com", REMOTE_ADDR="203.0.113.9")

    limited = reserve(client, edition, "bot9@example.com", REMOTE_ADDR="203.0.113.9", **KOREAN)
    other = reserve(client, edition, "fan@example.com", REMOTE_ADDR="198.51.100.7")

    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    assert '<html lang="ko"' in limited.text and drop_url("drop", edition) in limited.text
    assert other.status_code == 303
    assert not Hold.objects.filter(email="bot9@example.com").exists()
    assert Hold.objects.filter(email="fan@example.com").exists()


def test_one_address_hammered_from_many_ips_is_limited_too(client, edition, moving_clock, settings):
    settings.DROPS_RESERVE_RATE_PER_EMAIL = "2/30d"
    codes = [
        reserve(client, edition, "target@example.com", REMOTE_ADDR=f"198.51.100.{n}").status_code
        for n in range(1, 5)
    ]

    assert codes[:2] != [429, 429] and codes[2:] == [429, 429]
