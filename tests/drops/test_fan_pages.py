"""The fan's drop pages in English and Korean: the countdown page cached for everyone until the
opening, reserve → checkout with the hold's timer → the copy's number on the order and in the
library, the sold-out page with its waitlist, the hold page of an offer, giving a copy back.
Bad input and abuse: test_fan_abuse.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from kinfolk.catalog.services import product_update
from kinfolk.drops.models import Copy, Hold, WaitlistEntry
from kinfolk.drops.services import hold_take, waitlist_join, waitlist_offer_freed
from kinfolk.drops.services.checkout import hold_attach_order
from kinfolk.orders.models import Order
from kinfolk.orders.services.lifecycle import order_mark_paid
from tests.drops.conftest import OPENS, order_for
from tests.drops.fan_browser import HTMX, KOREAN, drop_url, login, place, reserve

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: cached pages, counts and rate-limit counters."""
    cache.clear()
    yield
    cache.clear()


# --- Before opening -------------------------------------------------------------------------


def test_before_opening_the_page_counts_down_in_the_shop_s_time_zone(client, edition, moving_clock):
    """Given a drop opening in an hour, when a fan opens its page, then it counts down from the
    server's clock to the opening, names the opening time in the shop's time zone, and lets the
    browser keep it until the opening (and no longer)."""
    moving_clock.advance(hours=-1)

    response = client.get(drop_url("drop", edition))

    assert response.status_code == 200
    html = response.text
    assert "Opens in" in html and "Reserve a copy" not in html
    assert 'data-countdown="2026-12-01T12:00:00+00:00"' in html
    assert f'data-server-now="{moving_clock.now.isoformat()}"' in html
    assert "Dec. 1, 2026, 9 p.m. (Asia/Seoul)" in html
    assert "max-age=3600" in response["Cache-Control"]


def test_before_opening_the_korean_page_shows_korean_dates(client, edition, moving_clock):
    """Given a Korean reader, then the page is in Korean, with the date written the Korean way."""
    moving_clock.advance(hours=-1)

    html = client.get(drop_url("drop", edition), **KOREAN).text

    assert '<html lang="ko"' in html
    assert "2026년 12월 1일" in html


def test_before_opening_everyone_gets_the_cached_page_without_a_query(
    client, edition, moving_clock, django_assert_max_num_queries
):
    """Given the page before opening served once, when fans ask for it again, then it comes
    from the cache with no database query, each with their own CSRF token and clock."""
    moving_clock.advance(hours=-1)
    first = client.get(drop_url("drop", edition))
    moving_clock.advance(seconds=30)
    client.cookies.clear()

    with django_assert_max_num_queries(0):
        second = client.get(drop_url("drop", edition))

    assert second.status_code == 200
    assert f'data-server-now="{moving_clock.now.isoformat()}"' in second.text
    assert "csrf-slot" not in second.text and "now-slot" not in second.text
    assert "max-age=3570" in second["Cache-Control"]
    assert first.text.count("Opens in") == second.text.count("Opens in") == 1


def test_the_cached_page_is_never_served_after_the_opening(client, edition, moving_clock):
    """Given the countdown page cached a second before opening, when the drop opens, then the
    next visitor gets the open drop."""
    moving_clock.advance(seconds=-2)
    assert "Opens in" in client.get(drop_url("drop", edition)).text

    moving_clock.advance(seconds=2)

    assert "Reserve a copy" in client.get(drop_url("drop", edition)).text


def test_reserving_before_opening_is_refused_and_nothing_held(client, edition, moving_clock):
    moving_clock.advance(minutes=-5)

    response = reserve(client, edition)

    assert response.status_code == 409
    assert "has not opened yet" in response.text
    assert not Hold.objects.exists()


# --- Open: reserve, checkout, pay ------------------------------------------------------------


def test_the_open_page_shows_copies_left_in_few_queries(
    client, shop, edition, moving_clock, django_assert_max_num_queries
):
    """Given an open drop with one copy held, then its page says 2 of 3 left and offers
    "Reserve a copy", in a fixed small number of queries."""
    hold_take(shop=shop, edition=edition, email="first@example.com")

    # The shop, the edition with its product, its images, the count of copies by state (the
    # shop and the count are cached for a moment: a fan in the rush mostly pays for two).
    with django_assert_max_num_queries(4):
        response = client.get(drop_url("drop", edition))

    assert "2 of 3 left" in response.text
    assert "Reserve a copy" in response.text
    assert "private" not in response.get("Cache-Control", "")


