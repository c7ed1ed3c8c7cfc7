"""On PostgreSQL a shop's stages are recomputed by several threads at once, each on its own
connection and its own run of customers: the outcome is the one a single run gives, every
change is recorded once, and a second recomputation changes nothing. (SQLite, with one writer at
a time, always recomputes in one run: the same test checks it gives the same outcome.)"""

from __future__ import annotations

import pytest
from django.db import connection

from kinfolk.crm.models import Customer, Interaction, StageChange
from kinfolk.crm.services import stages_recompute
from kinfolk.crm.services.stages import _id_runs
from tests.crm.conftest import START, days

Kind = Interaction.Kind
FANS = 90
CHUNK = 10  # nine chunks: the runs meet in the middle of the shop's customers
# Every fan but those with no order and no post moves up from awareness.
CHANGED = sum(1 for n in range(FANS) if n % 3 or n % 10 == 0)


def shop_with_history(make_shop, make_timeline):
    """A shop of ``FANS`` fans whose histories give every stage, recorded without live stage
    updates, so that everything is left to the recomputation."""
    timeline = make_timeline(make_shop(), update_stage=False)
    for n in range(FANS):
        fan = timeline.customer(f"fan{n:03d}@example.com")
        for order in range(n % 3):  # none, one or two orders: aware, identifying, relationship
            timeline.paid(fan, START + days(10 * order), number=f"O{n}-{order}")
        if n % 10 == 0:
            timeline.event(fan, Kind.POST, START + days(5))  # community
    return timeline.shop


def outcome(shop) -> dict[str, str]:
    return dict(Customer.objects.filter(shop=shop).values_list("email", "stage"))


@pytest.mark.django_db(transaction=True)
def test_threads_on_their_own_connections_reach_what_one_run_reaches(make_shop, make_timeline):
    one, several = (shop_with_history(make_shop, make_timeline) for _ in range(2))
    now = START + days(30)

    alone = stages_recompute(shop=one, now=now, chunk_size=CHUNK, workers=1)
    together = stages_recompute(shop=several, now=now, chunk_size=CHUNK, workers=3)

    assert together == alone
    assert alone["changed"] == CHANGED and alone["community"] == FANS // 10
    mine, theirs = outcome(one), outcome(several)
    assert mine == theirs
    # Every change recorded once, with its one timeline row
    assert StageChange.objects.filter(shop=several).count() == alone["changed"]
    assert (
        Interaction.objects.filter(shop=several, kind=Kind.STAGE_CHANGED).count()
        == alone["changed"]
    )
    assert stages_recompute(shop=several, now=now, chunk_size=CHUNK, workers=3)["changed"] == 0


@pytest.mark.django_db(transaction=True)
def test_the_runs_cover_every_customer_once(make_shop, make_timeline):
    shop = shop_with_history(make_shop, make_timeline)
    ids = sorted(Customer.objects.filter(shop=shop).values_list("pk", flat=True))

    runs = _id_runs(shop, 3, CHUNK)

    assert len(runs) == 3 and runs[0][0] == 0 and runs[-1][1] is None
    covered = [
        pk for after, upto in runs for pk in ids if after < pk and (upto is None or pk <= upto)
    ]
    assert covered == ids
    assert _id_runs(shop, 3, FANS) == [(0, None)]  # fewer than two chunks: one run


@pytest.mark.django_db
def test_inside_a_transaction_the_recomputation_is_one_run(make_shop, make_timeline):
    """A caller's open transaction (an import, a test) is seen by its own connection only."""
    shop = shop_with_history(make_shop, make_timeline)
    assert connection.in_atomic_block

    counts = stages_recompute(shop=shop, now=START + days(30), chunk_size=CHUNK, workers=3)

    assert counts["changed"] == CHANGED
