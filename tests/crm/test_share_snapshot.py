"""The stored customer-share model of a shop (``crm.ShareSnapshot``): computed in batch from the
timeline, read by the pages with one fan's own orders, and equal to the model built from every
order on the same data."""

from __future__ import annotations

import datetime as dt
import random
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from kinfolk.catalog import services as catalog
from kinfolk.catalog.models import Product
from kinfolk.catalog.selectors import catalogue_for_crm
from kinfolk.core import clock
from kinfolk.crm.models import Interaction, ShareSnapshot
from kinfolk.crm.selectors.share import (
    customer_share_for,
    paid_orders,
    share_snapshot_of,
    shop_share_for,
)
from kinfolk.crm.services import customer_get_or_create, interaction_record
from kinfolk.crm.services import share as share_service
from kinfolk.crm.services.share import (
    share_catalogue_register,
    share_snapshot_ensure,
    share_snapshot_refresh,
)
from kinfolk.crm.share import CatalogueProduct, co_purchases, customer_share, shop_share
from kinfolk.crm.tasks import shop_shares_refresh
from tests.crm.conftest import START, days
from tests.dashboard.factories import new_shop, new_user

pytestmark = pytest.mark.django_db

NOW = START + days(60)
# Products 1–6 are in the catalogue (5 no longer on sale); 90 was deleted, its name changing.
CATALOGUE = [
    CatalogueProduct(1, "Album", "Music", True),
    CatalogueProduct(2, "Tour shirt", "Apparel", True),
    CatalogueProduct(3, "Poster", "Posters", True),
    CatalogueProduct(4, "Tote bag", "Apparel", True),
    CatalogueProduct(5, "Old EP", "Music", False),
    CatalogueProduct(6, "Sticker set", "", True),
]
DELETED = 90


def item(product_id: int, quantity: int = 1, name: str = "", category: str = "") -> dict:
    return {"product_id": product_id, "quantity": quantity, "name": name, "category": category}


class Orders:
    """Paid and refunded orders recorded on a shop's timeline through ``interaction_record``."""

    def __init__(self, shop):
        self.shop = shop
        self.numbers = 0

    def fan(self, email: str):
        with clock.frozen(START):
            return customer_get_or_create(shop=self.shop, email=email)

    def paid(self, customer, at: dt.datetime, items: list[dict] | None) -> str:
        self.numbers += 1
        number = f"S{self.shop.pk}-{self.numbers:05d}"
        data = {"total": 1000, "currency": self.shop.currency}
        if items is not None:
            data["items"] = items
        self._record(customer, Interaction.Kind.ORDER_PAID, at, number, data)
        return number

    def refunded(self, customer, at: dt.datetime, number: str) -> None:
        self._record(customer, Interaction.Kind.ORDER_REFUNDED, at, number, {})

    def _record(self, customer, kind, at, number, data) -> None:
        interaction_record(
            shop=self.shop,
            customer=customer,
            kind=kind,
            occurred_at=at,
            subject_type="order",
            subject_id=number,
            data=data,
            update_stage=False,
        )


def tastes_shop(shop, *, fans: int = 40, seed: int = 3) -> tuple[Orders, list]:
    """Record ``fans`` fans' orders with overlapping tastes: music fans add shirts or posters,
    some orders list no items, a few are refunded, and the deleted single changes its name."""
    rng = random.Random(seed)
    orders = Orders(shop)
    customers = [orders.fan(f"fan{n}@example.com") for n in range(fans)]
    for n, customer in enumerate(customers):
        taste = [1, 2] if n % 3 == 0 else [1, 3] if n % 3 == 1 else [2, 3, 4]
        for k in range(rng.randint(1, 3)):
            at = START + days(rng.randint(0, 50)) + dt.timedelta(minutes=n * 10 + k)
            items = [item(pid, rng.randint(1, 2)) for pid in rng.sample(taste, rng.randint(1, 2))]
            if rng.random() < 0.2:
                items.append(item(rng.choice([5, 6])))
            if rng.random() < 0.15:
                items.append(item(DELETED, name=f"Lost single v{k}", category="Music"))
            number = orders.paid(customer, at, items if rng.random() > 0.1 else None)
            if rng.random() < 0.1:
                orders.refunded(customer, at + days(2), number)
    return orders, customers


def reference(shop, now=NOW):
    """Return the model built from every order of the shop, as the pages once did per request."""
    orders = paid_orders(shop=shop, now=now)
    return orders, co_purchases(orders.counted, CATALOGUE)


