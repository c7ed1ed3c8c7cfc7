"""The maker's drops pages: the list, a new drop, changes before it starts, the live drop, owners."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid

import pytest
from django.urls import reverse
from tests.dashboard.factories import US_ADDRESS, new_product, new_shop, new_user

from kinfolk.core import clock
from kinfolk.drops.models import Copy, EarlyAccessFan, Edition
from kinfolk.drops.services import copy_sell, edition_create, hold_take, waitlist_join
from kinfolk.orders.services import cart as carts
from kinfolk.orders.services.checkout import order_place

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen_now():
    """The clock stands at NOW (20 November 2026, 12:00 in Seoul); ``advance(delta)`` moves it."""
    with clock.frozen(NOW) as advance:
        yield advance


@pytest.fixture
def seoul(client, frozen_now):
    """A shop in Seoul selling in KRW, its owner logged in."""
    owner = new_user("owner@seoul.example")
    shop = new_shop(slug="seoul-vinyl", owner=owner, currency="KRW", time_zone="Asia/Seoul")
    client.force_login(owner)
    return shop


def url(name: str, shop, edition=None, **query) -> str:
    kwargs = {"shop": shop.slug}
    if edition is not None:
        kwargs["edition_id"] = edition.pk
    path = reverse(f"dashboard:{name}", kwargs=kwargs)
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def make_edition(shop, *, size: int = 5, name: str = "Deluxe LP", **options) -> Edition:
    product = new_product(shop, name=name, price=750000, stock=None)
    options.setdefault("opens_at", clock.now() - dt.timedelta(minutes=30))
    return edition_create(
        shop=shop, product=product, variant=product.variants.get(), size=size, **options
    )


def sell(shop, edition, email: str, *, name: str = "Ada Lovelace") -> Copy:
    """Reserve a copy for ``email`` and pay for it with a real order in ``name``."""
    hold = hold_take(shop=shop, edition=edition, email=email).hold
    cart = carts.cart_get_or_create(shop=shop, token=None)
    carts.cart_add(shop=shop, cart=cart, variant_id=edition.variant_id, quantity=1)
    order = order_place(
        shop=shop,
        cart=cart,
        email=email,
        address={**US_ADDRESS, "name": name},
        payment_provider="manual",
        idempotency_key=uuid.uuid4().hex,
        return_url_for=lambda o: "http://testserver/",
    ).order
    return copy_sell(shop=shop, token=hold.token, order=order)


def new_drop_data(**overrides) -> dict[str, str]:
    return {
        "product": "new",
        "new_name": "Moon Deluxe",
        "new_price": "750000",
        "size": "2000",
        "opens_at": "2026-12-01T20:00",
        "closes_at": "",
        "per_fan_limit": "1",
        "hold_minutes": "10",
        "early_access": "none",
        "early_access_opens_at": "",
        "early_access_emails": "",
        **overrides,
    }


# --- The list -----------------------------------------------------------------------------------


def test_the_list_shows_each_drops_state_and_sales(client, seoul, django_assert_max_num_queries):
    """Given drops scheduled, live, sold out and closed, then the list names each state and how
    many copies of how many sold, in a number of queries that does not grow with the drops."""
    now = clock.now()
    make_edition(seoul, name="Later", opens_at=now + dt.timedelta(days=2))
    live = make_edition(seoul, name="Now", size=4)
    gone = make_edition(seoul, name="Gone", size=1)
    make_edition(
        seoul,
        name="Over",
        opens_at=now - dt.timedelta(days=3),
        closes_at=now - dt.timedelta(days=2),
    )
    sell(seoul, live, "a@example.com")
    sell(seoul, gone, "b@example.com")

    with django_assert_max_num_queries(5):
        response = client.get(url("drops", seoul))

    assert response.status_code == 200
    page = response.content.decode()
    for state in ("Scheduled", "Live", "Sold out", "Closed"):
        assert state in page
    assert "1 of 4" in page and "1 of 1" in page
    assert "Asia/Seoul" in page
    for _ in range(6):
        make_edition(seoul, name=f"More {_}")
    with django_assert_max_num_queries(5):
        assert client.get(url("drops", seoul)).status_code == 200


def test_the_nav_leads_to_the_drops(client, seoul):
    page = client.get(reverse("dashboard:overview", kwargs={"shop": seoul.slug})).content.decode()
    assert url("drops", seoul) in page


# --- A new drop ---------------------------------------------------------------------------------


def test_a_new_drop_opens_at_the_shops_local_time(client, seoul):
    """Given a shop in Seoul (UTC+9), when staff schedule a drop of an existing product opening
    at 20:00 and closing at 23:30 on 1 December, then it opens at 11:00 and closes at 14:30 UTC,
    with 2,000 copies numbered 1..2000."""
    product = new_product(seoul, name="Moon LP", price=750000, stock=30)
    variant = product.variants.get()

    response = client.post(
        url("drop_new", seoul),
        new_drop_data(product=str(variant.pk), closes_at="2026-12-01T23:30", new_name=""),
    )

    assert response.status_code == 302
    edition = Edition.objects.get(shop=seoul)
    assert edition.opens_at == dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.UTC)
    assert edition.closes_at == dt.datetime(2026, 12, 1, 14, 30, tzinfo=dt.UTC)
    assert (edition.product, edition.variant, edition.size) == (product, variant, 2000)
    assert Copy.objects.filter(edition=edition).count() == 2000
    assert response["Location"] == url("drop", seoul, edition)
    page = client.get(response["Location"]).content.decode()
    assert "Scheduled" in page


def test_a_new_drop_can_create_its_product(client, seoul):
    """Given no product yet, when staff name a new one with a price, then the product (active,
    its variant unlimited: the copies are the stock) and its edition are created together."""
    response = client.post(url("drop_new", seoul), new_drop_data(size="50"))

    assert response.status_code == 302
    edition = Edition.objects.select_related("product", "variant").get(shop=seoul)
    assert edition.product.name == "Moon Deluxe"
    assert edition.product.status == "active"
    assert (edition.variant.price, edition.variant.stock) == (750000, None)


def test_early_access_for_chosen_fans_keeps_the_list(client, seoul):
    """Given early access for a pasted list (mixed case, repeats, commas), then the edition keeps
    each address once, lower-cased, and early access opens at the local time entered."""
    response = client.post(
        url("drop_new", seoul),
        new_drop_data(
            early_access="list",
            early_access_opens_at="2026-12-01T18:00",
            early_access_emails="Minji@Example.com\nada@example.com, minji@example.com\n\n",
        ),
    )

    assert response.status_code == 302
    edition = Edition.objects.get(shop=seoul)
    assert edition.early_access_opens_at == dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    emails = sorted(EarlyAccessFan.objects.filter(edition=edition).values_list("email", flat=True))
    assert emails == ["ada@example.com", "minji@example.com"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"closes_at": "2026-12-01T19:00"}, "closes_at", "must close after it opens"),
        ({"size": "0"}, "size", "greater than or equal to 1"),
        ({"size": "99999999999999999999"}, "size", "less than or equal to"),
        ({"size": "lots"}, "size", "Enter a whole number"),
        ({"hold_minutes": "0"}, "hold_minutes", "greater than or equal to 1"),
        (
            {"early_access": "past_buyers", "early_access_opens_at": "2026-12-01T21:00"},
            "early_access_opens_at",
            "Early access must open before the drop opens",
        ),
        ({"early_access": "past_buyers"}, "early_access_opens_at", "Say when early access opens"),
        (
            {"early_access": "list", "early_access_opens_at": "2026-12-01T18:00"},
            "early_access_emails",
            "Paste at least one e-mail address",
        ),
        (
            {
                "early_access": "list",
                "early_access_opens_at": "2026-12-01T18:00",
                "early_access_emails": "ok@example.com\nnot-an-address",
            },
            "early_access_emails",
            "not-an-address",
        ),
        ({"opens_at": "next tuesday"}, "opens_at", "Enter a valid date/time"),
        ({"new_name": ""}, "new_name", "Name the new product"),
        ({"new_price": "12.5"}, "new_price", "whole numbers"),
        ({"product": "999999"}, "product", "Select a valid choice"),
        ({"early_access": "everyone"}, "early_access", "Select a valid choice"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_kept(client, seoul, overrides, field, message):
    response = client.post(url("drop_new", seoul), new_drop_data(**overrides))

    assert response.status_code == 400
    page = response.content.decode()
    error = re.search(rf'<p class="error" id="id_{field}_error">([^<]*)</p>', page)
    assert error, f"no error beside {field}"
    assert message in error.group(1).replace("&#x27;", "'")
    assert 'value="Moon Deluxe"' in page or overrides.get("new_name") == ""
    assert not Edition.objects.filter(shop=seoul).exists()


def test_a_time_that_does_not_exist_in_the_shops_zone_is_refused(client, frozen_now):
    """Given a shop in New York, when staff enter 02:30 on the night the clocks spring forward,
    then the form says so beside the field."""
    owner = new_user()
    shop = new_shop(slug="ny-synths", owner=owner, time_zone="America/New_York")
    client.force_login(owner)

    response = client.post(
        url("drop_new", shop), new_drop_data(opens_at="2027-03-14T02:30", new_price="750")
    )

    assert response.status_code == 400
    assert 'id="id_opens_at_error"' in response.content.decode()


def test_a_product_of_another_shop_cannot_be_made_a_drop(client, seoul):
    """Given another shop's variant id posted as the product, then the form refuses it and the
    other shop's product stays as it was."""
    other = new_shop(slug="other-shop", owner=new_user())
    theirs = new_product(other, name="Theirs").variants.get()

    response = client.post(url("drop_new", seoul), new_drop_data(product=str(theirs.pk)))

    assert response.status_code == 400
    assert not Edition.objects.exists()
    assert "Theirs" not in response.content.decode()


