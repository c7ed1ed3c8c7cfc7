"""A state machine over reserve / pay / lapse / release / cancel / waitlist with a movable clock:
after every step, each copy is exactly one of free, held or sold and nothing is sold twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kinfolk.core import clock
from kinfolk.core.errors import Conflict
from kinfolk.drops.models import Copy, Hold
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
from kinfolk.orders.services import lifecycle
from tests.drops.conftest import OPENS, order_for

pytestmark = pytest.mark.django_db

FANS = [f"fan{n}@example.com" for n in range(6)]
SIZE = 3
LIMIT = 2


class DropMachine(RuleBasedStateMachine):
    """Drives one edition through random fan behaviour; ``shop`` and ``product`` come from the
    test (class attributes set before the run)."""

    shop = None
    make_product = None

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        self.now = OPENS
        clock.set_now(lambda: self.now)
        product = type(self).make_product(type(self).shop, price=750000, stock=None)
        self.edition = edition_create(
            shop=self.shop,
            product=product,
            variant=product.variants.get(),
            size=SIZE,
            opens_at=OPENS,
            per_fan_limit=LIMIT,
        )
        self.paid_orders: dict[int, str] = {}  # order id → fan

    def teardown(self) -> None:
        clock.set_now(None)
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)

    @rule(fan=st.sampled_from(FANS))
    def reserve(self, fan: str) -> None:
        try:
            hold_take(shop=self.shop, edition=self.edition, email=fan)
        except (SoldOut, Conflict):
            pass

    @rule(fan=st.sampled_from(FANS))
    def pay(self, fan: str) -> None:
        hold = Hold.objects.filter(edition=self.edition, email=fan).order_by("-id").first()
        if hold is None or hold.status == Hold.Status.PAID:
            return
        order = order_for(self.shop, self.edition, fan)
        try:
            copy_sell(shop=self.shop, token=hold.token, order=order)
        except NoCopyLeft:
            lifecycle.order_cancel(shop=self.shop, order=order, reason="no copy left")
            return
        self.paid_orders[order.pk] = fan

    @rule(minutes=st.integers(min_value=1, max_value=15))
    def time_passes(self, minutes: int) -> None:
        self.now += dt.timedelta(minutes=minutes)

    @rule(fan=st.sampled_from(FANS))
    def release(self, fan: str) -> None:
        hold = Hold.objects.filter(edition=self.edition, email=fan, status="active").first()
        if hold is not None:
            hold_release(shop=self.shop, token=hold.token, email=fan)

    @rule(data=st.data())
    def cancel_a_paid_order(self, data) -> None:
        if not self.paid_orders:
            return
        order_id = data.draw(st.sampled_from(sorted(self.paid_orders)))
        del self.paid_orders[order_id]
        copies_free_for_order(shop=self.shop, order=Copy.objects.get(order_id=order_id).order)

    @rule(fan=st.sampled_from(FANS))
    def join_waitlist(self, fan: str) -> None:
        waitlist_join(shop=self.shop, edition=self.edition, email=fan)

    @rule()
    def offer_freed_copies(self) -> None:
        waitlist_offer_freed(shop=self.shop, edition=self.edition)

    @invariant()
    def every_copy_is_exactly_one_of_free_held_sold(self) -> None:
        copies = list(Copy.objects.filter(edition=self.edition).select_related("hold"))
        assert sorted(c.number for c in copies) == list(range(1, SIZE + 1))
        for copy in copies:
            if copy.state == Copy.State.HELD:
                # Held by an open hold, or by one whose time ran out: free in effect.
                assert copy.hold is not None
                assert copy.hold.status == Hold.Status.ACTIVE or copy.held_until <= self.now
            if copy.state == Copy.State.SOLD:
                assert copy.order_id in self.paid_orders
        sold = [c.order_id for c in copies if c.state == Copy.State.SOLD]
        assert len(sold) == len(set(sold)) == len(self.paid_orders)
        counts = edition_availability(edition=self.edition, now=self.now)
        assert counts.free + counts.held + counts.sold == SIZE
        assert min(counts.free, counts.held, counts.sold) >= 0

    @invariant()
    def a_live_hold_holds_exactly_its_copy(self) -> None:
        live = Hold.objects.filter(
            edition=self.edition, status=Hold.Status.ACTIVE, expires_at__gt=self.now
        )
        for hold in live:
            assert Copy.objects.filter(hold=hold, state=Copy.State.HELD).count() == 1
        emails = list(live.values_list("email", flat=True))
        assert len(emails) == len(set(emails))

    @invariant()
    def no_fan_owns_more_than_the_limit(self) -> None:
        per_fan: dict[str, int] = {}
        for fan in self.paid_orders.values():
            per_fan[fan] = per_fan.get(fan, 0) + 1
        assert all(count <= LIMIT for count in per_fan.values())


def test_drop_ledger_invariants_hold_under_any_sequence(shop, make_product):
    DropMachine.shop = shop
    DropMachine.make_product = staticmethod(make_product)
    run = DropMachine.TestCase()
    run.settings = settings(
        max_examples=25,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    run.runTest()