def test_the_stored_model_answers_every_fan_and_the_shop_as_every_order_does(make_shop):
    """Given a shop of 40 fans with refunds, orders without items and a deleted product, when
    its model is stored, then for every fan the share read from the model and their own orders
    (products, categories, share, gaps) and the shop's figures read from the model alone are
    equal to those computed from every order of the shop."""
    shop = make_shop()
    _orders, customers = tastes_shop(shop)
    snapshot = share_snapshot_refresh(shop=shop, catalogue=CATALOGUE, now=NOW)
    orders, co = reference(shop)
    assert snapshot.orders_counted == len(orders.counted) > 40
    assert snapshot.orders_without_items == orders.without_items_total > 0
    gaps_seen = 0
    for customer in customers:
        mine = [o for o in orders.counted if o.customer_id == customer.pk]
        expected = customer_share(
            co=co,
            orders=mine,
            orders_without_items=orders.without_items.get(customer.pk, 0),
            gap_limit=10,
        )
        report = customer_share_for(
            shop=shop,
            customer=customer,
            catalogue=CATALOGUE,
            snapshot=snapshot,
            now=NOW,
            gap_limit=10,
        )
        assert report.share == expected
        assert report.computed_at == NOW
        gaps_seen += len(expected.gaps)
    assert gaps_seen > 10  # the comparison covered suggestions, not only empty lists
    expected_shop = shop_share(
        co=co,
        orders_counted=len(orders.counted),
        orders_without_items=orders.without_items_total,
        gap_limit=50,
    )
    assert expected_shop.gaps and expected_shop.categories
    assert shop_share_for(shop=shop, snapshot=snapshot, gap_limit=50).share == expected_shop


def test_a_refresh_replaces_the_previous_model(make_shop):
    """Given a stored model, when more fans buy and the model is refreshed, then the shop still
    has one model, computed at the later moment and counting the new orders."""
    shop = make_shop()
    orders = Orders(shop)
    first, second = orders.fan("first@example.com"), orders.fan("second@example.com")
    orders.paid(first, START, [item(1), item(2)])
    before = share_snapshot_refresh(shop=shop, catalogue=CATALOGUE, now=START + days(1))
    orders.paid(second, START + days(2), [item(1), item(2)])
    after = share_snapshot_refresh(shop=shop, catalogue=CATALOGUE, now=START + days(3))
    assert ShareSnapshot.objects.filter(shop=shop).count() == 1
    assert after.pk == before.pk
    stored = ShareSnapshot.objects.get(shop=shop)
    assert (stored.computed_at, stored.orders_counted) == (START + days(3), 2)
    share = shop_share_for(shop=shop, snapshot=stored).share
    assert share.buyers == 2 and share.gaps == []  # both own both products: nothing missing


def test_a_refund_after_the_model_changes_the_fans_own_share_at_once(make_shop):
    """Given a fan who bought the album and the shirt in two orders and a stored model, when
    the shirt's order is refunded afterwards, then the fan's page owns the album alone at once,
    and the shirt comes back as a suggestion with the model's counts, as of before the refund
    (three fans, the fan among them, had bought both)."""
    shop = make_shop()
    orders = Orders(shop)
    fan = orders.fan("fan@example.com")
    for email in ("a@example.com", "b@example.com"):
        orders.paid(orders.fan(email), START, [item(1), item(2)])
    orders.paid(fan, START, [item(1)])
    shirt_order = orders.paid(fan, START + days(1), [item(2)])
    snapshot = share_snapshot_refresh(shop=shop, catalogue=CATALOGUE, now=START + days(2))

    def read():
        return customer_share_for(
            shop=shop, customer=fan, catalogue=CATALOGUE, snapshot=snapshot, now=START + days(4)
        ).share

    assert [p.product.name for p in read().products] == ["Tour shirt", "Album"]
    orders.refunded(fan, START + days(3), shirt_order)
    share = read()
    assert [p.product.name for p in share.products] == ["Album"]
    assert (share.active_owned, share.active_total, share.orders_counted) == (1, 5, 1)
    assert [(g.product.name, g.because.name, g.both) for g in share.gaps] == [
        ("Tour shirt", "Album", 3)
    ]
    assert ShareSnapshot.objects.get(shop=shop).computed_at == START + days(2)