def test_products_that_are_editions_already_are_not_offered(client, seoul):
    taken = make_edition(seoul, name="Already a drop")
    new_product(seoul, name="Free to drop")

    page = client.get(url("drop_new", seoul)).content.decode()

    assert "Free to drop" in page
    assert taken.product.name not in page


# --- Changes before the drop starts ---------------------------------------------------------------


def test_a_scheduled_drop_can_be_resized_and_rescheduled(client, seoul):
    """Given a drop of 5 opening in two days, when staff change it to 3 copies opening a day
    later with chosen fans, then copies 4 and 5 are gone, the times move and the list is kept."""
    edition = make_edition(seoul, opens_at=clock.now() + dt.timedelta(days=2))
    data = new_drop_data(
        size="3",
        opens_at="2026-12-05T20:00",
        early_access="list",
        early_access_opens_at="2026-12-05T19:00",
        early_access_emails="fan@example.com",
    )

    form = client.get(url("drop_edit", seoul, edition)).content.decode()
    response = client.post(url("drop_edit", seoul, edition), data)

    assert 'value="5"' in form
    assert response.status_code == 302
    edition.refresh_from_db()
    assert edition.size == 3
    assert edition.opens_at == dt.datetime(2026, 12, 5, 11, 0, tzinfo=dt.UTC)
    numbers = list(Copy.objects.filter(edition=edition).values_list("number", flat=True))
    assert numbers == [1, 2, 3]
    assert list(edition.early_fans.values_list("email", flat=True)) == ["fan@example.com"]

    response = client.post(url("drop_edit", seoul, edition), {**data, "size": "7"})

    assert response.status_code == 302
    assert Copy.objects.filter(edition=edition).count() == 7
    assert sorted(Copy.objects.filter(edition=edition).values_list("number", flat=True)) == list(
        range(1, 8)
    )