def test_copies_left_is_polled_and_asks_for_a_reload_when_the_phase_changes(
    client, shop, make_edition, moving_clock
):
    edition = make_edition(1)
    fragment = client.get(drop_url("drop-left", edition) + "?p=open", **HTMX)
    assert fragment.status_code == 200 and "1 of 1 left" in fragment.text

    hold_take(shop=shop, edition=edition, email="first@example.com")
    cache.clear()
    changed = client.get(drop_url("drop-left", edition) + "?p=open", **HTMX)

    assert changed.status_code == 204 and changed["HX-Refresh"] == "true"


def test_reserving_holds_a_copy_and_leads_to_checkout_with_its_timer(
    client, shop, edition, moving_clock
):
    """Given an open drop, when a guest reserves with their e-mail address, then a copy is held
    for them, their cart holds one copy and checkout shows the hold's timer and their address."""
    response = reserve(client, edition, "Minji@Example.com ")

    assert response.status_code == 303
    assert response["Location"] == reverse("storefront:checkout", args=[shop.slug])
    hold = Hold.objects.get()
    assert hold.email == "minji@example.com" and hold.is_live(moving_clock.now)
    checkout = client.get(response["Location"]).text
    assert "Your copy is held for 10:00" in checkout
    assert 'value="minji@example.com"' in checkout
    assert 'Deluxe Edition <span class="muted">× 1</span>' in checkout


def test_reserving_from_two_tabs_keeps_one_hold_and_says_so(client, edition, moving_clock):
    reserve(client, edition)
    moving_clock.advance(minutes=2)

    again = reserve(client, edition)

    assert again.status_code == 303
    assert Hold.objects.count() == 1
    page = client.get(again["Location"]).text
    assert "You already hold a copy" in page
    assert "Your copy is held for 8:00" in page


def test_placing_the_order_attaches_the_hold_and_paying_shows_the_number(
    client, shop, edition, moving_clock
):
    """Given a fan who reserved, when they place the order and it is paid, then the order page
    and their account's library show "No. 1 of 3"."""
    fan = login(client, "minji@example.com")
    reserve(client, edition)

    placed = place(client, shop)

    assert placed.status_code == 303
    order = Order.objects.get()
    assert Hold.objects.get().order == order
    order_mark_paid(shop=shop, order=order)
    page = client.get(reverse("storefront:order", args=[shop.slug, order.number])).text
    assert "No. 1 of 3" in page
    library = client.get(reverse("accounts:home")).text
    assert "No. 1 of 3" in library
    assert order.account == fan


def test_the_order_page_shows_the_number_in_korean_too(client, shop, edition, moving_clock):
    reserve(client, edition)
    place(client, shop)
    order = Order.objects.get()
    order_mark_paid(shop=shop, order=order)

    url = reverse("storefront:order", args=[shop.slug, order.number])
    html = client.get(f"{url}?t={order.access_token}", **KOREAN).text

    with translation.override("ko"):
        number = translation.gettext("No. %(number)s of %(size)s") % {"number": 1, "size": 3}
    assert '<html lang="ko"' in html
    assert number in html


