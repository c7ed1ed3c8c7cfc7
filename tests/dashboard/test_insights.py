"""The Insights page: every chart with its figures in a table, from an empty shop to the demo's,
in English and Korean, in a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from tests.dashboard.factories import new_shop, new_user

from kinfolk.accounts.models import User
from kinfolk.core import clock
from kinfolk.core.money import format_money
from kinfolk.crm.models import Interaction
from kinfolk.crm.selectors import customers_by_stage
from kinfolk.crm.selectors.insights import _nice_edges, clv_distribution
from kinfolk.crm.services import (
    customer_get_or_create,
    interaction_record,
    rfm_recompute,
    stages_recompute,
)
from kinfolk.crm.services.value import shop_value_refresh

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 6, 30, 9, 0, tzinfo=dt.UTC)
# Session and user, the shop and its staff, the header's shops, then the page's own reads.
MAX_QUERIES = 12
_numbers = itertools.count(1)


def paid(shop, customer, days_ago: int, total: int) -> None:
    interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.ORDER_PAID,
        occurred_at=NOW - dt.timedelta(days=days_ago),
        subject_type="order",
        subject_id=f"I{next(_numbers):06d}",
        data={"total": total, "currency": shop.currency},
        update_stage=False,
    )


def insights(client, shop, *, language: str = "en"):
    with clock.frozen(NOW):
        return client.get(
            reverse("dashboard:insights", kwargs={"shop": shop.slug}),
            HTTP_ACCEPT_LANGUAGE=language,
        )


def chart_data(response) -> dict:
    found = re.search(
        r'<script id="insights-charts" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.DOTALL,
    )
    return json.loads(found.group(1))


@pytest.fixture
def small_shop(client):
    """A USD shop: one big spender who stopped buying a year ago, six recent small buyers and two
    fans who never bought; stages, scores and values computed as the nightly tasks would."""
    owner = new_user()
    shop = new_shop(slug="small-band", owner=owner)
    spender = customer_get_or_create(shop=shop, email="ada@example.com", name="Ada Spender")
    for days_ago in (420, 400, 380, 360):
        paid(shop, spender, days_ago, 90000)
    for n in range(6):
        fan = customer_get_or_create(shop=shop, email=f"recent{n}@example.com")
        paid(shop, fan, 20 + n * 9, 2500)
    for n in range(2):
        customer_get_or_create(shop=shop, email=f"aware{n}@example.com")
    stages_recompute(shop=shop, now=NOW)
    rfm_recompute(shop=shop, now=NOW)
    shop_value_refresh(shop=shop, now=NOW)
    client.force_login(owner)
    return shop, spender


@pytest.mark.parametrize("language", ["en", "ko"])
def test_an_empty_shop_has_calm_empty_panels(client, language, django_assert_max_num_queries):
    """Given a shop without fans, when its owner opens Insights, then every panel says there is
    nothing yet, in the reader's language, and no chart is drawn."""
    owner = new_user()
    shop = new_shop(slug="brand-new", owner=owner)
    client.force_login(owner)

    with django_assert_max_num_queries(MAX_QUERIES):
        response = insights(client, shop, language=language)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    assert chart_data(response) == {"currency": "USD", "charts": {}}
    if language == "en":
        assert "No fans yet" in html
        assert "appear after the nightly refresh" in html


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_small_shop_shows_its_funnel_value_segments_cohorts_and_the_fan_it_is_losing(
    small_shop, client, language, django_assert_max_num_queries
):
    """Given a small shop with stages, scores and values, when its owner opens Insights, then
    the charts carry the shop's own counts, the tables the same figures, the big spender who
    stopped buying is listed at risk, and the fallback is explained."""
    shop, spender = small_shop

    with django_assert_max_num_queries(MAX_QUERIES):
        response = insights(client, shop, language=language)

    assert response.status_code == 200
    html = response.content.decode()
    charts = chart_data(response)["charts"]
    assert charts["chart-funnel"]["series"][0]["data"] == list(
        customers_by_stage(shop=shop).values()
    )
    assert sum(charts["chart-clv"]["series"][0]["data"]) == 7  # every buyer, once
    assert set(charts) == {
        "chart-funnel",
        "chart-clv",
        "chart-segments",
        "chart-holdout-weeks",
        "chart-holdout-groups",
    }
    assert spender.name in html and spender.email in html
    assert format_money(360000, "USD", "ko" if language == "ko" else "en") in html
    assert 'class="heatmap"' in html
    if language == "en":
        assert "Too few repeat buyers for a fitted model (1; 30 needed)" in html
        assert 'Awareness <span aria-hidden="true">→</span>' in html
        assert "Can&#x27;t lose" in html or "At risk" in html


def test_the_value_histogram_holds_every_scored_fan_once(small_shop):
    """Given scored fans, then the lifetime value buckets follow each other without gaps and
    count each fan once."""
    shop, _ = small_shop

    distribution = clv_distribution(shop=shop)

    buckets = distribution["buckets"]
    assert sum(bucket.count for bucket in buckets) == distribution["scored"] == 7
    assert buckets[0].low == 0 and all(a.high == b.low for a, b in itertools.pairwise(buckets))


@pytest.mark.parametrize(
    ("low", "high", "edges"),
    [
        (100, 1234, [100, 200, 500, 1000, 2000]),
        (350, 350, [200, 500]),
        (1, 10**9, [10**k for k in range(11)]),
    ],
)
def test_value_buckets_step_by_one_two_five_or_by_tens_when_that_is_too_many(low, high, edges):
    assert _nice_edges(low, high) == edges


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_demo_band_sees_the_value_check_and_the_method_behind_it(
    client, language, django_assert_max_num_queries
):
    """Given the demo shops (built with their value fits), when the band's owner opens Insights,
    then the page shows the method of the fit and, with enough history, the holdout check."""
    call_command("demo", stdout=io.StringIO(), fans=60, orders=300, seed=11)
    client.force_login(User.objects.get(email="band@kinfolk.test"))
    url = reverse("dashboard:insights", kwargs={"shop": "moonlit-static"})

    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    html = response.content.decode()
    charts = chart_data(response)
    assert charts["currency"] == "KRW"
    assert {"chart-funnel", "chart-clv", "chart-segments"} <= set(charts["charts"])
    assert "chart-holdout-weeks" in charts["charts"]  # three years of history
    assert 'class="fit-method"' in html
    assert 'class="heatmap"' in html and 'class="stack risk-table"' in html
