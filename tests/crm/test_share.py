"""Customer share: what each fan owns of the catalogue, the shop's distribution, category reach
and cross-sell gaps, on a small shop whose figures are worked out by hand; and the stored model,
which must answer exactly as the model built from every order."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinfolk.core import clock
from kinfolk.core.errors import NotFound
from kinfolk.crm.models import Interaction
from kinfolk.crm.selectors.share import customer_share_for, paid_orders, shop_share_for
from kinfolk.crm.services import customer_get_or_create, interaction_record
from kinfolk.crm.services.share import share_snapshot_refresh
from kinfolk.crm.share import (
    CatalogueProduct,
    StoredModel,
    co_purchases,
    customer_share,
    customer_share_without_model,
    model_data,
    paid_order,
    shop_share,
)
from kinfolk.orders.services.lifecycle import order_mark_paid
from tests.crm.conftest import START, days
from tests.orders.conftest import buy, fill_cart, place  # noqa: F401 (fixtures)

ALBUM, SHIRT, POSTER, OLD_EP, LOST = 1, 2, 3, 4, 99
CATALOGUE = [
    CatalogueProduct(ALBUM, "Album", "Music", active=True),
    CatalogueProduct(SHIRT, "Tour shirt", "Apparel", active=True),
    CatalogueProduct(POSTER, "Poster", "Posters", active=True),
    CatalogueProduct(OLD_EP, "Old EP", "Music", active=False),
]
T1, T2 = START, START + days(10)


def item(product_id, quantity=1, name="", category=""):
    return {"product_id": product_id, "quantity": quantity, "name": name, "category": category}


def order(customer_id, at, *items):
    return paid_order(customer_id, at, list(items))


def hand_built_orders():
    """Six fans: 1 album+shirt, 2 album+shirt+poster, 3 album, 4 album+old EP, 5 shirt+poster,
    6 a single that is no longer in the catalogue (renamed between their two orders)."""
    return [
        order(1, T1, item(ALBUM)),
        order(1, T2, item(ALBUM), item(SHIRT, 2)),
        order(2, T1, item(ALBUM), item(SHIRT), item(POSTER)),
        order(3, T1, item(ALBUM)),
        order(4, T1, item(ALBUM), item(OLD_EP)),
        order(5, T2, item(SHIRT), item(POSTER)),
        order(6, T1, item(LOST, name="Lost single (pre-order)", category="Music")),
        order(6, T2, item(LOST, name="Lost single", category="Music")),
    ]


@pytest.fixture
def co():
    return co_purchases(hand_built_orders(), CATALOGUE)


def mine(customer_id):
    return [o for o in hand_built_orders() if o.customer_id == customer_id]


def test_a_fan_owns_their_products_with_quantities_last_time_and_share(co):
    """Given fan 1 bought the album twice and two shirts in their second order, when their
    share is computed, then each product shows its quantity, orders and last time, the fan owns
    2 of the 3 products on sale, and every category of the catalogue is listed."""
    share = customer_share(co=co, orders=mine(1))
    products = {p.product.name: (p.quantity, p.orders, p.last_bought_at) for p in share.products}
    assert products == {"Album": (2, 2, T2), "Tour shirt": (2, 1, T2)}
    assert (share.active_owned, share.active_total) == (2, 3)
    assert share.percent == pytest.approx(200 / 3)
    categories = [
        (c.category, c.products, c.quantity, c.active_owned, c.active_total)
        for c in share.categories
    ]
    assert categories == [
        ("Apparel", 1, 2, 1, 1),
        ("Music", 1, 2, 1, 1),
        ("Posters", 0, 0, 0, 1),
    ]
    assert share.orders_counted == 2


def test_a_fans_gap_names_the_owned_product_that_suggests_it_best(co):
    """Given fan 1 owns the album and the shirt, when their gaps are computed, then the poster
    is suggested because of the shirt (2 of its 3 buyers own the poster, lift 2), not because of
    the album (1 of 4: below the two fans a pair needs)."""
    (gap,) = customer_share(co=co, orders=mine(1)).gaps
    assert (gap.product.name, gap.because.name) == ("Poster", "Tour shirt")
    assert (gap.both, gap.because_buyers) == (2, 3)
    assert gap.confidence == pytest.approx(2 / 3)
    assert gap.lift == pytest.approx((2 / 3) / (2 / 6))


def test_products_no_longer_on_sale_are_owned_but_not_part_of_the_share(co):
    """Given fan 4 owns the album and an archived EP, and fan 6 only a deleted single, then the
    EP and the single are listed (the single under the name of its latest order) but only
    products on sale count toward the share, and a fan who owns everything has no gaps."""
    four = customer_share(co=co, orders=mine(4))
    assert {p.product.name for p in four.products} == {"Album", "Old EP"}
    assert (four.active_owned, four.active_total) == (1, 3)
    assert [g.product.name for g in four.gaps] == ["Tour shirt"]
    six = customer_share(co=co, orders=mine(6))
    (single,) = six.products
    assert (single.product.name, single.product.deleted, single.quantity) == (
        "Lost single",
        True,
        2,
    )
    assert (six.active_owned, six.percent) == (0, 0)
    assert six.gaps == []
    assert customer_share(co=co, orders=mine(2)).gaps == []


def test_the_shop_distribution_penetration_and_top_gaps_match_the_hand_count(co):
    """Given the six fans, then: 2 own one product, 3 own two, 1 owns three; by share of the 3
    products on sale 1 owns none, 2 a third, 2 two thirds, 1 all; music reaches 5 of 6 fans,
    apparel 3, posters 2; and the top gap is the shirt for album buyers (2 of 4 lack it, 50 %)."""
    share = shop_share(co=co, orders_counted=8, orders_without_items=3)
    assert (share.buyers, share.active_total, share.orders_without_items) == (6, 3, 3)
    assert [(r.low, r.high, r.fans) for r in share.products_per_fan] == [
        (1, 1, 2),
        (2, 2, 3),
        (3, 3, 1),
    ]
    assert [(r.low, r.fans) for r in share.share_of_catalogue] == [
        (0, 1),
        (1, 0),
        (25, 2),
        (50, 2),
        (75, 0),
        (100, 1),
    ]
    assert share.mean_products == pytest.approx(11 / 6)
    assert share.mean_percent == pytest.approx(50)
    assert share.whole_catalogue == 1
    assert [(c.category, c.buyers, c.active_products) for c in share.categories] == [
        ("Music", 5, 1),
        ("Apparel", 3, 1),
        ("Posters", 2, 1),
    ]
    assert share.categories[0].percent == pytest.approx(500 / 6)
    gaps = [(g.because.name, g.product.name, g.missing, round(g.percent)) for g in share.gaps]
    # Shirt → poster and shirt → album tie on fans (1 × 2/3); the poster's lift (2) wins.
    assert gaps == [
        ("Album", "Tour shirt", 2, 50),
        ("Tour shirt", "Poster", 1, 67),
        ("Tour shirt", "Album", 1, 67),
    ]


def test_gaps_rank_by_confidence_then_lift_and_respect_the_limit():
    """Given a fan who owns A, where 2 of A's 5 buyers own B and 2 own C, and C is also
    bought alone by three more fans, then B and C tie on confidence and B (rarer, higher lift)
    comes first; D, bought with A by one fan only, is never suggested; the limit caps the list."""
    catalogue = [CatalogueProduct(pid, name, "", True) for pid, name in enumerate("ABCD", 1)]
    a, b, c, d = 1, 2, 3, 4
    orders = [
        order(1, T1, item(a), item(b)),
        order(2, T1, item(a), item(b)),
        order(3, T1, item(a), item(c)),
        order(4, T1, item(a), item(c), item(d)),
        order(5, T1, item(c)),
        order(6, T1, item(c)),
        order(7, T1, item(c)),
        order(8, T1, item(a)),
    ]
    co = co_purchases(orders, catalogue)
    gaps = customer_share(co=co, orders=[orders[-1]]).gaps
    assert [(g.product.name, g.both, g.because_buyers) for g in gaps] == [
        ("B", 2, 5),
        ("C", 2, 5),
    ]
    assert gaps[0].lift == pytest.approx(0.4 / (2 / 8))
    assert gaps[1].lift == pytest.approx(0.4 / (5 / 8))
    assert [
        g.product.name for g in customer_share(co=co, orders=[orders[-1]], gap_limit=1).gaps
    ] == ["B"]


def test_items_that_name_no_product_are_skipped_and_odd_quantities_count_once():
    """Given items as an import might write them, then only those with an integer product id
    count, and a missing or non-positive quantity counts as one."""
    parsed = paid_order(
        1,
        T1,
        [
            {"product_id": 7, "quantity": 0, "sku": "LP-1"},
            {"product_id": "7", "quantity": 2},
            {"product_id": True},
            {"product_id": None, "name": "Gone"},
            "not an item",
            {"product_id": 8},
        ],
    )
    assert [(i.product_id, i.quantity, i.name) for i in parsed.items] == [
        (7, 1, "LP-1"),
        (8, 1, "#8"),
    ]
    assert paid_order(1, T1, [{"name": "no id"}]) is None
    assert paid_order(1, T1, None) is None


def test_a_shop_without_sales_and_a_shop_with_one_buyer():
    """Given no orders, the share is empty; given one buyer, they own their products and there
    are no gaps (a pair needs two fans)."""
    empty = shop_share(co=co_purchases([], CATALOGUE), orders_counted=0)
    assert (empty.buyers, empty.products_per_fan, empty.share_of_catalogue, empty.gaps) == (
        0,
        [],
        [],
        [],
    )
    assert empty.mean_percent is None
    assert [c.buyers for c in empty.categories] == [0, 0, 0]
    one = [order(1, T1, item(ALBUM), item(SHIRT))]
    co = co_purchases(one, CATALOGUE)
    alone = shop_share(co=co, orders_counted=1)
    assert (alone.buyers, alone.whole_catalogue, alone.gaps) == (1, 0, [])
    assert [(r.low, r.fans) for r in alone.products_per_fan] == [(1, 0), (2, 1)]
    assert customer_share(co=co, orders=one).gaps == []


# --- The stored model --------------------------------------------------------------------------


def stored(co, orders_counted=0, orders_without_items=0):
    """Return the model as a page reads it back: through its JSON document."""
    figures = shop_share(
        co=co, orders_counted=orders_counted, orders_without_items=orders_without_items
    )
    return StoredModel(json.loads(json.dumps(model_data(co, figures))))


def test_the_stored_model_answers_every_fan_and_the_shop_as_the_whole_model_does(co):
    """Given the six hand-built fans, when the model goes through its JSON document, then each
    fan's whole share (products, categories, share, gaps) and the shop's whole figures are equal
    to those of the model built from every order."""
    model = stored(co, orders_counted=8, orders_without_items=3)
    for fan in range(1, 7):
        assert model.customer_share(catalogue=CATALOGUE, orders=mine(fan)) == customer_share(
            co=co, orders=mine(fan)
        )
    assert model.shop_share(orders_counted=8, orders_without_items=3) == shop_share(
        co=co, orders_counted=8, orders_without_items=3
    )


def test_the_stored_model_keeps_only_pairs_that_count_and_deleted_products_names(co):
    """Given the hand-built fans, then the document keeps the pairs two or more fans bought
    (album with shirt, shirt with poster; album with poster only once), each product's buyers and the single's
    latest name, and a document of another layout is refused."""
    data = model_data(co, shop_share(co=co, orders_counted=8))
    pairs = sorted(zip(data["pairs"]["a"], data["pairs"]["b"], data["pairs"]["both"]))
    assert pairs == [(ALBUM, SHIRT, 2), (SHIRT, POSTER, 2)]
    assert {int(pid): p["buyers"] for pid, p in data["products"].items()} == {
        ALBUM: 4,
        SHIRT: 3,
        POSTER: 2,
        OLD_EP: 1,
        LOST: 1,
    }
    assert data["products"][str(LOST)]["name"] == "Lost single"
    assert [row[0] for row in data["catalogue"]] == [ALBUM, SHIRT, POSTER, OLD_EP]
    with pytest.raises(ValueError):
        StoredModel({**data, "version": 0})


def test_a_fan_is_measured_against_the_catalogue_as_it_is_now():
    """Given a model computed while the poster was on sale, when the poster is archived and a
    new product goes on sale, then a fan's share counts 2 products on sale, and the poster is
    no longer suggested, though the model's counts still pair it with the shirt."""
    model = stored(co_purchases(hand_built_orders(), CATALOGUE))
    now = [
        CatalogueProduct(ALBUM, "Album", "Music", active=True),
        CatalogueProduct(SHIRT, "Tour shirt", "Apparel", active=True),
        CatalogueProduct(POSTER, "Poster", "Posters", active=False),
        CatalogueProduct(OLD_EP, "Old EP", "Music", active=False),
        CatalogueProduct(5, "Tote bag", "Apparel", active=True),
    ]
    share = model.customer_share(catalogue=now, orders=mine(1))
    assert (share.active_owned, share.active_total) == (2, 3)
    assert share.gaps == []
    reference = customer_share(co=co_purchases(hand_built_orders(), now), orders=mine(1))
    assert share == reference


