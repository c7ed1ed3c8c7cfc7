"""The privacy pages of a customer: merging two records, downloading a customer's data and
erasing it, for the shop's own staff only."""

from __future__ import annotations

import json

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from tests.dashboard.factories import new_user
from tests.dashboard.test_access import object_kwargs, post_data, snapshot

from kinfolk.crm.models import Customer, CustomerMerge, Erasure
from kinfolk.crm.services import customer_get_or_create
from kinfolk.dashboard.views.privacy import customer_page_url
from kinfolk.orders.models import Order

pytestmark = pytest.mark.django_db

PRIVACY_URLS = ("customer_merge", "customer_data_export", "customer_erase")


def url(world, name: str, customer) -> str:
    return reverse(
        f"dashboard:{name}", kwargs={"shop": world.shop.slug, "customer_id": customer.pk}
    )


@pytest.mark.parametrize("name", PRIVACY_URLS)
def test_privacy_pages_are_404_for_staff_of_another_shop_before_anything_changes(
    staff_client, world_a, world_b, name
):
    """Given staff of shop A, each privacy page filled with shop B's slug or with shop B's
    customers under shop A's slug answers 404 for GET and POST, and nothing of shop B
    changes (a merge candidate of shop B included)."""
    before = snapshot(world_b)
    data = {
        **post_data(world_b),
        "with": str(world_b.customers[1].pk),
        "keep": "this",
        "confirmation": world_b.customers[0].email,
    }
    for kwargs in object_kwargs(world_b, {"shop", "customer_id"}):
        for slug in (world_b.shop.slug, world_a.shop.slug):
            target = reverse(f"dashboard:{name}", kwargs={"shop": slug, **kwargs})
            assert staff_client.get(target).status_code == 404, target
            assert staff_client.post(target, data).status_code == 404, target
    assert snapshot(world_b) == before


def test_the_customer_page_partial_links_to_the_three_actions(world_a):
    customer = world_a.customers[0]
    html = render_to_string(
        "dashboard/_customer_privacy_actions.html", {"shop": world_a.shop, "customer": customer}
    )
    for name in PRIVACY_URLS:
        assert url(world_a, name, customer) in html


def test_staff_find_the_other_record_compare_and_merge(staff_client, world_a, world_b):
    """Given two records of one fan in shop A, when staff search, compare and merge keeping
    the page's own record, then they land on the kept customer's page and the other record's
    orders belong to it."""
    kept, merged = world_a.customers[0], world_a.customers[1]
    Customer.objects.filter(pk=merged.pk).update(name="Ada Lovelace Second")
    merge_url = url(world_a, "customer_merge", kept)

    search = staff_client.get(merge_url, {"q": "lovelace second"})
    assert search.status_code == 200
    page = search.content.decode()
    assert f"?with={merged.pk}" in page and f"?with={kept.pk}" not in page
    assert world_b.customers[0].email not in page

    compare = staff_client.get(merge_url, {"with": merged.pk})
    assert compare.status_code == 200
    page = compare.content.decode()
    assert kept.email in page and merged.email in page and "Orders: 1" in page

    response = staff_client.post(merge_url, {"with": merged.pk, "keep": "this"})

    assert response.status_code == 302
    assert response["Location"] == customer_page_url(world_a.shop, kept)
    assert not Customer.objects.filter(pk=merged.pk).exists()
    assert Order.objects.filter(customer=kept).count() == 2
    merge = CustomerMerge.objects.get()
    assert (merge.kept, merge.merged_by, merge.automatic) == (kept, world_a.owner, False)


def test_staff_can_keep_the_other_record(staff_client, world_a):
    page_customer, other = world_a.customers[0], world_a.customers[1]
    response = staff_client.post(
        url(world_a, "customer_merge", page_customer), {"with": other.pk, "keep": "other"}
    )
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=page_customer.pk).exists()
    assert CustomerMerge.objects.get().kept == other


