"""Holding, selling and freeing numbered copies: each copy is free, held or sold, never two."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from kinfolk.core.errors import Conflict, InvalidInput, NotFound
from kinfolk.drops.models import Copy, Edition, Hold, WaitlistEntry
from kinfolk.drops.selectors import edition_availability
from kinfolk.drops.services import (
    copies_free_for_order,
    copy_sell,
    edition_create,
    hold_release,
    hold_take,
    waitlist_join,
    waitlist_offer_freed,
)
from kinfolk.drops.services.holds import NoCopyLeft, SoldOut
from tests.drops.conftest import OPENS, order_for

pytestmark = pytest.mark.django_db


def _take(shop, edition, email, **kwargs):
    return hold_take(shop=shop, edition=edition, email=email, **kwargs).hold


def _states(edition) -> dict[int, str]:
    return dict(Copy.objects.filter(edition=edition).values_list("number", "state"))


def test_an_edition_has_its_copies_numbered_one_to_n_all_free(edition):
    assert _states(edition) == {1: "free", 2: "free", 3: "free"}
    # The copies are the stock: the variant itself no longer counts any.
    edition.variant.refresh_from_db()
    assert edition.variant.stock is None


def test_bad_edition_settings_are_refused_field_by_field(shop, make_product):
    product = make_product(shop, name="Box set", stock=None)
    with pytest.raises(InvalidInput) as refused:
        edition_create(
            shop=shop,
            product=product,
            variant=product.variants.get(),
            size=0,
            opens_at=OPENS,
            closes_at=OPENS - dt.timedelta(hours=1),
            early_access=Edition.EarlyAccess.LIST,
            early_access_opens_at=OPENS + dt.timedelta(hours=1),
        )
    assert set(refused.value.errors) == {"size", "closes_at", "early_access_opens_at"}
    assert not Edition.objects.exists()


def test_reserving_before_opening_or_after_closing_is_refused(shop, make_edition, moving_clock):
    edition = make_edition(2, closes_at=OPENS + dt.timedelta(hours=2))
    moving_clock.advance(minutes=-1)
    with pytest.raises(Conflict, match="not opened"):
        _take(shop, edition, "early@example.com")
    moving_clock.advance(hours=3)
    with pytest.raises(Conflict, match="closed"):
        _take(shop, edition, "late@example.com")
    assert not Hold.objects.exists()
    assert set(_states(edition).values()) == {"free"}


def test_early_access_lets_only_the_chosen_fans_in_before_opening(shop, make_edition, moving_clock):
    edition = make_edition(
        2,
        early_access=Edition.EarlyAccess.LIST,
        early_access_opens_at=OPENS - dt.timedelta(hours=1),
        early_access_emails=["Chosen@Example.com"],
    )
    moving_clock.advance(minutes=-30)
    assert _take(shop, edition, "chosen@example.com").status == "active"
    with pytest.raises(Conflict, match="Early access"):
        _take(shop, edition, "stranger@example.com")


def test_a_hold_takes_one_copy_and_a_second_tab_gets_the_same_hold(shop, edition, moving_clock):
    first = hold_take(shop=shop, edition=edition, email="fan@example.com")
    second = hold_take(shop=shop, edition=edition, email=" FAN@example.com ")
    assert first.created and not second.created
    assert second.hold.pk == first.hold.pk
    assert sorted(_states(edition).values()) == ["free", "free", "held"]


def test_when_every_copy_is_held_the_next_fan_hears_it_is_sold_out(shop, edition, moving_clock):
    for n in range(3):
        _take(shop, edition, f"fan{n}@example.com")
    with CaptureQueriesContext(connection) as queries, pytest.raises(SoldOut):
        _take(shop, edition, "fourth@example.com")
    assert Hold.objects.count() == 3
    # Answered from reads alone: the fans still racing for a copy keep the write lock to
    # themselves.
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []


def test_a_lapsed_hold_frees_its_copy_at_once_without_any_worker(shop, edition, moving_clock):
    for n in range(3):
        _take(shop, edition, f"fan{n}@example.com")
    moving_clock.advance(minutes=10)  # exactly the hold time: lapsed
    assert edition_availability(edition=edition, now=moving_clock.now).free == 3
    hold = _take(shop, edition, "patient@example.com")
    assert hold.copy.number == 1
    assert Hold.objects.get(email="fan0@example.com").status == "lapsed"


def test_paying_sells_the_held_copy_with_its_number(shop, edition, moving_clock):
    hold = _take(shop, edition, "fan@example.com")
    order = order_for(shop, edition, "fan@example.com")
    copy = copy_sell(shop=shop, token=hold.token, order=order)
    assert (copy.number, copy.state, copy.order_id) == (1, "sold", order.pk)
    hold.refresh_from_db()
    assert hold.status == "paid"
    # The same payment again changes nothing and answers the same copy.
    assert copy_sell(shop=shop, token=hold.token, order=order).pk == copy.pk


def test_a_late_payment_gets_its_own_copy_when_nobody_took_it(shop, edition, moving_clock):
    hold = _take(shop, edition, "slow@example.com")
    moving_clock.advance(minutes=30)
    copy = copy_sell(
        shop=shop, token=hold.token, order=order_for(shop, edition, "slow@example.com")
    )
    assert copy.number == 1 and copy.state == "sold"


def test_a_late_payment_gets_another_free_copy_when_its_own_was_taken(shop, edition, moving_clock):
    slow = _take(shop, edition, "slow@example.com")
    moving_clock.advance(minutes=11)
    for n in range(2):
        _take(shop, edition, f"quick{n}@example.com")  # one of them takes slow's copy
    copy = copy_sell(
        shop=shop, token=slow.token, order=order_for(shop, edition, "slow@example.com")
    )
    assert copy.state == "sold"
    assert sorted(_states(edition).values()) == ["held", "held", "sold"]


def test_a_late_payment_with_no_copy_left_is_refused_for_a_refund(shop, edition, moving_clock):
    slow = _take(shop, edition, "slow@example.com")
    moving_clock.advance(minutes=11)
    for n in range(3):
        _take(shop, edition, f"quick{n}@example.com")
    order = order_for(shop, edition, "slow@example.com")
    with pytest.raises(NoCopyLeft):
        copy_sell(shop=shop, token=slow.token, order=order)
    assert not Copy.objects.filter(order=order).exists()


def test_the_per_fan_limit_counts_copies_bought_by_address_and_by_account(
    shop, make_edition, moving_clock, make_user
):
    edition = make_edition(5, per_fan_limit=1)
    hold = _take(shop, edition, "fan@example.com")
    copy_sell(shop=shop, token=hold.token, order=order_for(shop, edition, "fan@example.com"))
    with pytest.raises(Conflict, match="most copies"):
        _take(shop, edition, "Fan@Example.com")


def test_a_cancelled_order_frees_its_copy_and_voids_its_certificate_code(
    shop, edition, moving_clock
):
    hold = _take(shop, edition, "fan@example.com")
    order = order_for(shop, edition, "fan@example.com")
    copy = copy_sell(shop=shop, token=hold.token, order=order)
    code = copy.verification_code
    assert copies_free_for_order(shop=shop, order=order) == 1
    copy.refresh_from_db()
    assert copy.state == "free" and copy.order_id is None
    assert copy.verification_code != code


def test_releasing_gives_the_copy_back_and_only_its_fan_may(shop, edition, moving_clock):
    hold = _take(shop, edition, "fan@example.com")
    with pytest.raises(NotFound):
        hold_release(shop=shop, token=hold.token, email="thief@example.com")
    with pytest.raises(NotFound):
        hold_release(shop=shop, token="0" * 32, email="fan@example.com")
    hold_release(shop=shop, token=hold.token, email="fan@example.com")
    assert set(_states(edition).values()) == {"free"}


def test_the_database_refuses_a_copy_in_two_states(shop, edition, moving_clock):
    hold = _take(shop, edition, "fan@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Copy.objects.filter(hold=hold).update(state="free")
    with pytest.raises(IntegrityError), transaction.atomic():
        Copy.objects.filter(number=2, edition=edition).update(number=1)


def test_a_freed_copy_is_offered_to_the_waitlist_in_turn_and_a_lapsed_offer_passes_on(
    shop, edition, moving_clock
):
    holds = [_take(shop, edition, f"fan{n}@example.com") for n in range(3)]
    first = waitlist_join(shop=shop, edition=edition, email="first@example.com")
    second = waitlist_join(shop=shop, edition=edition, email="second@example.com")
    assert waitlist_offer_freed(shop=shop, edition=edition) == []

    hold_release(shop=shop, token=holds[0].token, email="fan0@example.com")
    offered = waitlist_offer_freed(shop=shop, edition=edition)
    assert [entry.email for entry in offered] == ["first@example.com"]
    first.refresh_from_db()
    assert first.status == "offered" and first.offer.source == "waitlist"

    moving_clock.advance(minutes=10)  # the offer and the other holds lapse
    offered = waitlist_offer_freed(shop=shop, edition=edition)
    assert [entry.email for entry in offered] == ["second@example.com"]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == WaitlistEntry.Status.PASSED
    assert second.status == WaitlistEntry.Status.OFFERED