def test_without_a_model_a_fan_still_sees_their_own_share_but_no_gaps():
    """Given no model yet, then a fan's products, categories and share are theirs, and there is
    no gap to suggest."""
    share = customer_share_without_model(catalogue=CATALOGUE, orders=mine(1))
    reference = customer_share(co=co_purchases(hand_built_orders(), CATALOGUE), orders=mine(1))
    assert share.gaps == []
    assert (share.products, share.categories, share.active_owned, share.active_total) == (
        reference.products,
        reference.categories,
        reference.active_owned,
        reference.active_total,
    )


PRODUCT_IDS = [1, 2, 3, 4, 5, 6, 7, 50, 51]  # 50 and 51 are not in the catalogue (deleted)


@st.composite
def shops(draw):
    """Draw a catalogue (some products not on sale) and up to 60 fans' orders of 1–4 items,
    each order at its own moment."""
    catalogue = [
        CatalogueProduct(pid, f"P{pid}", draw(st.sampled_from(["", "A", "B"])), draw(st.booleans()))
        for pid in PRODUCT_IDS[:7]
    ]
    orders = []
    fans = draw(st.integers(1, 60))
    for n in range(draw(st.integers(0, 120))):
        items = draw(st.lists(st.sampled_from(PRODUCT_IDS), min_size=1, max_size=4))
        orders.append(
            order(
                draw(st.integers(1, fans)),
                T1 + dt.timedelta(minutes=n),
                *[item(pid, draw(st.integers(1, 3)), f"Q{pid}-{n}", "Gone") for pid in items],
            )
        )
    return catalogue, orders


