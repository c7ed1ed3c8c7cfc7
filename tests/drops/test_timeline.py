"""Reserving a copy and joining a waitlist are on the fan's timeline in the shop."""

from __future__ import annotations

import pytest

from kinfolk.crm.models import Customer, Interaction
from kinfolk.drops.services import hold_take, waitlist_join, waitlist_leave
from kinfolk.drops.services.holds import SoldOut

# Real commits: the timeline entries are written by the worker after the reservation commits.
pytestmark = pytest.mark.django_db(transaction=True)


def _timeline(shop, email: str) -> list[tuple[str, str]]:
    customer = Customer.objects.get(shop=shop, email=email)
    return list(
        Interaction.objects.filter(customer=customer)
        .order_by("id")
        .values_list("kind", "subject_id")
    )


@pytest.fixture
def committed(run_tasks):
    """Run a service (its transaction commits), then the worker's queued tasks."""

    def run(service, **kwargs):
        try:
            return service(**kwargs)
        finally:
            run_tasks()

    return run


def test_a_reservation_is_on_the_fans_timeline_once_per_hold(
    shop, make_edition, moving_clock, committed
):
    """Given a fan who reserves a copy, when they reserve again from another tab, then their
    timeline holds one "reserved" entry naming the edition (written by the worker after the
    reservation commits)."""
    edition = make_edition(3)
    committed(hold_take, shop=shop, edition=edition, email="Mina@Example.com")
    committed(hold_take, shop=shop, edition=edition, email="mina@example.com")

    assert _timeline(shop, "mina@example.com") == [("drop_reserved", str(edition.pk))]


def test_joining_the_waitlist_is_on_the_timeline_and_rejoining_after_leaving_too(
    shop, make_edition, moving_clock, committed
):
    """Given a sold-out drop, a fan who joins its waitlist, joins again (nothing new), leaves
    and joins once more has two "joined the waitlist" entries."""
    edition = make_edition(1)
    committed(hold_take, shop=shop, edition=edition, email="first@example.com")
    for _ in range(2):
        committed(waitlist_join, shop=shop, edition=edition, email="late@example.com")
    waitlist_leave(shop=shop, edition=edition, email="late@example.com")
    committed(waitlist_join, shop=shop, edition=edition, email="late@example.com")

    assert _timeline(shop, "late@example.com") == [("waitlist_joined", str(edition.pk))] * 2


def test_a_fan_turned_away_sold_out_gets_no_record(shop, make_edition, moving_clock, committed):
    """A reserve answered "sold out" leaves nothing: no customer, no timeline entry."""
    edition = make_edition(1)
    committed(hold_take, shop=shop, edition=edition, email="first@example.com")
    with pytest.raises(SoldOut):
        committed(hold_take, shop=shop, edition=edition, email="second@example.com")

    assert not Customer.objects.filter(shop=shop, email="second@example.com").exists()


def test_the_reservation_itself_writes_no_customer_record(shop, make_edition, moving_clock):
    """The reserve's own transaction holds no customer or timeline write (on SQLite it holds the
    one write lock): both come from the worker after commit, and not at all on a rollback."""
    edition = make_edition(2)
    hold_take(shop=shop, edition=edition, email="quick@example.com")

    assert not Customer.objects.filter(shop=shop, email="quick@example.com").exists()
