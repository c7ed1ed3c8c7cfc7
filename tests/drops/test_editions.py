"""Changing an edition before it starts: size, schedule, early access; and never after."""

from __future__ import annotations

import datetime as dt

import pytest

from kinfolk.catalog.models import Product
from kinfolk.core.errors import Conflict, InvalidInput
from kinfolk.drops.models import Copy, EarlyAccessFan, Edition
from kinfolk.drops.services import hold_take
from kinfolk.drops.services.editions import (
    edition_create_with_product,
    edition_early_fans_set,
    edition_starts_at,
    edition_update,
)
from tests.drops.conftest import OPENS

pytestmark = pytest.mark.django_db
BEFORE = OPENS - dt.timedelta(days=1)


def changes(edition: Edition, **overrides) -> dict:
    return {
        "size": edition.size,
        "opens_at": edition.opens_at,
        "closes_at": edition.closes_at,
        "per_fan_limit": edition.per_fan_limit,
        "hold_minutes": edition.hold_minutes,
        "early_access": edition.early_access,
        "early_access_opens_at": edition.early_access_opens_at,
        **overrides,
    }


def test_a_drop_starts_with_its_early_access():
    edition = Edition(
        opens_at=OPENS,
        early_access=Edition.EarlyAccess.LIST,
        early_access_opens_at=OPENS - dt.timedelta(hours=2),
    )
    assert edition_starts_at(edition) == OPENS - dt.timedelta(hours=2)
    edition.early_access = Edition.EarlyAccess.NONE
    assert edition_starts_at(edition) == OPENS


def test_before_it_starts_an_edition_grows_shrinks_and_moves(shop, make_edition):
    """Given an edition of 5 not open yet, when it is changed to 8 then to 2 copies and opened a
    day later, then its copies are numbered 1..8 then 1..2 and the times moved."""
    edition = make_edition(5)
    later = OPENS + dt.timedelta(days=1)

    edition_update(shop=shop, edition=edition, now=BEFORE, **changes(edition, size=8))
    assert sorted(Copy.objects.filter(edition=edition).values_list("number", flat=True)) == list(
        range(1, 9)
    )
    edition.refresh_from_db()
    edition_update(
        shop=shop,
        edition=edition,
        now=BEFORE,
        **changes(edition, size=2, opens_at=later, closes_at=later + dt.timedelta(hours=5)),
    )

    edition.refresh_from_db()
    assert (edition.size, edition.opens_at) == (2, later)
    assert list(Copy.objects.filter(edition=edition).values_list("number", flat=True)) == [1, 2]


def test_once_started_nothing_changes(shop, make_edition):
    edition = make_edition(5)

    with pytest.raises(Conflict) as refused:
        edition_update(shop=shop, edition=edition, now=OPENS, **changes(edition, size=1))

    assert refused.value.code == "started"
    assert Copy.objects.filter(edition=edition).count() == 5


def test_a_copy_taken_meanwhile_is_never_removed(shop, make_edition):
    """Given every copy held at the opening, when a change decided just before the opening (a
    race at the boundary) shrinks the edition below copy 3, then the change is refused whole."""
    edition = make_edition(3)
    for fan in ("a", "b", "c"):
        hold_take(shop=shop, edition=edition, email=f"{fan}@example.com", now=OPENS)

    with pytest.raises(Conflict):
        edition_update(shop=shop, edition=edition, now=BEFORE, **changes(edition, size=2))

    assert Copy.objects.filter(edition=edition).count() == 3
    edition.refresh_from_db()
    assert edition.size == 3


def test_bad_schedules_are_refused_with_the_field(shop, make_edition):
    edition = make_edition(3)

    with pytest.raises(InvalidInput) as refused:
        edition_update(
            shop=shop,
            edition=edition,
            now=BEFORE,
            **changes(edition, closes_at=OPENS - dt.timedelta(hours=1), size=0),
        )

    assert set(refused.value.errors) == {"size", "closes_at"}


def test_early_fans_change_until_the_drop_opens_to_everyone(shop, make_edition):
    """Given early access for chosen fans running, then the list can be replaced (duplicates and
    case folded); once the drop is open to all, it cannot."""
    edition = make_edition(
        3,
        early_access=Edition.EarlyAccess.LIST,
        early_access_opens_at=OPENS - dt.timedelta(hours=1),
        early_access_emails=["old@example.com"],
    )

    count = edition_early_fans_set(
        shop=shop,
        edition=edition,
        emails=["New@Example.com", "new@example.com ", "old@example.com"],
        now=OPENS - dt.timedelta(minutes=10),
    )

    assert count == 2
    assert sorted(
        EarlyAccessFan.objects.filter(edition=edition).values_list("email", flat=True)
    ) == [
        "new@example.com",
        "old@example.com",
    ]
    with pytest.raises(Conflict):
        edition_early_fans_set(shop=shop, edition=edition, emails=[], now=OPENS)


def test_a_new_product_and_its_edition_are_made_together_or_not_at_all(shop):
    """Given a bad schedule, when a drop with a new product is created, then neither exists."""
    with pytest.raises(InvalidInput):
        edition_create_with_product(
            shop=shop,
            name="Moon Deluxe",
            price=750000,
            size=10,
            opens_at=OPENS,
            closes_at=OPENS,
        )

    assert not Product.objects.filter(shop=shop, name="Moon Deluxe").exists()
    edition = edition_create_with_product(
        shop=shop, name="Moon Deluxe", price=750000, size=10, opens_at=OPENS
    )
    assert edition.product.name == "Moon Deluxe" and edition.variant.stock is None