def test_a_shop_never_reads_another_shops_model(make_shop):
    """Given shop A with a stored model and shop B with none, then B has no model to read, A's
    model handed to B's reads is refused, and B's first model is B's own."""
    shop_a, shop_b = make_shop(), make_shop()
    tastes_shop(shop_a, fans=12)
    model_a = share_snapshot_refresh(shop=shop_a, catalogue=CATALOGUE, now=NOW)
    orders_b = Orders(shop_b)
    fan_b = orders_b.fan("b@example.com")
    orders_b.paid(fan_b, START, [item(4)])
    assert share_snapshot_of(shop=shop_b) is None
    with pytest.raises(ValueError):
        shop_share_for(shop=shop_b, snapshot=model_a)
    with pytest.raises(ValueError):
        customer_share_for(shop=shop_b, customer=fan_b, catalogue=CATALOGUE, snapshot=model_a)
    with clock.frozen(NOW):
        model_b = share_snapshot_ensure(shop=shop_b, catalogue=lambda: CATALOGUE)
    assert model_b.shop_id == shop_b.pk and model_b.pk != model_a.pk
    share_b = shop_share_for(shop=shop_b, snapshot=model_b).share
    assert (share_b.buyers, share_b.orders_counted) == (1, 1)
    assert share_snapshot_of(shop=shop_a).orders_counted == model_a.orders_counted > 1


def test_a_small_shop_gets_its_first_model_on_the_spot_and_keeps_it(make_shop):
    """Given a small shop without a model, when a page asks for it, then it is computed (the
    catalogue read then) and stored; the next ask reads the stored one without the catalogue."""
    shop = make_shop()
    orders = Orders(shop)
    orders.paid(orders.fan("fan@example.com"), START, [item(1)])
    asked = []

    def catalogue():
        asked.append(1)
        return CATALOGUE

    with clock.frozen(NOW):
        first = share_snapshot_ensure(shop=shop, catalogue=catalogue)
        again = share_snapshot_ensure(shop=shop, catalogue=catalogue)
    assert (first.pk, first.computed_at, first.orders_counted) == (again.pk, NOW, 1)
    assert asked == [1]


def test_a_model_of_an_older_layout_counts_as_none(make_shop):
    """Given a stored document of another layout, then it reads as no model, and a small
    shop's next page computes a model of the current layout in its place."""
    shop = make_shop()
    orders = Orders(shop)
    orders.paid(orders.fan("fan@example.com"), START, [item(1)])
    ShareSnapshot.objects.create(shop=shop, computed_at=START, data={"version": 0})
    assert share_snapshot_of(shop=shop) is None
    with clock.frozen(NOW):
        model = share_snapshot_ensure(shop=shop, catalogue=lambda: CATALOGUE)
    assert model.computed_at == NOW and shop_share_for(shop=shop, snapshot=model).share.buyers == 1


# --- The pages ---------------------------------------------------------------------------------


