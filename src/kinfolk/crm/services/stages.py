"""Writes of the four stages: the update after each interaction, the batch recomputation of a
whole shop, and the shop's own rules. The rules themselves: ``kinfolk.crm.stage_rules``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.crm import tasks
from kinfolk.crm.models import (
    STAGE_ORDER,
    Customer,
    Interaction,
    Stage,
    StageChange,
    StageRules,
)
from kinfolk.crm.selectors import stage_rules_for
from kinfolk.crm.stage_rules import Verdict, evaluate, signals_for, signals_from_row
from kinfolk.shops.models import Shop

RECOMPUTE_CHUNK = 5000
# Rows per statement: well under SQLite's limit on bound parameters.
WRITE_BATCH = 500

# (customer id, stage before, verdict)
Change = tuple[int, str, Verdict]


@transaction.atomic
def stage_update_for(
    *, shop: Shop, customer: Customer, now: dt.datetime | None = None
) -> StageChange | None:
    """Bring the customer's stage up to date with their timeline; return the change, if any.

    Locks the customer's row first, so that two events of one fan arriving together are judged
    one after the other and the second sees the first.
    """
    if customer.shop_id != shop.pk:
        raise InvalidInput(_("This customer belongs to another shop."))
    now = now or clock.now()
    rules = stage_rules_for(shop=shop)
    current = (
        Customer.objects.select_for_update()
        .filter(pk=customer.pk)
        .values_list("stage", flat=True)
        .get()
    )
    rows = list(
        signals_for(shop=shop, rules=rules, now=now, customer_ids=(customer.pk, customer.pk))
    )
    row = rows[0] if rows else None
    verdict = evaluate(signals_from_row(row) if row else {}, rules)
    customer.stage = current
    if verdict.stage == current:
        return None
    (change,) = _changes_write(
        shop=shop,
        changes=[(customer.pk, current, verdict)],
        now=now,
        trigger=StageChange.Trigger.INTERACTION,
    )
    customer.stage, customer.stage_changed_at = verdict.stage, now
    return change


def stages_recompute(
    *, shop: Shop, now: dt.datetime | None = None, chunk_size: int = RECOMPUTE_CHUNK
) -> dict[str, int]:
    """Recompute the stage of every customer of the shop and record the changes.

    Customers are taken in chunks of consecutive ids, each chunk in a transaction of its own
    with its rows locked: one grouped query of signals per chunk, the rules in Python, then only
    the changes written in bulk. A second run at the same time changes nothing.

    Returns ``customers`` (judged), ``changed``, ``up``, ``down`` and, per stage, how many
    customers hold it afterwards.
    """
    now = now or clock.now()
    rules = stage_rules_for(shop=shop)
    counts: dict[str, int] = defaultdict(int)
    last_pk = 0
    while True:
        with transaction.atomic():
            chunk = list(
                Customer.objects.select_for_update()
                .filter(shop=shop, pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", "stage")[:chunk_size]
            )
            if not chunk:
                break
            last_pk = chunk[-1][0]
            changes = _chunk_judge(shop=shop, rules=rules, now=now, chunk=chunk, counts=counts)
            _changes_write(
                shop=shop, changes=changes, now=now, trigger=StageChange.Trigger.RECOMPUTE
            )
    keys = ["customers", "changed", "up", "down", *Stage.values]
    return {key: counts.get(key, 0) for key in keys}


def _chunk_judge(
    *,
    shop: Shop,
    rules: StageRules,
    now: dt.datetime,
    chunk: Sequence[tuple[int, str]],
    counts: dict[str, int],
) -> list[Change]:
    """Return the changes of one chunk of (customer id, stage) and add to the counts."""
    rows = signals_for(shop=shop, rules=rules, now=now, customer_ids=(chunk[0][0], chunk[-1][0]))
    signals = {row["customer_id"]: signals_from_row(row) for row in rows}
    changes: list[Change] = []
    for pk, stage in chunk:
        verdict = evaluate(signals.get(pk, {}), rules)
        counts["customers"] += 1
        counts[str(verdict.stage)] += 1
        if verdict.stage != stage:
            changes.append((pk, stage, verdict))
            counts["changed"] += 1
            counts["up" if STAGE_ORDER[verdict.stage] > STAGE_ORDER[stage] else "down"] += 1
    return changes


def _batches(items: Sequence, size: int = WRITE_BATCH) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _changes_write(
    *, shop: Shop, changes: Sequence[Change], now: dt.datetime, trigger: str
) -> list[StageChange]:
    """Move the customers to their new stages and leave a StageChange and a timeline row each."""
    if not changes:
        return []
    by_stage: dict[str, list[int]] = defaultdict(list)
    for pk, _before, verdict in changes:
        by_stage[verdict.stage].append(pk)
    for stage, pks in by_stage.items():
        for batch in _batches(pks):
            Customer.objects.filter(shop=shop, pk__in=batch).update(
                stage=stage, stage_changed_at=now
            )
    records = StageChange.objects.bulk_create(
        [
            StageChange(
                shop=shop,
                customer_id=pk,
                from_stage=before,
                to_stage=verdict.stage,
                changed_at=now,
                rule=verdict.rule,
                interaction_ids=verdict.interaction_ids,
                evidence=verdict.evidence,
                trigger=trigger,
            )
            for pk, before, verdict in changes
        ],
        batch_size=WRITE_BATCH,
    )
    Interaction.objects.bulk_create(
        [
            Interaction(
                shop=shop,
                customer_id=record.customer_id,
                kind=Interaction.Kind.STAGE_CHANGED,
                occurred_at=now,
                source=Interaction.Source.SYSTEM,
                subject_type="stage_change",
                subject_id=str(record.pk),
                data={
                    "from": record.from_stage,
                    "to": record.to_stage,
                    "rule": record.rule,
                    "interaction_ids": record.interaction_ids,
                },
            )
            for record in records
        ],
        batch_size=WRITE_BATCH,
    )
    return records


RULE_FIELDS: tuple[str, ...] = (
    "purchase_window_days",
    "repeat_purchase_min_orders",
    "return_window_days",
    "return_min_days",
    "engagement_window_days",
    "community_window_days",
    "community_min_actions",
)
MAX_WINDOW_DAYS = 3650


@transaction.atomic
def stage_rules_save(*, shop: Shop, **values: int) -> StageRules:
    """Save the shop's stage rules (fields not given keep their value) and return them.

    The shop's stages are recomputed under the new rules once the change is committed.
    """
    unknown = sorted(set(values) - set(RULE_FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown stage rule {unknown[0]!r}.")
    errors = {}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = _("Enter a whole number.")
        elif name.endswith("_days") and not 1 <= value <= MAX_WINDOW_DAYS:
            errors[name] = _("Enter a number of days from 1 to %(max)s.") % {"max": MAX_WINDOW_DAYS}
        elif name == "repeat_purchase_min_orders" and value < 2:
            errors[name] = _("A repeat purchase takes at least 2 orders.")
        elif value < 1:
            errors[name] = _("Enter a number of at least 1.")
    if errors:
        raise InvalidInput(_("Please correct the stage rules."), errors=errors)
    rules = StageRules.objects.select_for_update().filter(shop=shop).first()
    rules = rules or StageRules(shop=shop)
    for name, value in values.items():
        setattr(rules, name, value)
    rules.updated_at = clock.now()
    rules.save()
    transaction.on_commit(lambda: tasks.shop_stages_recompute(shop.pk))
    return rules