@given(shops())
def test_on_any_shop_the_stored_model_answers_as_the_whole_model(shop):
    """Given any shop, when its model goes through its JSON document, then every fan's share and
    the shop's figures, with all their gaps, equal those of the model built from every order."""
    catalogue, orders = shop
    co = co_purchases(orders, catalogue)
    model = stored(co, orders_counted=len(orders))
    for fan in {o.customer_id for o in orders}:
        theirs = [o for o in orders if o.customer_id == fan]
        assert model.customer_share(
            catalogue=catalogue, orders=theirs, gap_limit=20
        ) == customer_share(co=co, orders=theirs, gap_limit=20)
    assert model.shop_share(orders_counted=len(orders), gap_limit=100) == shop_share(
        co=co, orders_counted=len(orders), gap_limit=100
    )


# --- Reading the timeline ------------------------------------------------------------------


def _paid(shop, customer, at, number, items=None):
    data = {"total": 1000, "currency": shop.currency}
    if items is not None:
        data["items"] = items
    interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.ORDER_PAID,
        occurred_at=at,
        subject_type="order",
        subject_id=number,
        data=data,
        update_stage=False,
    )


def _refunded(shop, customer, at, number):
    interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.ORDER_REFUNDED,
        occurred_at=at,
        subject_type="order",
        subject_id=number,
        update_stage=False,
    )