def test_a_started_drop_cannot_change(client, seoul):
    """Given a live drop, then its change page says it has started (200), and a POST changes
    nothing (409)."""
    edition = make_edition(seoul, size=5)

    page = client.get(url("drop_edit", seoul, edition))
    response = client.post(url("drop_edit", seoul, edition), new_drop_data(size="1"))

    assert page.status_code == 200
    assert "This drop has started" in page.content.decode()
    assert response.status_code == 409
    edition.refresh_from_db()
    assert edition.size == 5 and Copy.objects.filter(edition=edition).count() == 5


def test_while_early_access_runs_only_the_chosen_fans_change(client, seoul):
    """Given early access for chosen fans running, then the change page offers the list alone,
    and a new list replaces the old one; fans added may buy at once."""
    now = clock.now()
    edition = make_edition(
        seoul,
        opens_at=now + dt.timedelta(hours=1),
        early_access="list",
        early_access_opens_at=now - dt.timedelta(minutes=5),
        early_access_emails=["old@example.com"],
    )

    page = client.get(url("drop_edit", seoul, edition)).content.decode()
    response = client.post(
        url("drop_edit", seoul, edition),
        {"early_access_emails": "old@example.com\nlate@example.com", "size": "1"},
    )

    assert 'name="size"' not in page and "old@example.com" in page
    assert response.status_code == 302
    assert sorted(edition.early_fans.values_list("email", flat=True)) == [
        "late@example.com",
        "old@example.com",
    ]
    assert hold_take(shop=seoul, edition=edition, email="late@example.com").created
    edition.refresh_from_db()
    assert edition.size == 5


# --- The live drop --------------------------------------------------------------------------------


def test_the_live_drop_shows_sold_held_free_and_the_waitlist(
    client, seoul, frozen_now, django_assert_max_num_queries
):
    """Given 5 copies: 2 sold a minute apart, 1 held, then the page shows 2 / 5 sold, 1 held,
    2 free, the waitlist, and a chart whose data climbs 1, 2 by minute in Seoul time."""
    edition = make_edition(seoul, size=5)
    sell(seoul, edition, "a@example.com")
    frozen_now(dt.timedelta(minutes=1))
    sell(seoul, edition, "b@example.com")
    hold_take(shop=seoul, edition=edition, email="c@example.com")
    waitlist_join(shop=seoul, edition=edition, email="w@example.com")

    with django_assert_max_num_queries(7):
        response = client.get(url("drop", seoul, edition))

    page = response.content.decode()
    figures = dict(
        re.findall(
            r'<span class="stat-label">([^<]+)</span>\s*<span class="stat-value">(\d+)', page
        )
    )
    assert figures == {"Sold": "2", "Held now": "1", "Free": "2", "Waitlist": "1"}
    chart = json.loads(
        re.search(
            r'<script id="drop-chart-data" type="application/json">(.*?)</script>', page
        ).group(1)
    )
    assert chart["labels"] == ["12:00", "12:01"]
    assert chart["series"][0]["data"] == [1, 2]
    assert chart["max"] == 5
    assert 'hx-trigger="every 5s"' in page