def test_a_refused_merge_shows_why_and_changes_nothing(staff_client, world_a):
    """Given two records linked to two different accounts, when staff try to merge them,
    then the comparison is shown again with the reason, and both records stay."""
    first, second = world_a.customers[0], world_a.customers[1]
    Customer.objects.filter(pk=first.pk).update(account=new_user())
    Customer.objects.filter(pk=second.pk).update(account=new_user())

    response = staff_client.post(
        url(world_a, "customer_merge", first), {"with": second.pk, "keep": "this"}
    )

    assert response.status_code == 409
    assert "two people" in response.content.decode()
    assert Customer.objects.filter(pk__in=[first.pk, second.pk]).count() == 2
    assert not CustomerMerge.objects.exists()


def test_a_merge_without_a_choice_asks_for_one(staff_client, world_a):
    first, second = world_a.customers[0], world_a.customers[1]
    response = staff_client.post(url(world_a, "customer_merge", first), {"with": second.pk})
    assert response.status_code == 400
    assert "Choose the record to keep." in response.content.decode()
    assert not CustomerMerge.objects.exists()


@pytest.mark.parametrize("other", ["self", "other_shop", "garbage", "huge"])
def test_the_other_record_must_be_another_customer_of_the_same_shop(
    staff_client, world_a, world_b, other
):
    customer = world_a.customers[0]
    value = {
        "self": str(customer.pk),
        "other_shop": str(world_b.customers[0].pk),
        "garbage": "12ab",
        "huge": "9" * 30,
    }[other]
    merge_url = url(world_a, "customer_merge", customer)
    assert staff_client.get(merge_url, {"with": value}).status_code == 404
    assert staff_client.post(merge_url, {"with": value, "keep": "this"}).status_code == 404
    assert not CustomerMerge.objects.exists()


def test_the_candidate_search_takes_a_fixed_number_of_queries(
    staff_client, world_a, django_assert_max_num_queries
):
    for n in range(30):
        customer_get_or_create(shop=world_a.shop, email=f"lookalike{n}@example.com")
    with django_assert_max_num_queries(6):
        response = staff_client.get(
            url(world_a, "customer_merge", world_a.customers[0]), {"q": "lookalike"}
        )
    assert response.content.decode().count("?with=") == 20


def test_staff_download_the_customers_data_as_a_json_file(staff_client, world_a):
    customer = world_a.customers[1]
    response = staff_client.get(url(world_a, "customer_data_export", customer))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["profile"]["email"] == customer.email
    assert [order["number"] for order in data["orders"]] == [world_a.orders["paid"].number]


def test_erasing_takes_the_typed_address_and_then_says_it_is_done(staff_client, world_a):
    """Given a customer, when staff type a wrong address, then nothing is erased and the
    error is next to the field; with the right one the data is erased; a second try says it
    was already done."""
    customer = world_a.customers[0]
    erase_url = url(world_a, "customer_erase", customer)
    page = staff_client.get(erase_url).content.decode()
    assert "account is not deleted" in page and customer.email in page

    wrong = staff_client.post(erase_url, {"confirmation": "someone@else.example"})
    assert wrong.status_code == 400
    assert 'aria-invalid="true"' in wrong.content.decode()
    assert Customer.objects.get(pk=customer.pk).erased_at is None

    done = staff_client.post(erase_url, {"confirmation": customer.email.upper()})
    assert done.status_code == 302
    erased = Customer.objects.get(pk=customer.pk)
    assert erased.erased_at is not None and erased.email == ""
    assert Erasure.objects.get(customer=customer).requested_by == Erasure.RequestedBy.STAFF

    again = staff_client.post(erase_url, {"confirmation": customer.email})
    assert again.status_code == 409
    assert "already erased" in again.content.decode()
    assert Erasure.objects.filter(customer=customer).count() == 1
    assert "There is nothing left to erase" in staff_client.get(erase_url).content.decode()