def test_the_library_lists_many_drop_orders_in_a_fixed_number_of_queries(
    client, shop, make_edition, moving_clock, django_assert_max_num_queries
):
    """Given a fan with one numbered copy, then adding more orders with copies does not add
    queries to their account page."""
    fan = login(client, "collector@example.com")

    def buy(name):
        edition = make_edition(5, name=name)
        hold = hold_take(shop=shop, edition=edition, email=fan.email, account=fan).hold
        order = order_for(shop, edition, fan.email)
        Order.objects.filter(pk=order.pk).update(account=fan)
        hold_attach_order(shop=shop, token=hold.token, order=order)
        order_mark_paid(shop=shop, order=order)

    buy("First Edition")
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("accounts:home"))
    for n in range(4):
        buy(f"Edition {n}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("accounts:home")).text

    assert html.count("No. 1 of 5") == 5


# --- Sold out, waitlist, offers, giving back ------------------------------------------------


def test_a_sold_out_drop_offers_its_waitlist_and_remembers_the_fan_on_it(
    client, shop, make_edition, moving_clock
):
    edition = make_edition(1)
    hold_take(shop=shop, edition=edition, email="first@example.com")

    page = client.get(drop_url("drop", edition)).text
    joined = client.post(drop_url("drop-waitlist", edition), {"email": "next@example.com"}, **HTMX)

    assert "Sold out" in page and "Join the waitlist" in page
    assert joined.status_code == 200 and "You're on the waitlist." in joined.text
    assert WaitlistEntry.objects.get().email == "next@example.com"
    assert "You're on the waitlist." in client.get(drop_url("drop", edition)).text
    client.post(drop_url("drop-waitlist-leave", edition))
    assert WaitlistEntry.objects.get().status == WaitlistEntry.Status.LEFT
    assert "Join the waitlist" in client.get(drop_url("drop", edition)).text


def test_the_waitlist_is_only_for_a_sold_out_drop(client, edition, moving_clock):
    response = client.post(drop_url("drop-waitlist", edition), {"email": "next@example.com"})

    assert response.status_code == 303
    assert not WaitlistEntry.objects.exists()


def test_an_offer_link_opens_the_held_copy_and_leads_to_checkout(
    client, shop, make_edition, moving_clock
):
    """Given a fan on the waitlist offered a freed copy, when they open the e-mail's link in any
    browser and choose to buy, then checkout holds the copy for them with its timer."""
    edition = make_edition(1)
    first = hold_take(shop=shop, edition=edition, email="first@example.com").hold
    waitlist_join(shop=shop, edition=edition, email="next@example.com")
    from kinfolk.drops.services import hold_release

    hold_release(shop=shop, token=first.token, email="first@example.com")
    [entry] = waitlist_offer_freed(shop=shop, edition=edition)

    page = client.get(drop_url("drop-hold", edition, entry.offer.token))
    bought = client.post(drop_url("drop-hold-claim", edition, entry.offer.token))

    assert page.status_code == 200 and "A copy is held for you" in page.text
    assert bought.status_code == 303
    checkout = client.get(bought["Location"]).text
    assert "Your copy is held for 10:00" in checkout and 'value="next@example.com"' in checkout


def test_giving_a_copy_back_frees_it_and_empties_the_cart(client, shop, edition, moving_clock):
    reserve(client, edition)
    hold = Hold.objects.get()

    response = client.post(drop_url("drop-hold-release", edition, hold.token))

    assert response.status_code == 303
    hold.refresh_from_db()
    assert hold.status == Hold.Status.RELEASED
    assert set(Copy.objects.filter(edition=edition).values_list("state", flat=True)) == {"free"}
    page = client.get(response["Location"]).text
    assert "You gave your copy back" in page and "Reserve a copy" in page
    assert "Your cart is empty" in client.get(reverse("storefront:cart", args=[shop.slug])).text


def test_an_unknown_drop_or_a_draft_product_is_not_found(client, shop, edition, moving_clock):
    missing = reverse("storefront:drop", args=[shop.slug, "no-such-drop"])
    assert client.get(missing).status_code == 404
    product_update(shop=shop, product=edition.product, status="draft")

    assert client.get(drop_url("drop", edition)).status_code == 404


def test_in_early_access_only_the_chosen_fans_reserve(client, make_edition, moving_clock):
    """Given early access for a list of fans an hour before opening, when a chosen fan and
    another fan reserve during it, then the chosen fan holds a copy and the other is told the
    drop opens to everyone soon, with the countdown to that."""
    edition = make_edition(
        3,
        early_access="list",
        early_access_opens_at=OPENS - dt.timedelta(hours=1),
        early_access_emails=["chosen@example.com"],
    )
    moving_clock.advance(minutes=-30)

    page = client.get(drop_url("drop", edition)).text
    refused = reserve(client, edition, "someone@example.com")
    chosen = reserve(client, edition, "chosen@example.com")

    assert "Early access is open" in page and 'data-countdown="2026-12-01T12:00:00+00:00"' in page
    assert refused.status_code == 409 and "chosen fans" in refused.text
    assert chosen.status_code == 303
    assert list(Hold.objects.values_list("email", flat=True)) == ["chosen@example.com"]


def test_a_logged_in_fan_reserves_with_their_own_address(client, edition, moving_clock):
    fan = login(client, "minji@example.com")

    response = client.post(drop_url("drop-reserve", edition), {"email": "ignored@example.com"})

    assert response.status_code == 303
    hold = Hold.objects.get()
    assert hold.email == "minji@example.com" and hold.account == fan


def test_an_editions_product_page_sends_fans_to_the_drop_instead_of_the_cart(
    client, shop, make_edition
):
    """Given a product sold as a numbered edition, its product page offers no add-to-cart form
    but a link to the drop page, where copies are reserved."""
    edition = make_edition(5)
    url = reverse("storefront:product", args=[shop.slug, edition.product.slug])

    html = client.get(url).text

    assert reverse("storefront:drop", args=[shop.slug, edition.product.slug]) in html
    assert reverse("storefront:cart-add", args=[shop.slug]) not in html
