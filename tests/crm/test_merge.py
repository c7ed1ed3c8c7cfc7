"""Two records of one person become one: everything of the merged record moves to the kept one
and nothing of it is left; merges that would mix up two people, two shops or an erased person
are refused; an account whose address changed takes its other record along automatically."""

from __future__ import annotations

import datetime as dt

import pytest

from kinfolk.core import clock
from kinfolk.core.errors import Conflict, InvalidInput
from kinfolk.crm.models import (
    ConsentRecord,
    Customer,
    CustomerDate,
    CustomerMerge,
    CustomerScore,
    Interaction,
    Stage,
    StageChange,
    Tag,
)
from kinfolk.crm.services import customer_get_or_create, customers_link_account, rfm_recompute
from kinfolk.crm.services.merges import customer_merge, merge_candidates, merge_preview
from kinfolk.crm.services.privacy import customer_erase
from kinfolk.orders.models import Order
from kinfolk.orders.services import lifecycle
from tests.crm.test_privacy import fan_history, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def variant(shop, make_product):
    return make_product(shop, name="Vinyl LP", price=35000, stock=50).variants.get()


def rows_pointing_at(customer_id: int) -> dict[str, int]:
    """Return, per model of every app, how many rows point at the customer id."""
    counts = {}
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        n = model._base_manager.filter(**{f"{relation.field.name}_id": customer_id}).count()
        if n:
            counts[model._meta.label] = n
    tags = Customer.tags.through.objects.filter(customer_id=customer_id).count()
    if tags:
        counts["tags"] = tags
    return counts


def test_a_merge_moves_every_row_of_the_merged_customer_and_leaves_nothing_of_it(
    shop, variant, make_user
):
    """Given two records of one person, each with orders, notes, consent, dates and tags (one
    shared), when one is merged into the other, then every row of the merged record belongs to
    the kept one, the merged record is gone, and the merge says what moved and who did it."""
    source = fan_history(shop, variant, email="minji.old@example.com", name="Kim Minji")
    target = fan_history(shop, variant, email="minji@example.com", name="Minji")
    Tag.objects.create(shop=shop, name="met at the show").customers.add(
        source.customer, target.customer
    )
    rfm_recompute(shop=shop)
    before_source = rows_pointing_at(source.customer.pk)
    before_target = rows_pointing_at(target.customer.pk)
    staff = shop.memberships.first().user

    merge = customer_merge(shop=shop, source=source.customer, target=target.customer, actor=staff)

    assert not Customer.objects.filter(pk=source.customer.pk).exists()
    assert rows_pointing_at(source.customer.pk) == {}
    after = rows_pointing_at(target.customer.pk)
    for label in ("crm.Interaction", "crm.ConsentRecord", "orders.Order", "crm.StageChange"):
        # Plus the merge's own note on the timeline, and any stage change it caused.
        assert after.get(label, 0) >= before_source.get(label, 0) + before_target.get(label, 0)
    assert Order.objects.filter(customer=target.customer).count() == 4
    assert CustomerDate.objects.filter(customer=target.customer).count() == 1  # same birthday
    assert set(target.customer.tags.values_list("name", flat=True)) == {
        f"vip-{shop.slug}",
        "met at the show",
    }
    assert not CustomerScore.objects.filter(customer_id=source.customer.pk).exists()
    assert (merge.kept, merge.merged_customer_id, merge.merged_email, merge.merged_by) == (
        target.customer,
        source.customer.pk,
        "minji.old@example.com",
        staff,
    )
    assert merge.moved["orders"] == 2 and merge.moved["interactions"] >= 5
    assert merge.moved["tags"] == 0 and merge.moved["dates"] == 0
    note = Interaction.objects.get(customer=target.customer, subject_type="customer_merge")
    assert note.kind == Interaction.Kind.NOTE
    assert note.data["text"] == "Merged with minji.old@example.com"


def test_the_kept_customer_keeps_its_details_and_takes_only_what_it_lacks(shop, make_user):
    """Given a kept record without name, country or account and a merged one with all three,
    when merged, then the kept record takes them, its own address stays, and its start is the
    earlier of the two."""
    account = make_user("minji.old@example.com")
    source = customer_get_or_create(
        shop=shop, email="minji.old@example.com", name="Kim Minji", country="KR", account=account
    )
    target = customer_get_or_create(shop=shop, email="minji@example.com")

    customer_merge(shop=shop, source=source, target=target)

    target.refresh_from_db()
    assert (target.email, target.name, target.country, target.account) == (
        "minji@example.com",
        "Kim Minji",
        "KR",
        account,
    )
    assert target.created_at == source.created_at


def test_the_latest_consent_answer_of_either_record_wins(shop):
    """Given a kept record that said yes to marketing e-mail and a merged one that said no
    later, when merged, then the kept record says no."""
    source = customer_get_or_create(shop=shop, email="a@example.com")
    target = customer_get_or_create(shop=shop, email="b@example.com")
    now = clock.now()
    for customer, granted, minutes in ((target, True, 0), (source, False, 5)):
        ConsentRecord.objects.create(
            shop=shop,
            customer=customer,
            topic=ConsentRecord.Topic.EMAIL_MARKETING,
            granted=granted,
            recorded_at=now + dt.timedelta(minutes=minutes),
            source="test",
        )
    Customer.objects.filter(pk=target.pk).update(email_marketing=True)

    customer_merge(shop=shop, source=source, target=target)

    target.refresh_from_db()
    assert target.email_marketing is False


