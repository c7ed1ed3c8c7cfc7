"""Writes of the four stages: the update after each interaction, the batch recomputation of a
whole shop, and the shop's own rules. The rules themselves: ``kinfolk.crm.stage_rules``."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from django.db import connection, models, transaction
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
from kinfolk.crm.stage_rules import Ladder, Verdict, signals_for
from kinfolk.shops.models import Shop

RECOMPUTE_CHUNK = 10_000
# Rows per statement, within the database's limit on bound parameters.
WRITE_BATCH = 500

# (customer id, stage before, verdict)
Change = tuple[int, str, Verdict]
CHANGE_FIELDS = (
    "shop",
    "customer",
    "from_stage",
    "to_stage",
    "changed_at",
    "rule",
    "interaction_ids",
    "evidence",
    "trigger",
)
STAGE_CHANGED = str(Interaction.Kind.STAGE_CHANGED)
SYSTEM = str(Interaction.Source.SYSTEM)
TIMELINE_FIELDS = (
    "shop",
    "customer",
    "kind",
    "occurred_at",
    "source",
    "subject_type",
    "subject_id",
    "data",
)


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
    ladder = Ladder(stage_rules_for(shop=shop))
    current = (
        Customer.objects.select_for_update()
        .filter(pk=customer.pk)
        .values_list("stage", flat=True)
        .get()
    )
    rows = signals_for(
        shop=shop, rules=ladder.rules, now=now, customer_ids=(customer.pk, customer.pk)
    )
    verdict = ladder.verdict(rows[0] if rows else None)
    customer.stage = current
    if verdict.stage == current:
        return None
    change = (customer.pk, current, verdict)
    trigger = StageChange.Trigger.INTERACTION
    (change_id,) = _changes_write(shop=shop, changes=[change], now=now, trigger=trigger)
    customer.stage, customer.stage_changed_at = verdict.stage, now
    record = StageChange(
        pk=change_id,
        shop=shop,
        customer=customer,
        from_stage=current,
        to_stage=verdict.stage,
        changed_at=now,
        rule=verdict.rule,
        interaction_ids=verdict.interaction_ids,
        evidence=verdict.evidence,
        trigger=trigger,
    )
    record._state.adding = False
    return record


def stages_recompute(
    *,
    shop: Shop,
    now: dt.datetime | None = None,
    chunk_size: int = RECOMPUTE_CHUNK,
    workers: int | None = None,
) -> dict[str, int]:
    """Recompute the stage of every customer of the shop and record the changes.

    Customers are taken in chunks of consecutive ids, each chunk in a transaction of its own
    with its rows locked: one grouped query of signals per chunk, the rules in Python, then only
    the changes written in bulk. A second run at the same time changes nothing.

    On PostgreSQL, outside a transaction, the shop's customers are split into ``workers`` runs
    of consecutive ids (``RECOMPUTE_WORKERS`` by default, one per core of the machine), each
    run by a thread of its own on its own connection: the database's work, most of the time,
    then uses every core. SQLite has one writer at a time, and a caller's open transaction is
    seen by its own connection only: both recompute in one run.

    Returns ``customers`` (judged), ``changed``, ``up``, ``down`` and, per stage, how many
    customers hold it afterwards.
    """
    now = now or clock.now()
    ladder = Ladder(stage_rules_for(shop=shop))
    if workers is None:
        workers = RECOMPUTE_WORKERS
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        workers = 1
    bounds = _id_runs(shop, workers, chunk_size) if workers > 1 else [(0, None)]
    runs = [
        partial(_recompute_run, shop=shop, ladder=ladder, now=now, chunk_size=chunk_size,
                after=after, upto=upto)
        for after, upto in bounds
    ]  # fmt: skip
    if len(runs) == 1:
        counts = runs[0]()
    else:
        counts = Counter()
        with ThreadPoolExecutor(max_workers=len(runs)) as pool:
            for run_counts in pool.map(_on_own_connection, runs):
                counts.update(run_counts)
    keys = ["customers", "changed", "up", "down", *Stage.values]
    return {key: counts[key] for key in keys}


# Threads recomputing one shop's stages at once on PostgreSQL (see ``stages_recompute``).
RECOMPUTE_WORKERS = max(1, min(4, os.cpu_count() or 1))


def _id_runs(shop: Shop, workers: int, chunk_size: int) -> list[tuple[int, int | None]]:
    """Split the shop's customers into up to ``workers`` runs of consecutive ids of about the
    same size: ``(after, upto)`` pairs, ``upto`` None for the last (one run for fewer than two
    chunks)."""
    total = Customer.objects.filter(shop=shop).count()
    if total < 2 * chunk_size:
        return [(0, None)]
    ids = Customer.objects.filter(shop=shop).order_by("pk").values_list("pk", flat=True)
    cuts = [ids[total * part // workers] for part in range(1, workers)]
    starts = [0, *cuts]
    return list(zip(starts, [*cuts, None], strict=True))


def _on_own_connection(run: Callable[[], Counter[str]]) -> Counter[str]:
    """Run ``run`` in this worker thread, on the thread's own connection, closed afterwards."""
    try:
        return run()
    finally:
        connection.close()