def test_htmx_refreshes_the_figures_and_the_chart_data(client, seoul):
    """Given a live drop, when htmx asks for the page, then it gets the figures and, out of band,
    the chart's data; once sold out, the answer stops asking for more."""
    edition = make_edition(seoul, size=1)

    live = client.get(url("drop", seoul, edition), HTTP_HX_REQUEST="true").content.decode()
    sell(seoul, edition, "a@example.com")
    done = client.get(url("drop", seoul, edition), HTTP_HX_REQUEST="true").content.decode()

    assert "<html" not in live
    assert 'id="drop-sales" hx-swap-oob="true"' in live
    assert "hx-trigger" in live
    assert "Sold out" in done and "hx-trigger" not in done


def test_hourly_buckets_for_a_drop_that_sells_over_days(client, seoul, frozen_now):
    """Given sales spread over two days, then the chart has one point per local hour."""
    edition = make_edition(seoul, size=5)
    sell(seoul, edition, "a@example.com")
    frozen_now(dt.timedelta(days=1, hours=2))
    sell(seoul, edition, "b@example.com")

    page = client.get(url("drop", seoul, edition)).content.decode()

    chart = json.loads(
        re.search(
            r'<script id="drop-chart-data" type="application/json">(.*?)</script>', page
        ).group(1)
    )
    assert len(chart["labels"]) == 27
    assert chart["series"][0]["data"][0] == 1 and chart["series"][0]["data"][-1] == 2


# --- Owners and the CSV ---------------------------------------------------------------------------


def test_owners_are_listed_by_number_with_their_orders(
    client, seoul, django_assert_max_num_queries
):
    """Given 55 copies sold, then the owners page lists numbers 1..50 with each owner's name,
    e-mail, order link and code, page 2 the rest, in a fixed number of queries."""
    edition = make_edition(seoul, size=60)
    copies = [sell(seoul, edition, f"fan{n}@example.com", name=f"Fan {n}") for n in range(55)]

    with django_assert_max_num_queries(6):
        first = client.get(url("drop_owners", seoul, edition))
    second = client.get(url("drop_owners", seoul, edition, page=2)).content.decode()

    page = first.content.decode()
    assert "Fan 0" in page and "fan0@example.com" in page
    assert (
        reverse("dashboard:order", kwargs={"shop": seoul.slug, "number": copies[0].order.number})
        in page
    )
    assert "Fan 54" not in page and "Fan 54" in second
    assert "55 copies of 60 sold." in page


def test_the_owners_csv_is_streamed_with_formulas_defused(client, seoul):
    """Given an owner whose name starts like a spreadsheet formula, then the CSV lists every
    owner by number, Hangul intact, and that cell starts with an apostrophe."""
    edition = make_edition(seoul, size=3)
    sell(seoul, edition, "minji@example.com", name="김민지")
    sell(seoul, edition, "evil@example.com", name='=HYPERLINK("http://evil")')

    response = client.get(url("drop_owners_csv", seoul, edition))

    assert response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="seoul-vinyl-')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Number", "Owner", "E-mail"]
    assert [row[0] for row in rows[1:]] == ["1", "2"]
    assert rows[1][1] == "김민지"
    assert rows[2][1].startswith("'=HYPERLINK")
    copy = Copy.objects.get(edition=edition, number=1)
    assert rows[1][3] == copy.order.number
    assert rows[1][4] == "2026-11-20 12:00"  # NOW in Seoul


def test_fields_hidden_by_the_options_chosen_do_not_block_the_form(client, seoul):
    """Given an existing product chosen and no early access, when the hidden new-product and
    early-access fields still hold junk typed before, then the drop is scheduled anyway."""
    variant = new_product(seoul, name="Moon LP").variants.get()

    response = client.post(
        url("drop_new", seoul),
        new_drop_data(
            product=str(variant.pk),
            new_price="not a price",
            early_access="none",
            early_access_opens_at="garbage",
            early_access_emails="not-an-address",
        ),
    )

    assert response.status_code == 302
    edition = Edition.objects.get(shop=seoul)
    assert edition.early_access_opens_at is None
    assert not edition.early_fans.exists()
