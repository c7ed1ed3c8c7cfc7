"""Reserving a copy and joining a waitlist are on the fan's timeline in the shop."""

from __future__ import annotations

import pytest

from kinfolk.crm.models import Customer, Interaction
from kinfolk.drops.services import hold_take, waitlist_join, waitlist_leave
from kinfolk.drops.services.holds import SoldOut

pytestmark = pytest.mark.django_db


def _timeline(shop, email: str) -> list[tuple[str, str]]:
    customer = Customer.objects.get(shop=shop, email=email)
    return list(
        Interaction.objects.filter(customer=customer)
        .order_by("id")
        .values_list("kind", "subject_id")
    )


def test_a_reservation_is_on_the_fans_timeline_once_per_hold(shop, make_edition, moving_clock):
    """Given a fan who reserves a copy, when they reserve again from another tab, then their
    timeline holds one "reserved" entry naming the edition."""
    edition = make_edition(3)
    hold_take(shop=shop, edition=edition, email="Mina@Example.com")
    hold_take(shop=shop, edition=edition, email="mina@example.com")

    assert _timeline(shop, "mina@example.com") == [("drop_reserved", str(edition.pk))]


def test_joining_the_waitlist_is_on_the_timeline_and_rejoining_after_leaving_too(
    shop, make_edition, moving_clock
):
    """Given a sold-out drop, a fan who joins its waitlist, joins again (nothing new), leaves
    and joins once more has two "joined the waitlist" entries."""
    edition = make_edition(1)
    hold_take(shop=shop, edition=edition, email="first@example.com")
    for _ in range(2):
        waitlist_join(shop=shop, edition=edition, email="late@example.com")
    waitlist_leave(shop=shop, edition=edition, email="late@example.com")
    waitlist_join(shop=shop, edition=edition, email="late@example.com")

    assert _timeline(shop, "late@example.com") == [("waitlist_joined", str(edition.pk))] * 2


def test_a_fan_turned_away_sold_out_gets_no_record(shop, make_edition, moving_clock):
    """A reserve answered "sold out" leaves nothing: no customer, no timeline entry."""
    edition = make_edition(1)
    hold_take(shop=shop, edition=edition, email="first@example.com")
    with pytest.raises(SoldOut):
        hold_take(shop=shop, edition=edition, email="second@example.com")

    assert not Customer.objects.filter(shop=shop, email="second@example.com").exists()