def _recompute_run(
    *,
    shop: Shop,
    ladder: Ladder,
    now: dt.datetime,
    chunk_size: int,
    after: int,
    upto: int | None,
) -> Counter[str]:
    """Recompute the customers with ids in (``after``, ``upto``], chunk by chunk."""
    counts: Counter[str] = Counter()
    last_pk = after
    while True:
        with transaction.atomic():
            _no_flush_wait()
            customers = Customer.objects.select_for_update().filter(shop=shop, pk__gt=last_pk)
            if upto is not None:
                customers = customers.filter(pk__lte=upto)
            chunk = list(customers.order_by("pk").values_list("pk", "stage")[:chunk_size])
            if not chunk:
                break
            last_pk = chunk[-1][0]
            changes = _chunk_judge(shop=shop, ladder=ladder, now=now, chunk=chunk, counts=counts)
            _changes_write(
                shop=shop, changes=changes, now=now, trigger=StageChange.Trigger.RECOMPUTE
            )
    return counts


def _no_flush_wait() -> None:
    """On PostgreSQL, let this chunk's commit return before its WAL is flushed to disk.

    A crash may then lose the last chunks' changes, never part of one (each commits whole), and
    the next recomputation makes them again; what it spares is a disk flush per chunk. Any user
    may set it, for the current transaction only.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _chunk_judge(
    *,
    shop: Shop,
    ladder: Ladder,
    now: dt.datetime,
    chunk: Sequence[tuple[int, str]],
    counts: Counter[str],
) -> list[Change]:
    """Return the changes of one chunk of (customer id, stage) and add to the counts.

    Every customer gets the quick answer; only those whose stage changes get the verdict with
    its evidence.
    """
    rows = signals_for(
        shop=shop, rules=ladder.rules, now=now, customer_ids=(chunk[0][0], chunk[-1][0])
    )
    signals = {row[0]: row for row in rows}
    stages = [ladder.stage(signals.get(pk)) for pk, _stage in chunk]
    changes = [
        (pk, before, ladder.verdict(signals.get(pk)))
        for (pk, before), after in zip(chunk, stages, strict=True)
        if after != before
    ]
    up = sum(
        1 for _pk, before, verdict in changes if STAGE_ORDER[verdict.stage] > STAGE_ORDER[before]
    )
    counts.update(stages)
    counts.update(customers=len(chunk), changed=len(changes), up=up, down=len(changes) - up)
    return changes


def _batches(items: Sequence, size: int = WRITE_BATCH) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _changes_write(
    *, shop: Shop, changes: Sequence[Change], now: dt.datetime, trigger: str
) -> list[int]:
    """Move the customers to their new stages and leave a StageChange and a timeline row each.

    Returns the StageChange ids in the order of ``changes``.
    """
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
    ops = connection.ops
    at = StageChange._meta.get_field("changed_at").get_db_prep_save(now, connection)
    ids = _insert(
        StageChange,
        CHANGE_FIELDS,
        [
            (
                shop.pk,
                pk,
                before,
                verdict.stage,
                at,
                str(verdict.rule),
                ops.adapt_json_value(verdict.interaction_ids, None),
                ops.adapt_json_value(verdict.evidence, None),
                trigger,
            )
            for pk, before, verdict in changes
        ],
        with_ids=True,
    )
    _insert(
        Interaction,
        TIMELINE_FIELDS,
        [
            (
                shop.pk,
                pk,
                STAGE_CHANGED,
                at,
                SYSTEM,
                "stage_change",
                str(change_id),
                ops.adapt_json_value(
                    {
                        "from": before,
                        "to": verdict.stage,
                        "rule": str(verdict.rule),
                        "interaction_ids": verdict.interaction_ids,
                    },
                    None,
                ),
            )
            for (pk, before, verdict), change_id in zip(changes, ids, strict=True)
        ],
    )
    return ids


def _insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[tuple],
    *,
    with_ids: bool = False,
) -> list[int]:
    """Insert rows of values ready for the database, in the order of ``fields``; return the new
    rows' ids in the order of ``rows`` when asked.

    ``bulk_create`` does the same through a model instance and a round of field preparation per
    value, several times slower for the hundreds of thousands of changes that a shop's first
    recomputation writes. PostgreSQL takes the rows through COPY (the ids drawn from the
    table's sequence first), which spares the driver from parsing and quoting thousands of
    parameters per statement; SQLite through multi-row INSERTs.
    """
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _copy(model, fields, rows, with_ids=with_ids)
    meta, ops = model._meta, connection.ops
    table = ops.quote_name(meta.db_table)
    names = ", ".join(ops.quote_name(meta.get_field(name).column) for name in fields)
    returning = f" RETURNING {ops.quote_name(meta.pk.column)}" if with_ids else ""
    limit = connection.features.max_query_params or WRITE_BATCH * len(fields)
    size = max(1, min(WRITE_BATCH, limit // len(fields)))
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    ids: list[int] = []
    with connection.cursor() as cursor:
        for batch in _batches(rows, size):
            values = ", ".join([placeholders] * len(batch))
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {values}{returning}",
                [value for row in batch for value in row],
            )
            if with_ids:
                # Rows take ids in the order of VALUES; RETURNING may list them in any order.
                ids.extend(sorted(row_id for (row_id,) in cursor.fetchall()))
    return ids


def _copy(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple], *, with_ids: bool
) -> list[int]:
    """Insert rows with PostgreSQL's COPY; return their ids (drawn first) when asked."""
    meta, ops = model._meta, connection.ops
    columns = [meta.get_field(name).column for name in fields]
    ids: list[int] = []
    with connection.cursor() as cursor:
        if with_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            ids = [row_id for (row_id,) in cursor.fetchall()]
            columns.insert(0, meta.pk.column)
            rows = [(row_id, *row) for row_id, row in zip(ids, rows, strict=True)]
        names = ", ".join(ops.quote_name(column) for column in columns)
        with cursor.cursor.copy(
            f"COPY {ops.quote_name(meta.db_table)} ({names}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
    return ids


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
