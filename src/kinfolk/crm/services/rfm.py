"""Writes of the RFM scores: one set-based recomputation per shop.

The scores and segments themselves: ``kinfolk.crm.rfm_scoring``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db import transaction
from django.db.models import BigIntegerField, Count, Max, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce

from kinfolk.core import clock
from kinfolk.crm.models import CustomerScore, Interaction
from kinfolk.crm.rfm_scoring import score
from kinfolk.crm.stage_rules import purchase_filter
from kinfolk.shops.models import Shop

WRITE_BATCH = 500
FIELDS = (
    "last_purchase_at",
    "frequency",
    "monetary",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "segment",
)


def _purchases(*, shop: Shop, now: dt.datetime) -> list[tuple[int, dt.datetime, int, int]]:
    """Return (customer id, last purchase, paid orders, total paid) per purchasing customer.

    Purchases are the standing paid orders of the timeline (paid and not refunded) up to ``now``,
    their totals in the shop's currency (``data.total`` in minor units).
    """
    total = Cast(KeyTextTransform("total", "data"), BigIntegerField())
    return list(
        Interaction.objects.filter(shop=shop, occurred_at__lte=now)
        .filter(purchase_filter(shop=shop, now=now))
        .order_by()
        .values("customer_id")
        .annotate(
            last=Max("occurred_at"),
            orders=Count("id"),
            paid=Coalesce(Sum(total), 0, output_field=BigIntegerField()),
        )
        .values_list("customer_id", "last", "orders", "paid")
        .order_by("customer_id")
    )


@transaction.atomic
def rfm_recompute(*, shop: Shop, now: dt.datetime | None = None) -> dict[str, int]:
    """Score every purchasing customer of the shop and store what changed.

    Customers whose purchases were all refunded lose their scores. Returns ``customers``
    (scored), ``created``, ``updated``, ``deleted`` and ``unchanged``.
    """
    now = now or clock.now()
    rows = _purchases(shop=shop, now=now)
    recency = np.fromiter(((now - row[1]).days for row in rows), dtype=np.int64, count=len(rows))
    frequency = np.fromiter((row[2] for row in rows), dtype=np.int64, count=len(rows))
    monetary = np.fromiter((row[3] for row in rows), dtype=np.int64, count=len(rows))
    scores = score(recency, frequency, monetary)

    existing = {
        values[0]: values[1:]
        for values in CustomerScore.objects.filter(shop=shop).values_list("customer_id", *FIELDS)
    }
    created: list[CustomerScore] = []
    updated: list[CustomerScore] = []
    for i, (customer_id, last, orders, paid) in enumerate(rows):
        values = (
            last,
            orders,
            paid,
            int(scores.recency[i]),
            int(scores.frequency[i]),
            int(scores.monetary[i]),
            scores.segments[i],
        )
        before = existing.pop(customer_id, None)
        if before == values:
            continue
        row = CustomerScore(customer_id=customer_id, shop=shop, scored_at=now)
        for name, value in zip(FIELDS, values, strict=True):
            setattr(row, name, value)
        (created if before is None else updated).append(row)
    CustomerScore.objects.bulk_create(created, batch_size=WRITE_BATCH)
    CustomerScore.objects.bulk_update(updated, [*FIELDS, "scored_at"], batch_size=WRITE_BATCH)
    gone = list(existing)
    for start in range(0, len(gone), WRITE_BATCH):
        CustomerScore.objects.filter(
            shop=shop, customer_id__in=gone[start : start + WRITE_BATCH]
        ).delete()
    return {
        "customers": len(rows),
        "created": len(created),
        "updated": len(updated),
        "deleted": len(gone),
        "unchanged": len(rows) - len(created) - len(updated),
    }