def test_the_kept_customers_stage_follows_the_whole_history(shop, variant):
    """Given two records with one paid order each (identification each), when merged, then
    the kept record has two paid orders and moves to the relationship stage, with the change
    recorded."""
    first = place(shop, variant, email="a@example.com", name="Kim Minji")
    second = place(shop, variant, email="b@example.com", name="Kim Minji")
    for order in (first, second):
        lifecycle.order_mark_paid(shop=shop, order=order)
    source, target = first.customer, second.customer

    customer_merge(shop=shop, source=source, target=target)

    target.refresh_from_db()
    assert target.stage == Stage.RELATIONSHIP
    assert StageChange.objects.filter(customer=target, to_stage=Stage.RELATIONSHIP).exists()


@pytest.mark.parametrize("case", ["itself", "other_shop", "erased", "two_accounts"])
def test_merges_that_would_mix_up_people_are_refused_and_change_nothing(
    shop, variant, make_shop, make_user, case
):
    source = fan_history(shop, variant, email="a@example.com", name="Kim Minji").customer
    target = customer_get_or_create(shop=shop, email="b@example.com")
    error = InvalidInput
    if case == "itself":
        target = source
    elif case == "other_shop":
        target = customer_get_or_create(shop=make_shop(), email="b@example.com")
    elif case == "erased":
        customer_erase(shop=shop, customer=target, requested_by="staff")
        error = Conflict
    else:
        Customer.objects.filter(pk=source.pk).update(account=make_user("a@example.com"))
        Customer.objects.filter(pk=target.pk).update(account=make_user("b@example.com"))
        error = Conflict
    before = rows_pointing_at(source.pk)

    with pytest.raises(error) as info:
        customer_merge(shop=shop, source=source, target=target)

    assert info.value.message
    assert Customer.objects.filter(pk=source.pk).exists()
    assert rows_pointing_at(source.pk) == before
    assert not CustomerMerge.objects.exists()


def test_an_account_whose_address_changed_takes_its_other_record_along_at_checkout(
    shop, variant, make_user
):
    """Given a fan's record linked to their account under the old address, and a guest order
    placed with their new address, when the account's address is changed and the fan checks
    out logged in with it, then the guest record is merged into the account's record
    automatically, which now carries the new address."""
    account = make_user("old@example.com")
    linked = place(shop, variant, email="old@example.com", name="Kim Minji", account=account)
    guest = place(shop, variant, email="new@example.com", name="Kim Minji")
    assert linked.customer.account == account and guest.customer.account is None
    account.email = "new@example.com"
    account.save()

    third = place(shop, variant, email="new@example.com", name="Kim Minji", account=account)

    assert third.customer_id == linked.customer_id
    kept = Customer.objects.get(pk=linked.customer_id)
    assert (kept.email, kept.account) == ("new@example.com", account)
    assert not Customer.objects.filter(pk=guest.customer_id).exists()
    assert Order.objects.filter(customer=kept).count() == 3
    merge = CustomerMerge.objects.get()
    assert merge.automatic and merge.merged_email == "new@example.com"


def test_confirming_an_account_merges_instead_of_linking_a_second_record(
    shop, make_shop, make_user
):
    """Given an account linked in shop A under its old address, and guest records with its new
    address in shop A and shop B, when the account's records are linked, then shop A's guest
    record is merged into the linked one and shop B's is linked; nothing fails."""
    other_shop = make_shop()
    account = make_user("old@example.com")
    linked = customer_get_or_create(shop=shop, email="old@example.com", account=account)
    guest = customer_get_or_create(shop=shop, email="new@example.com")
    elsewhere = customer_get_or_create(shop=other_shop, email="new@example.com")
    account.email = "new@example.com"
    account.save()

    assert customers_link_account(account=account) == 1

    assert not Customer.objects.filter(pk=guest.pk).exists()
    assert Customer.objects.get(pk=linked.pk).email == "new@example.com"
    assert Customer.objects.get(pk=elsewhere.pk).account == account
    assert CustomerMerge.objects.get().automatic


def test_an_address_held_by_another_account_is_left_alone(shop, make_user):
    """Given the account's new address held by a record linked to another account (whose own
    address has moved on), when the account checks out with it, then nothing is merged and no error is raised."""
    account = make_user("old@example.com")
    linked = customer_get_or_create(shop=shop, email="old@example.com", account=account)
    someone = make_user("someone@example.com")
    theirs = customer_get_or_create(shop=shop, email="someone@example.com", account=someone)
    someone.email = "someone.new@example.com"  # their record keeps the address they left
    someone.save()
    account.email = "someone@example.com"
    account.save()

    found = customer_get_or_create(shop=shop, email="someone@example.com", account=account)

    assert found.pk == theirs.pk and found.account == someone
    assert Customer.objects.get(pk=linked.pk).email == "old@example.com"
    assert not CustomerMerge.objects.exists()


def test_merge_candidates_are_the_shops_other_living_customers(shop, make_shop):
    me = customer_get_or_create(shop=shop, email="minji@example.com", name="Kim Minji")
    twin = customer_get_or_create(shop=shop, email="kim.m@example.com", name="Minji")
    gone = customer_get_or_create(shop=shop, email="minji2@example.com")
    customer_erase(shop=shop, customer=gone, requested_by="staff")
    customer_get_or_create(shop=make_shop(), email="minji@other.example")

    found = list(merge_candidates(shop=shop, customer=me, query="minji"))

    assert found == [twin]
    assert merge_preview(customer=me) == {}