@pytest.mark.django_db
def test_only_the_shops_own_standing_orders_with_items_count(make_shop):
    """Given shop A with a paid order, a refunded one and one without items, and shop B whose
    fan bought the same product ids, when shop A's model is computed and read, then only A's
    standing order with items counts, the one without items is reported, and B's fan is
    nowhere."""
    shop_a, shop_b = make_shop(), make_shop()
    with clock.frozen(START):
        fan_a = customer_get_or_create(shop=shop_a, email="a@example.com")
        fan_b = customer_get_or_create(shop=shop_b, email="b@example.com")
    _paid(shop_a, fan_a, T1, "A1", [item(ALBUM)])
    _paid(shop_a, fan_a, T1, "A2", [item(SHIRT)])
    _refunded(shop_a, fan_a, T2, "A2")
    _paid(shop_a, fan_a, T1, "A3")  # imported without lines
    _paid(shop_b, fan_b, T1, "B1", [item(ALBUM), item(SHIRT), item(POSTER)])
    with clock.frozen(T2 + days(1)):
        orders = paid_orders(shop=shop_a)
        snapshot = share_snapshot_refresh(shop=shop_a, catalogue=CATALOGUE)
        share = shop_share_for(shop=shop_a, snapshot=snapshot).share
        mine_ = customer_share_for(
            shop=shop_a, customer=fan_a, catalogue=CATALOGUE, snapshot=snapshot
        ).share
    assert [(o.customer_id, [i.product_id for i in o.items]) for o in orders.counted] == [
        (fan_a.pk, [ALBUM])
    ]
    assert orders.without_items == {fan_a.pk: 1}
    assert (snapshot.orders_counted, snapshot.orders_without_items) == (1, 1)
    assert (share.buyers, share.orders_counted, share.orders_without_items) == (1, 1, 1)
    assert [p.product.name for p in mine_.products] == ["Album"]
    assert mine_.orders_without_items == 1
    with pytest.raises(NotFound):
        customer_share_for(shop=shop_a, customer=fan_b, catalogue=CATALOGUE, snapshot=snapshot)