class Band:
    """A shop in Seoul with an owner logged in, four products on sale and its catalogue."""

    def __init__(self, client, slug: str = "snapshot-band"):
        self.owner = new_user(f"owner@{slug}.example")
        self.shop = new_shop(slug=slug, owner=self.owner, time_zone="Asia/Seoul")
        self.products = [
            catalog.product_create(
                shop=self.shop,
                name=name,
                category=category,
                price=1000,
                stock=None,
                status=Product.Status.ACTIVE,
            )
            for name, category in (
                ("Album", "Music"),
                ("Tour shirt", "Apparel"),
                ("Poster", "Posters"),
                ("Tote bag", "Apparel"),
            )
        ]
        self.orders = Orders(self.shop)
        client.force_login(self.owner)

    def catalogue(self, shop=None) -> list[CatalogueProduct]:
        return catalogue_for_crm(shop=shop or self.shop)

    def buy(self, n: int, at: dt.datetime):
        """Record fan ``n``'s order of two of the products, a pattern that repeats every 3."""
        fan = self.orders.fan(f"fan{n}@example.com")
        pair = [self.products[0], self.products[1 + n % 3]]
        self.orders.paid(fan, at, [item(p.pk) for p in pair])
        return fan

    def customer_url(self, customer) -> str:
        return reverse(
            "dashboard:customer_share",
            kwargs={"shop": self.shop.slug, "customer_id": customer.pk},
        )

    def overview_url(self) -> str:
        return reverse("dashboard:share_overview", kwargs={"shop": self.shop.slug})


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_customer_page_runs_the_same_queries_however_many_orders_the_shop_has(client):
    """Given a shop with a stored model, when it grows from 6 to 60 fans' orders (and the model
    is refreshed), then the fan's share page runs the same number of queries, at most 7: the
    login, the shop, the customer, the catalogue, the model and the fan's own orders, and the
    header's shops; the fragment one fewer."""
    band = Band(client)
    fan = band.buy(0, START)
    counts = []
    for fans in (6, 60):
        for n in range(len(counts) * 6 + 1, fans):
            band.buy(n, START + dt.timedelta(minutes=n))
        share_snapshot_refresh(shop=band.shop, catalogue=band.catalogue(), now=NOW)
        with clock.frozen(NOW):
            with CaptureQueriesContext(connection) as page:
                assert client.get(band.customer_url(fan)).status_code == 200
            with CaptureQueriesContext(connection) as fragment:
                response = client.get(band.customer_url(fan), headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert "Tour shirt" in text(response)
        counts.append((len(page), len(fragment)))
    assert counts[0] == counts[1]
    assert counts[0][0] <= 7 and counts[0][1] <= 6


def test_the_pages_say_when_the_model_was_computed_in_the_shops_time_zone(client):
    """Given a Seoul shop whose model was computed at 18:30 UTC, then both pages say it is as of
    03:30 the next day, Seoul time."""
    band = Band(client)
    fans = [band.buy(n, START) for n in range(4)]
    at = dt.datetime(2025, 6, 1, 18, 30, tzinfo=dt.UTC)
    share_snapshot_refresh(shop=band.shop, catalogue=band.catalogue(), now=at)
    with translation.override("en"):
        when = date_format(at.astimezone(ZoneInfo("Asia/Seoul")), "DATETIME_FORMAT")
    assert "June 2, 2025" in when and "3:30" in when
    page = text(client.get(band.customer_url(fans[0]), headers={"HX-Request": "true"}))
    assert f"From what fans had bought together as of {when}" in page
    overview = text(client.get(band.overview_url()))
    assert f"Figures as of {when}" in overview
    assert "Fans who bought 4" in overview


def test_a_large_shop_without_a_model_says_its_figures_come_with_the_nightly_refresh(
    client, monkeypatch
):
    """Given a shop with more paid orders than a page may read and no model yet, then no model
    is computed on the visit; the overview says the figures come with the nightly refresh, and
    the fan's page shows their own products and share now, and the same about suggestions, in
    English and in Korean pages alike."""
    band = Band(client)
    fans = [band.buy(n, START) for n in range(4)]
    monkeypatch.setattr(share_service, "SMALL_SHOP_ORDERS", 3)
    overview = client.get(band.overview_url())
    assert "These figures appear after the nightly refresh" in text(overview)
    assert "No paid order with a list of its items yet" not in text(overview)
    page = text(client.get(band.customer_url(fans[1]), headers={"HX-Request": "true"}))
    assert "Owns 2 of the 4 products on sale" in page
    assert "Suggestions appear after the nightly refresh" in page
    assert not ShareSnapshot.objects.filter(shop=band.shop).exists()
    for url in (band.overview_url(), band.customer_url(fans[1])):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ko")
        assert response.status_code == 200 and '<html lang="ko"' in response.content.decode()


# --- The nightly refresh -----------------------------------------------------------------------


def test_the_nightly_task_refreshes_every_shop_against_its_catalogue(client):
    """Given two shops with orders and the catalogue provider the catalogue app registers,
    when the nightly task runs, then each shop has its own model, named from its own
    catalogue."""
    band = Band(client)
    other = Band(client, slug="other-band")
    for n in range(6):  # every pair of products bought by two fans: gaps to name
        band.buy(n, START)
    other.buy(0, START)
    with clock.frozen(NOW):
        assert shop_shares_refresh.call_local() >= 2
    mine = shop_share_for(shop=band.shop, snapshot=share_snapshot_of(shop=band.shop)).share
    theirs = shop_share_for(shop=other.shop, snapshot=share_snapshot_of(shop=other.shop)).share
    assert (mine.buyers, theirs.buyers) == (6, 1)
    assert ShareSnapshot.objects.get(shop=band.shop).computed_at == NOW
    assert mine.gaps
    names = {g.because.product_id for g in mine.gaps} | {g.product.product_id for g in mine.gaps}
    assert names <= {p.pk for p in band.products}


def test_without_a_catalogue_provider_the_nightly_task_changes_nothing(client):
    """Given no catalogue provider registered, then the nightly task stores no model (a model
    measured against no catalogue would call every product deleted)."""
    previous = share_catalogue_register(None)
    try:
        band = Band(client)
        band.buy(0, START)
        assert shop_shares_refresh.call_local() == 0
        assert not ShareSnapshot.objects.exists()
    finally:
        share_catalogue_register(previous)
