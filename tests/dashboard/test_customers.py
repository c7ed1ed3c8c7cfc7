"""The customers list: filters, sortable columns, seek pages that show everyone exactly once in
both directions, a bounded number of queries, and the CSV export."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from tests.crm.test_segment_filters import NOW, make_fan
from tests.dashboard.factories import new_shop, new_user

from kinfolk.crm.models import Customer
from kinfolk.crm.segment_filters import SegmentFilter
from kinfolk.crm.selectors.customers import SORTS, Sort, customers_page

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<a href="/dashboard/[^/]+/customers/(\d+)/" class="customer-name">')


def shown_ids(response) -> list[int]:
    return [int(pk) for pk in ROW.findall(response.content.decode())]


def link(response, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" rel="{rel}">', response.content.decode())
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.fixture
def owner():
    return new_user()


@pytest.fixture
def big_shop(owner):
    """A USD shop with 120 customers: many share a lifetime value, a total, an order count and
    a name, some have no score or no name, so every sort has ties and empty values."""
    shop = new_shop(slug="busy-band", owner=owner)
    stages = ["awareness", "identification", "relationship", "community"]
    for n in range(120):
        score = None
        if n % 5:
            score = {
                "clv": None if n % 7 == 0 else (n % 4) * 1000,
                "monetary": (n % 3) * 500,
                "frequency": n % 2 + 1,
                "last_purchase_at": NOW - dt.timedelta(days=n % 6),
            }
        make_fan(
            shop,
            f"fan{n:03d}@example.com",
            name="" if n % 9 == 0 else f"Fan {n % 10}",
            stage=stages[n % 4],
            created_at=NOW - dt.timedelta(days=n % 8),
            score=score,
        )
    return shop


def expected_order(shop, sort: Sort) -> list[int]:
    """Return every customer id in ``sort`` order, computed in Python from the rows."""
    customers = list(Customer.objects.filter(shop=shop).select_related("score"))
    rank = {"awareness": 0, "identification": 1, "relationship": 2, "community": 3}

    def score_field(customer, name):
        score = getattr(customer, "score", None)
        return None if score is None else getattr(score, name)

    values = {
        "since": lambda c: c.created_at,
        "name": lambda c: c.name or None,
        "stage": lambda c: rank[c.stage],
        "clv": lambda c: score_field(c, "clv"),
        "paid": lambda c: score_field(c, "monetary"),
        "orders": lambda c: score_field(c, "frequency"),
        "last_purchase": lambda c: score_field(c, "last_purchase_at"),
    }[sort.key]
    with_value = [c for c in customers if values(c) is not None]
    without = [c for c in customers if values(c) is None]
    with_value.sort(key=lambda c: (values(c), c.pk), reverse=sort.descending)
    without.sort(key=lambda c: c.pk, reverse=sort.descending)
    return [c.pk for c in with_value + without]


@pytest.mark.parametrize("sort", [f"{sign}{key}" for key in SORTS for sign in ("", "-")])
def test_every_sort_pages_through_everyone_once_forwards_and_back(big_shop, sort):
    """Given 120 customers with ties and missing values, when paging 7 at a time with the seek
    cursors, then the pages follow the sort (ties by id, empty values last), everyone appears
    exactly once, and paging back gives the same pages in reverse."""
    order, spec = Sort.parse(sort), SegmentFilter()
    pages, after = [], None
    while True:
        page = customers_page(shop=big_shop, spec=spec, sort=order, after=after, size=7)
        pages.append(page)
        if not page.next_cursor:
            break
        after = page.next_cursor
    seen = [c.pk for page in pages for c in page.customers]
    assert seen == expected_order(big_shop, order)
    assert pages[0].previous_cursor is None
    back = []
    before = pages[-1].previous_cursor
    while before:
        page = customers_page(shop=big_shop, spec=spec, sort=order, before=before, size=7)
        back.append([c.pk for c in page.customers])
        before = page.previous_cursor
    assert back == [[c.pk for c in page.customers] for page in reversed(pages[:-1])]


def test_the_list_pages_with_next_and_previous_links(client, owner, big_shop):
    """Given 120 customers, the list shows 50, then 50, then 20 through its "next" links with
    a stage filter and a sort kept, and "previous" goes back to the same page."""
    client.force_login(owner)
    url = reverse("dashboard:customers", kwargs={"shop": big_shop.slug})
    first = client.get(url, {"f": "1", "stage": ["relationship", "community"], "sort": "-clv"})
    assert first.status_code == 200
    ids = shown_ids(first)
    second = client.get(url + link(first, "next"))
    assert "stage=relationship" in link(first, "next") and "sort=-clv" in link(first, "next")
    ids += shown_ids(second)
    assert link(second, "next") is None
    wanted = Customer.objects.filter(shop=big_shop, stage__in=["relationship", "community"])
    assert sorted(ids) == sorted(wanted.values_list("pk", flat=True))
    assert len(ids) == len(set(ids)) == 60
    back = client.get(url + link(second, "prev"))
    assert shown_ids(back) == shown_ids(first)


@pytest.mark.parametrize("customers", [3, 60])
def test_the_list_runs_the_same_number_of_queries_whatever_its_length(
    client, owner, customers, django_assert_max_num_queries
):
    shop = new_shop(slug="counted", owner=owner)
    for n in range(customers):
        make_fan(shop, f"fan{n}@example.com", score={"clv": n} if n % 2 else None, tags=("VIP",))
    client.force_login(owner)
    url = reverse("dashboard:customers", kwargs={"shop": shop.slug})
    # Session, user, shop, staff shops; tags and products for the filters; the page (one query
    # per partition reached); four capped stage counts.
    with django_assert_max_num_queries(12):
        response = client.get(url, {"sort": "-clv"})
    assert response.status_code == 200
    assert len(shown_ids(response)) == min(customers, 50)
    with django_assert_max_num_queries(12):
        response = client.get(url, {"f": "1", "stage": "awareness", "tag": "1", "q": "fan"})
    assert response.status_code == 200


def test_the_list_shows_stage_counts_only_when_the_stage_is_the_only_filter(client, owner):
    shop = new_shop(slug="counts", owner=owner)
    for n in range(3):
        make_fan(shop, f"r{n}@example.com", stage="relationship", country="KR")
    make_fan(shop, "a@example.com")
    client.force_login(owner)
    url = reverse("dashboard:customers", kwargs={"shop": shop.slug})
    page = client.get(url).content.decode()
    assert re.search(r'Relationship <span class="count">3</span>', page)
    assert re.search(r'All <span class="count">4</span>', page)
    filtered = client.get(url, {"f": "1", "country": "KR"}).content.decode()
    assert 'class="count"' not in filtered


def test_filters_search_and_another_shops_customers(client, owner):
    shop = new_shop(slug="mine", owner=owner)
    make_fan(shop, "minji@example.com", name="Kim Minji", stage="community", score={"clv": 9000})
    make_fan(shop, "jae@example.com", name="Park Jae", stage="community")
    other = new_shop(slug="theirs", owner=new_user())
    make_fan(other, "minji@other.example", name="Minji Other", stage="community")
    client.force_login(owner)
    url = reverse("dashboard:customers", kwargs={"shop": shop.slug})
    page = client.get(url, {"f": "1", "q": "minji"}).content.decode()
    assert "minji@example.com" in page and "jae@example.com" not in page
    assert "minji@other.example" not in page
    page = client.get(url, {"f": "1", "stage": "community", "clv_min": "50.00"}).content.decode()
    assert "minji@example.com" in page and "jae@example.com" not in page
    assert "Lifetime value: at least $50.00" in page


def test_a_bad_amount_is_shown_next_to_its_field_and_the_other_filters_still_apply(client, owner):
    shop = new_shop(slug="typos", owner=owner)
    make_fan(shop, "r@example.com", stage="relationship")
    make_fan(shop, "a@example.com")
    client.force_login(owner)
    url = reverse("dashboard:customers", kwargs={"shop": shop.slug})
    response = client.get(
        url, {"f": "1", "stage": "relationship", "clv_min": "lots", "paid_min": "1.234"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter an amount such as 12.50." in page
    assert "USD amounts have at most 2 decimal places." in page
    assert 'value="lots"' in page  # what was typed stays
    assert "r@example.com" in page and "a@example.com" not in page


def cursor(value) -> str:
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        {"after": "not-a-cursor"},
        {"before": "WzAsIm5vcGUiLDFd"},
        {"sort": "-clv", "after": cursor([0, 10**30, 5])},
        {"sort": "-clv", "after": cursor([0, 5, -(10**30)])},
        {"sort": "name", "before": cursor([0, {"a": 1}, 5])},
        {"sort": "since", "after": cursor([0, "2026-01-01T00:00:00", 5])},
        {"sort": "since", "after": cursor([7, "2026-01-01T00:00:00+00:00", 5])},
        {"sort": "'; DROP TABLE crm_customer; --"},
        {"f": "1", "stage": "nonsense", "tag": "abc", "product": "99999999999999999999"},
        {"f": "1", "q": "x" * 5000},
    ],
)
def test_hostile_query_strings_give_a_page_not_an_error(client, owner, query):
    shop = new_shop(slug="hostile", owner=owner)
    make_fan(shop, "fan@example.com", score={"clv": 1})
    client.force_login(owner)
    response = client.get(reverse("dashboard:customers", kwargs={"shop": shop.slug}), query)
    assert response.status_code == 200


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_export_streams_the_filtered_customers_with_their_figures(client, owner):
    """Given a scored customer with tags, one without a score and one in another stage, the
    export of the relationship stage has a header and one row each, amounts in major units."""
    shop = new_shop(slug="export", owner=owner)
    make_fan(
        shop,
        "minji@example.com",
        name="Kim Minji",
        stage="relationship",
        country="KR",
        consent=True,
        created_at=dt.datetime(2025, 1, 2, 3, tzinfo=dt.UTC),
        score={
            "segment": "champions",
            "recency_score": 5,
            "frequency_score": 4,
            "monetary_score": 5,
            "frequency": 3,
            "monetary": 123456,
            "clv": 250000,
            "p_alive": 0.876,
            "last_purchase_at": dt.datetime(2026, 4, 30, 23, tzinfo=dt.UTC),
        },
        tags=("wholesale", "VIP"),
    )
    make_fan(shop, "new@example.com", stage="relationship")
    make_fan(shop, "elsewhere@example.com", stage="awareness")
    client.force_login(owner)
    url = reverse("dashboard:customers_export", kwargs={"shop": shop.slug})
    response = client.get(url, {"f": "1", "stage": "relationship"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[:5] == ["E-mail", "Name", "Country", "Stage", "Segment"]
    assert "Total paid (USD)" in header and "Lifetime value (USD)" in header
    by_email = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_email) == {"minji@example.com", "new@example.com"}
    minji = by_email["minji@example.com"]
    assert minji["Stage"] == "Relationship" and minji["Segment"] == "Champions"
    assert (minji["R"], minji["F"], minji["M"], minji["Orders"]) == ("5", "4", "5", "3")
    assert minji["Total paid (USD)"] == "1234.56"
    assert minji["Lifetime value (USD)"] == "2500.00"
    assert minji["Probability alive"] == "0.88"
    assert minji["Customer since"] == "2025-01-02"
    assert minji["Last purchase"] == "2026-04-30"
    assert minji["Agreed to marketing e-mail"] == "yes"
    assert minji["Tags"] == "VIP; wholesale"
    assert by_email["new@example.com"]["Total paid (USD)"] == "0.00"
    assert by_email["new@example.com"]["Lifetime value (USD)"] == ""


def test_the_export_cannot_smuggle_a_formula_into_a_spreadsheet(client, owner):
    shop = new_shop(slug="formulas", owner=owner)
    make_fan(shop, "a@example.com", name='=HYPERLINK("http://evil","x")', tags=("+1 fan",))
    make_fan(shop, "b@example.com", name="-2+3")
    make_fan(shop, "c@example.com", name="@SUM(A1)")
    make_fan(shop, "d@example.com", name="Plain = fine")
    client.force_login(owner)
    response = client.get(reverse("dashboard:customers_export", kwargs={"shop": shop.slug}))
    _header, *rows = read_csv(response)
    names = {row[0]: row[1] for row in rows}
    assert names["a@example.com"] == '\'=HYPERLINK("http://evil","x")'
    assert names["b@example.com"] == "'-2+3"
    assert names["c@example.com"] == "'@SUM(A1)"
    assert names["d@example.com"] == "Plain = fine"
    tags = {row[0]: row[-1] for row in rows}
    assert tags["a@example.com"] == "'+1 fan"


def test_the_list_and_export_links_carry_the_filters(client, owner):
    shop = new_shop(slug="links", owner=owner)
    make_fan(shop, "fan@example.com", stage="community")
    client.force_login(owner)
    url = reverse("dashboard:customers", kwargs={"shop": shop.slug})
    page = client.get(url, {"f": "1", "stage": "community", "consent": "no"}).content.decode()
    export = re.search(r'href="([^"]*/customers/export\.csv[^"]*)"', page).group(1)
    query = parse_qs(urlsplit(export.replace("&amp;", "&")).query)
    assert query["stage"] == ["community"] and query["consent"] == ["no"]