@pytest.mark.django_db
def test_a_refund_counts_only_from_when_it_happened(make_shop):
    """Given an order refunded at T2, then read at T1 it still counts, and after T2 it does not."""
    shop = make_shop()
    with clock.frozen(START):
        fan = customer_get_or_create(shop=shop, email="fan@example.com")
    _paid(shop, fan, T1, "R1", [item(ALBUM)])
    _refunded(shop, fan, T2, "R1")
    assert len(paid_orders(shop=shop, now=T1 + dt.timedelta(hours=1)).counted) == 1
    assert paid_orders(shop=shop, now=T2 + dt.timedelta(hours=1)).counted == []


@pytest.mark.django_db
def test_paying_an_order_records_what_it_bought_for_the_crm(
    shop,
    make_product,
    buy,  # noqa: F811
):
    """Given an order of two products, when it is marked paid, then its ``order_paid``
    interaction lists each line with product, variant, SKU, name, category and quantity, and
    keeps the total and currency."""
    album = make_product(shop, name="After Hours LP", price=35000, category="Music")
    shirt = make_product(shop, name="Moon tee", price=30000, category="Apparel")
    lp, tee = album.variants.get(), shirt.variants.get()
    placed = buy(shop, (lp, 1), (tee, 2)).order
    order_mark_paid(shop=shop, order=placed)
    paid = Interaction.objects.get(shop=shop, kind=Interaction.Kind.ORDER_PAID)
    assert paid.data["total"] == placed.total and paid.data["currency"] == "KRW"
    assert sorted(paid.data["items"], key=lambda i: i["name"]) == [
        {
            "product_id": album.pk,
            "variant_id": lp.pk,
            "sku": lp.sku,
            "name": "After Hours LP",
            "category": "Music",
            "quantity": 1,
        },
        {
            "product_id": shirt.pk,
            "variant_id": tee.pk,
            "sku": tee.sku,
            "name": "Moon tee",
            "category": "Apparel",
            "quantity": 2,
        },
    ]
