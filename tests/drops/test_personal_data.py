"""A fan's holds, waitlist places and drop e-mails in their data export and erasure."""

from __future__ import annotations

import pytest

from kinfolk.crm.services import customer_get_or_create
from kinfolk.crm.services.privacy import customer_data_export, customer_erase
from kinfolk.drops.models import Copy, Hold, WaitlistEntry
from kinfolk.drops.services import hold_take, waitlist_join

pytestmark = pytest.mark.django_db


def _rows_naming(shop, email: str) -> list[str]:
    found = []
    for model, field in ((Hold, "email"), (WaitlistEntry, "email")):
        if model.objects.filter(shop=shop, **{f"{field}__iexact": email}).exists():
            found.append(model.__name__)
    return found


def test_the_export_lists_the_fans_holds_and_waitlist_places(shop, moving_clock, make_edition):
    """Given a fan holding a copy of one drop and waiting for another, when the shop exports
    their data, then both appear under "drops", and another fan's rows do not."""
    open_drop, sold_out = make_edition(3, name="Deluxe"), make_edition(1, name="Box set")
    hold_take(shop=shop, edition=open_drop, email="Mina@Example.com")
    hold_take(shop=shop, edition=sold_out, email="other@example.com")
    waitlist_join(shop=shop, edition=sold_out, email="mina@example.com")
    customer = customer_get_or_create(shop=shop, email="mina@example.com")

    export = customer_data_export(shop=shop, customer=customer)

    drops = export["drops"]
    assert [(h["drop"], h["status"]) for h in drops["holds"]] == [("Deluxe", "active")]
    assert [(w["drop"], w["status"]) for w in drops["waitlist"]] == [("Box set", "waiting")]
    assert "other@example.com" not in str(drops)


def test_erasure_blanks_the_address_keeps_the_copy_held_and_ends_the_waiting(
    shop, moving_clock, make_edition
):
    """Given the same fan, when the shop erases them, then no hold or waitlist row carries
    their address, the held copy is still held (the drop's figures add up), their waitlist place
    is ended, and another fan's rows are untouched."""
    open_drop, sold_out = make_edition(3, name="Deluxe"), make_edition(1, name="Box set")
    hold_take(shop=shop, edition=open_drop, email="mina@example.com")
    hold_take(shop=shop, edition=sold_out, email="other@example.com")
    waitlist_join(shop=shop, edition=sold_out, email="mina@example.com")
    customer = customer_get_or_create(shop=shop, email="mina@example.com")
    held_before = Copy.objects.filter(edition=open_drop, state="held").count()

    customer_erase(shop=shop, customer=customer, requested_by="fan")

    assert _rows_naming(shop, "mina@example.com") == []
    assert Copy.objects.filter(edition=open_drop, state="held").count() == held_before == 1
    assert WaitlistEntry.objects.get(edition=sold_out).status == WaitlistEntry.Status.LEFT
    assert Hold.objects.filter(email="other@example.com").count() == 1
