"""A segment filter finds exactly the shop's customers that meet every criterion it sets, never
another shop's, and survives being stored and read back."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from kinfolk.core import clock
from kinfolk.crm.models import Customer, CustomerScore, Interaction, SavedSegment
from kinfolk.crm.segment_filters import SegmentFilter
from kinfolk.crm.selectors.customers import customers_matching, segment_members
from kinfolk.crm.services import customer_get_or_create, interaction_record
from kinfolk.crm.services.profiles import customer_tag_add

pytestmark = pytest.mark.django_db

_orders = itertools.count(1)
NOW = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)


def make_fan(
    shop,
    email: str,
    *,
    name: str = "",
    stage: str = "awareness",
    country: str = "",
    consent: bool = False,
    created_at: dt.datetime | None = None,
    score: dict | None = None,
    tags: tuple[str, ...] = (),
) -> Customer:
    """Return a customer of ``shop`` as the list would find them, with an optional score row.

    ``score`` holds CustomerScore fields (frequency, monetary, clv, segment, ...); the rest get
    plausible values. Stage and consent are set directly: these tests are about reading them.
    """
    customer = customer_get_or_create(shop=shop, email=email, name=name, country=country)
    Customer.objects.filter(pk=customer.pk).update(
        stage=stage, email_marketing=consent, created_at=created_at or customer.created_at
    )
    if score is not None:
        values = {
            "last_purchase_at": NOW,
            "frequency": 1,
            "monetary": 10000,
            "recency_score": 3,
            "frequency_score": 3,
            "monetary_score": 3,
            "segment": "promising",
            "scored_at": NOW,
            **score,
        }
        CustomerScore.objects.create(customer=customer, shop=shop, **values)
    for tag in tags:
        customer_tag_add(shop=shop, customer=customer, name=tag)
    return Customer.objects.get(pk=customer.pk)


def paid_order(shop, customer, items: list[dict] | None, kind: str = "order_paid") -> Interaction:
    data = {"total": 35000, "currency": shop.currency}
    if items is not None:
        data["items"] = items
    return interaction_record(
        shop=shop,
        customer=customer,
        kind=kind,
        subject_type="order",
        subject_id=f"K{next(_orders):06d}",
        data=data,
        update_stage=False,
    )


def emails(shop, spec: SegmentFilter) -> set[str]:
    return set(customers_matching(shop=shop, spec=spec).values_list("email", flat=True))


@pytest.fixture
def other(make_shop):
    return make_shop("other-shop")


def test_an_empty_filter_matches_every_customer_except_the_erased(shop, other):
    """Given two customers of the shop, one erased, and a customer of another shop,
    when the empty filter is applied, then only the shop's customer who is not erased matches,
    unless erased customers are asked for."""
    make_fan(shop, "kept@example.com")
    erased = make_fan(shop, "gone@example.com")
    Customer.objects.filter(pk=erased.pk).update(erased_at=clock.now())
    make_fan(other, "elsewhere@example.com")
    assert emails(shop, SegmentFilter()) == {"kept@example.com"}
    assert emails(shop, SegmentFilter(include_erased=True)) == {
        "kept@example.com",
        "gone@example.com",
    }


def test_search_finds_part_of_the_address_or_the_name_in_any_case(shop, other):
    make_fan(shop, "minji.kim@example.com", name="Kim Minji")
    make_fan(shop, "jae@example.com", name="Park Jae-won")
    make_fan(other, "minji@elsewhere.example", name="Minji Elsewhere")
    assert emails(shop, SegmentFilter(query="MINJI")) == {"minji.kim@example.com"}
    assert emails(shop, SegmentFilter(query="jae-WON")) == {"jae@example.com"}
    assert emails(shop, SegmentFilter(query="example.com")) == {
        "minji.kim@example.com",
        "jae@example.com",
    }


def test_a_whole_address_finds_that_customer_alone(shop):
    """Given fan5 and superfan5 at the same domain, when searching fan5's whole address (in
    another case), then only fan5 matches: a whole address is an exact look-up."""
    make_fan(shop, "fan5@example.com")
    make_fan(shop, "superfan5@example.com")
    assert emails(shop, SegmentFilter(query=" Fan5@Example.COM ")) == {"fan5@example.com"}


def test_stages_filter_by_one_or_several(shop, other):
    make_fan(shop, "a@example.com", stage="awareness")
    make_fan(shop, "r@example.com", stage="relationship")
    make_fan(shop, "c@example.com", stage="community")
    make_fan(other, "r@other.example", stage="relationship")
    assert emails(shop, SegmentFilter(stages=("relationship",))) == {"r@example.com"}
    assert emails(shop, SegmentFilter(stages=("relationship", "community"))) == {
        "r@example.com",
        "c@example.com",
    }


def test_rfm_segments_and_value_ranges_read_the_score(shop, other):
    """Given customers with scores and one without, value bounds are inclusive, minor units,
    and a customer without a score never meets a value criterion."""
    make_fan(
        shop, "champ@example.com", score={"segment": "champions", "clv": 90000, "monetary": 50000}
    )
    make_fan(
        shop, "risk@example.com", score={"segment": "at_risk", "clv": 30000, "monetary": 20000}
    )
    make_fan(
        shop, "unpredicted@example.com", score={"segment": "new", "clv": None, "monetary": 5000}
    )
    make_fan(shop, "never@example.com")
    make_fan(other, "champ@other.example", score={"segment": "champions", "clv": 90000})
    assert emails(shop, SegmentFilter(segments=("champions",))) == {"champ@example.com"}
    assert emails(shop, SegmentFilter(segments=("champions", "at_risk"))) == {
        "champ@example.com",
        "risk@example.com",
    }
    assert emails(shop, SegmentFilter(clv_min=30000)) == {"champ@example.com", "risk@example.com"}
    assert emails(shop, SegmentFilter(clv_max=30000)) == {"risk@example.com"}
    assert emails(shop, SegmentFilter(clv_min=30001, clv_max=90000)) == {"champ@example.com"}
    assert emails(shop, SegmentFilter(paid_min=5000, paid_max=20000)) == {
        "risk@example.com",
        "unpredicted@example.com",
    }
    assert emails(shop, SegmentFilter(paid_max=0)) == set()


def test_country_and_marketing_consent(shop, other):
    make_fan(shop, "kr-yes@example.com", country="KR", consent=True)
    make_fan(shop, "kr-no@example.com", country="KR", consent=False)
    make_fan(shop, "jp-yes@example.com", country="JP", consent=True)
    make_fan(other, "kr@other.example", country="KR", consent=True)
    assert emails(shop, SegmentFilter(countries=("KR",))) == {
        "kr-yes@example.com",
        "kr-no@example.com",
    }
    assert emails(shop, SegmentFilter(consent=True)) == {"kr-yes@example.com", "jp-yes@example.com"}
    assert emails(shop, SegmentFilter(consent=False)) == {"kr-no@example.com"}
    assert emails(shop, SegmentFilter(countries=("KR", "JP"), consent=True)) == {
        "kr-yes@example.com",
        "jp-yes@example.com",
    }


def test_tags_match_any_of_them_once_and_another_shops_tag_matches_nobody(shop, other):
    vip = make_fan(shop, "vip@example.com", tags=("VIP", "wholesale"))
    make_fan(shop, "busan@example.com", tags=("met in Busan",))
    make_fan(shop, "plain@example.com")
    theirs = make_fan(other, "vip@other.example", tags=("VIP",))
    tag_ids = {tag.name: tag.pk for tag in vip.tags.all()}
    busan = Customer.objects.get(email="busan@example.com").tags.get()
    spec = SegmentFilter(tags=(tag_ids["VIP"], tag_ids["wholesale"], busan.pk))
    matched = list(customers_matching(shop=shop, spec=spec).values_list("email", flat=True))
    assert sorted(matched) == ["busan@example.com", "vip@example.com"]  # each once
    foreign = theirs.tags.get().pk
    assert emails(shop, SegmentFilter(tags=(foreign,))) == set()


def test_products_bought_come_from_the_items_of_paid_orders(shop, other):
    """Given paid orders listing their items (ids as numbers or as text), an order only placed,
    and a paid order without items, then the product filter finds the buyers of any of the
    products, and only through paid orders of the same shop."""
    lp, shirt = make_fan(shop, "lp@example.com"), make_fan(shop, "shirt@example.com")
    placed, old = make_fan(shop, "placed@example.com"), make_fan(shop, "old@example.com")
    paid_order(shop, lp, [{"product_id": 11, "sku": "LP", "name": "LP", "quantity": 1}])
    paid_order(shop, shirt, [{"product_id": "12", "name": "Shirt", "quantity": 2}, {"sku": "x"}])
    paid_order(shop, placed, [{"product_id": 11, "name": "LP"}], kind="order_placed")
    paid_order(shop, old, None)
    paid_order(shop, make_fan(shop, "odd@example.com"), {"product_id": 11})  # not a list
    theirs = make_fan(other, "lp@other.example")
    paid_order(other, theirs, [{"product_id": 11, "name": "LP"}])
    assert emails(shop, SegmentFilter(products=(11,))) == {"lp@example.com"}
    assert emails(shop, SegmentFilter(products=(12,))) == {"shirt@example.com"}
    assert emails(shop, SegmentFilter(products=(11, 12))) == {"lp@example.com", "shirt@example.com"}
    assert emails(shop, SegmentFilter(products=(99,))) == set()


def test_has_bought_and_has_not_bought(shop):
    buyer, browser = make_fan(shop, "buyer@example.com"), make_fan(shop, "browser@example.com")
    paid_order(shop, buyer, None)
    paid_order(shop, browser, None, kind="order_placed")
    assert emails(shop, SegmentFilter(purchased=True)) == {"buyer@example.com"}
    assert emails(shop, SegmentFilter(purchased=False)) == {"browser@example.com"}


def test_criteria_combine_so_that_a_customer_must_meet_every_one(shop):
    make_fan(
        shop,
        "all@example.com",
        stage="community",
        country="KR",
        consent=True,
        score={"clv": 50000},
        tags=("VIP",),
    )
    make_fan(
        shop,
        "no-consent@example.com",
        stage="community",
        country="KR",
        score={"clv": 50000},
        tags=("VIP",),
    )
    make_fan(
        shop,
        "low@example.com",
        stage="community",
        country="KR",
        consent=True,
        score={"clv": 100},
        tags=("VIP",),
    )
    vip = Customer.objects.get(email="all@example.com").tags.get().pk
    spec = SegmentFilter(
        stages=("community",),
        countries=("KR",),
        consent=True,
        clv_min=1000,
        tags=(vip,),
        query="example",
    )
    assert emails(shop, spec) == {"all@example.com"}


def test_a_filter_is_stored_compactly_and_read_back_whole():
    spec = SegmentFilter(
        query="kim",
        stages=("relationship", "community"),
        clv_min=1000,
        consent=False,
        tags=(3, 4),
        products=(7,),
        purchased=True,
    )
    stored = spec.as_dict()
    assert stored == {
        "query": "kim",
        "stages": ["relationship", "community"],
        "clv_min": 1000,
        "consent": False,
        "tags": [3, 4],
        "products": [7],
        "purchased": True,
    }
    assert SegmentFilter.from_dict(stored) == spec
    assert SegmentFilter().as_dict() == {}


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "stage=relationship",
        {"stages": "relationship"},
        {"stages": ["nonsense"]},
        {"clv_min": "1000"},
        {"clv_min": -5},
        {"consent": "yes"},
        {"tags": ["1", True, -3]},
        {"countries": ["Korea", "kr"]},
        {"unknown": 1},
    ],
)
def test_an_unreadable_stored_filter_leaves_that_criterion_unset(stored):
    assert SegmentFilter.from_dict(stored) == SegmentFilter()


def test_segment_members_follow_the_saved_filter_and_never_cross_shops(shop, other):
    make_fan(shop, "r@example.com", stage="relationship")
    make_fan(shop, "a@example.com")
    segment = SavedSegment.objects.create(
        shop=shop,
        name="Close fans",
        filters={"stages": ["relationship"]},
        created_at=NOW,
        updated_at=NOW,
    )
    assert [c.email for c in segment_members(shop=shop, segment=segment)] == ["r@example.com"]
    assert list(segment_members(shop=other, segment=segment)) == []
