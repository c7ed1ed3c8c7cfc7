"""The four stages of a fan's relationship with a shop, computed from the fan's timeline.

A stage is the highest one whose rule holds *now*; every rule looks back over a window, so a fan
who drifts away falls back as the events that held them up age out of their windows. Rules are
tried from the top (community) down, and within a stage in the order below; the first that holds
names the stage and is recorded as the reason, with the first and last of the interactions that
satisfied it.

Defaults (a shop changes them in its ``StageRules``; these are the model's field defaults):

* **Awareness** — ``known_contact``: the shop has a customer record, which exists from the
  first contact on (a download, a follow, a sign-up, an order, an arrival through a share link,
  an import). It is the floor: nobody falls below it, and it needs no event.
* **Identification** — the fan has made the shop part of what they do:

  - ``purchase``: at least one paid order in the last ``purchase_window_days`` (365). A year is
    the natural cycle of a small shop (a yearly release, the holiday season); a fan who bought
    within it is still a customer, one who has not is not any more;
  - ``returning``: actions of their own on at least ``return_min_days`` (3) distinct days in the
    last ``return_window_days`` (90). Distinct *days*, so a busy evening counts once; three in a
    quarter is coming back, not passing by. Days are the shop's calendar days;
  - ``upload``: uploaded content (photos, a video of the concert) within
    ``engagement_window_days`` (365).

* **Relationship** — two-way, repeated:

  - ``repeat_purchase``: at least ``repeat_purchase_min_orders`` (2) paid orders in the last
    ``purchase_window_days`` (365): buying again within a year is the clearest sign of a
    relationship, and a fan whose second order ages past a year drops back to identification
    (one order in the window) or awareness (none);
  - ``two_way_contact``: replied to the shop, or gave their important dates, within
    ``engagement_window_days`` (365) — the shop then has a reason to write to them each year.

* **Community** — ``participation``: at least ``community_min_actions`` (1) of referring
  someone, joining a group, signing up for an event or posting, within ``community_window_days``
  (180). Taking part fades faster than buying: half a year without it is no longer part of the
  community.

Purchases are ``order_paid`` interactions of the timeline (live orders and imported history
alike), less those whose order (subject ``order`` with the same number) has an
``order_refunded`` interaction; cancelled orders never had an ``order_paid``, and neither has an
imported order refunded in full (the import leaves it out, or withdraws it when the refund comes
in a later file; a partial refund lowers its total: ``crm.imports.writer``). An action "of the
fan" is any interaction the fan made (the kinds in ``FAN_ACTIONS``), not the shop's messages,
notes, shipments or stage changes.

The signals of every rule are aggregated per customer in one grouped query (``signals_for``),
used alike by the update after each interaction and by the batch recomputation, so that both
reach the same stage for the same timeline at the same time.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.db import connection
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncDate

from kinfolk.crm.models import Interaction, Stage, StageRules
from kinfolk.shops.models import Shop

Kind = Interaction.Kind

FAN_ACTIONS: frozenset[str] = frozenset(
    {
        Kind.ACCOUNT_CREATED,
        Kind.ORDER_PLACED,
        Kind.ORDER_PAID,
        Kind.DOWNLOAD,
        Kind.FOLLOW,
        Kind.REFERRAL,
        Kind.UPLOAD,
        Kind.RSVP,
        Kind.GROUP_JOINED,
        Kind.POST,
        Kind.REPLY,
        Kind.DATES_GIVEN,
    }
)
# Kinds whose arrival can move a stage; the others (messages, notes, shipments, stage changes)
# change no signal, and drifting away is found by the periodic recomputation.
AFFECTS_STAGE: frozenset[str] = FAN_ACTIONS | {Kind.ORDER_REFUNDED}
TWO_WAY_CONTACT: frozenset[str] = frozenset({Kind.REPLY, Kind.DATES_GIVEN})
PARTICIPATION: frozenset[str] = frozenset({Kind.REFERRAL, Kind.GROUP_JOINED, Kind.RSVP, Kind.POST})


class Rule(StrEnum):
    """The rules, by the name a StageChange records."""

    KNOWN_CONTACT = "known_contact"
    PURCHASE = "purchase"
    RETURNING = "returning"
    UPLOAD = "upload"
    REPEAT_PURCHASE = "repeat_purchase"
    TWO_WAY_CONTACT = "two_way_contact"
    PARTICIPATION = "participation"


# The rules whose signals the grouped query counts, in the order of its columns: after
# ``customer_id``, a count, a first and a last interaction id per rule. A repeat purchase reads
# the purchase columns against a higher threshold.
COUNTED: tuple[Rule, ...] = (
    Rule.KNOWN_CONTACT,
    Rule.PURCHASE,
    Rule.RETURNING,
    Rule.UPLOAD,
    Rule.TWO_WAY_CONTACT,
    Rule.PARTICIPATION,
)


def _count_column(rule: Rule) -> int:
    """Return the index of the rule's count in a row of ``signals_for`` (first and last follow)."""
    counted = Rule.PURCHASE if rule == Rule.REPEAT_PURCHASE else rule
    return 1 + 3 * COUNTED.index(counted)


# A customer without any interaction: nothing counted.
NO_SIGNALS: tuple = (None, *(0, None, None) * len(COUNTED))


@dataclass(frozen=True)
class Verdict:
    """The stage a customer holds, the rule that put them there and its evidence."""

    stage: str
    rule: Rule
    interaction_ids: list[int]
    evidence: dict[str, int]


# Per rule: the stage it gives, the signal it reads, and its (window, threshold) from the rules.
_LADDER: tuple[tuple[str, Rule, str, str], ...] = (
    (Stage.COMMUNITY, Rule.PARTICIPATION, "community_window_days", "community_min_actions"),
    (
        Stage.RELATIONSHIP,
        Rule.REPEAT_PURCHASE,
        "purchase_window_days",
        "repeat_purchase_min_orders",
    ),
    (Stage.RELATIONSHIP, Rule.TWO_WAY_CONTACT, "engagement_window_days", ""),
    (Stage.IDENTIFICATION, Rule.PURCHASE, "purchase_window_days", ""),
    (Stage.IDENTIFICATION, Rule.RETURNING, "return_window_days", "return_min_days"),
    (Stage.IDENTIFICATION, Rule.UPLOAD, "engagement_window_days", ""),
)


@dataclass(frozen=True)
class Step:
    """One rung of a shop's ladder: the stage a rule gives when its count reaches the threshold."""

    stage: str
    rule: Rule
    column: int
    threshold: int
    window_days: int


class Ladder:
    """A shop's rules, ready to judge rows of ``signals_for`` one after another.

    ``stage`` is the quick answer a batch asks of every customer; ``verdict`` adds the rule and
    its evidence, asked only of the customers whose stage changes. Both climb the same steps.
    """

    def __init__(self, rules: StageRules):
        self.rules = rules
        self.steps = tuple(
            Step(
                stage=stage,
                rule=rule,
                column=_count_column(rule),
                threshold=getattr(rules, threshold_field) if threshold_field else 1,
                window_days=getattr(rules, window_field),
            )
            for stage, rule, window_field, threshold_field in _LADDER
        )

    def step(self, row: Sequence | None) -> Step | None:
        """Return the highest step these signals reach (``None``: awareness)."""
        if row is not None:
            for step in self.steps:
                if row[step.column] >= step.threshold:
                    return step
        return None

    def stage(self, row: Sequence | None) -> str:
        """Return the stage these signals give, awareness at the least."""
        step = self.step(row)
        return Stage.AWARENESS if step is None else step.stage

    def verdict(self, row: Sequence | None) -> Verdict:
        """Return the stage these signals give, with the rule that holds and its evidence: the
        first and last of the interactions it counted, the count, threshold and window."""
        step = self.step(row)
        row = NO_SIGNALS if row is None else row
        if step is None:
            column = _count_column(Rule.KNOWN_CONTACT)
            return Verdict(
                stage=Stage.AWARENESS,
                rule=Rule.KNOWN_CONTACT,
                interaction_ids=_first_and_last(row, column)[:1],
                evidence={"count": row[column]},
            )
        return Verdict(
            stage=step.stage,
            rule=step.rule,
            interaction_ids=_first_and_last(row, step.column),
            evidence={
                "count": row[step.column],
                "threshold": step.threshold,
                "window_days": step.window_days,
            },
        )


def _first_and_last(row: Sequence, column: int) -> list[int]:
    """Return the distinct first and last interaction ids after the count at ``column``."""
    return sorted({i for i in row[column + 1 : column + 3] if i is not None})


def purchase_filter(*, shop: Shop, now: dt.datetime, customer=None) -> Q:
    """Return the condition on an interaction for a purchase that stands at ``now``: paid, and
    its order not refunded by then.

    An order number names one order within a shop, so the refunds are looked up by number alone,
    in one uncorrelated subquery that the database evaluates once per statement (a correlated
    one per paid row would scan the fan's whole timeline for each of their orders). For one
    ``customer``'s purchases only that customer's refunds are read (an order's refund is on its
    customer's timeline, and a merge moves both): a few index entries instead of the shop's.
    """
    refunded = Interaction.objects.filter(
        shop=shop, kind=Kind.ORDER_REFUNDED, subject_type="order", occurred_at__lte=now
    ).exclude(subject_id="")
    if customer is not None:
        refunded = refunded.filter(customer=customer)
    return Q(kind=Kind.ORDER_PAID) & ~Q(
        subject_type="order", subject_id__in=refunded.values("subject_id")
    )


class LocalDay(TruncDate):
    """The calendar day, in a time zone, of moments from ``start`` to ``end``.

    PostgreSQL converts time zones itself. On SQLite, Django's ``TruncDate`` calls a Python
    function for every row; here SQLite's own ``date()`` shifts the stored UTC text by the zone's
    offset instead, with one branch per offset the zone has within the window (a change to or
    from summer time).
    """

    def __init__(self, expression, *, tzinfo: dt.tzinfo, start: dt.datetime, end: dt.datetime):
        super().__init__(expression, tzinfo=tzinfo)
        self.start, self.end = start, end

    def as_sqlite(self, compiler, connection, **extra_context):
        moment, params = compiler.compile(self.lhs)
        (_, first), *changes = utc_offsets(self.tzinfo, self.start, self.end)
        branches, branch_params = [], []
        offset = first
        for since, next_offset in changes:
            branches.append(f"WHEN {moment} < %s THEN date({moment}, %s)")
            branch_params += [
                *params,
                connection.ops.adapt_datetimefield_value(since),
                *params,
                f"{offset:+d} seconds",
            ]
            offset = next_offset
        sql = f"date({moment}, %s)"
        if branches:
            sql = f"CASE {' '.join(branches)} ELSE {sql} END"
        return sql, (*branch_params, *params, f"{offset:+d} seconds")


def utc_offsets(
    zone: dt.tzinfo, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, int]]:
    """Return the zone's UTC offsets in seconds from ``start`` to ``end``, each with the moment
    it starts from (``start`` for the first).

    The zone is looked at once a day and every change found is narrowed down to the second; no
    zone of the tz database changes its offset twice within a day.
    """

    def offset(seconds: int) -> int:
        moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
        return int(moment.astimezone(zone).utcoffset().total_seconds())

    low, high = int(start.timestamp()), int(end.timestamp())
    periods = [(start, offset(low))]
    for day_start in range(low, high, 86_400):
        before, after = day_start, min(day_start + 86_400, high)
        if offset(after) == periods[-1][1]:
            continue
        while after - before > 1:  # the change is in (before, after]
            middle = (before + after) // 2
            if offset(middle) == periods[-1][1]:
                before = middle
            else:
                after = middle
        periods.append((dt.datetime.fromtimestamp(after, dt.UTC), offset(after)))
    return periods


def _signal_aggregates(
    rule: Rule, condition: Q | None, *, distinct_days: TruncDate | None = None
) -> dict:
    counted = Count(distinct_days, filter=condition, distinct=True) if distinct_days else None
    return {
        f"{rule}_count": counted or Count("id", filter=condition),
        f"{rule}_first": Min("id", filter=condition),
        f"{rule}_last": Max("id", filter=condition),
    }


def signals_for(
    *, shop: Shop, rules: StageRules, now: dt.datetime, customer_ids: tuple[int, int]
) -> list[tuple]:
    """Return one row of rule signals per customer with actions in the id range (inclusive).

    Each row is a tuple: ``customer_id``, then a count, a first and a last interaction id for
    every rule of ``COUNTED``; a ``Ladder`` judges it. Every rule counts actions of the fan, so
    the other rows are left out before any counting. The query reads a range of customers'
    timelines: with an index on (shop, customer, kind, occurred_at, subject_type, subject_id,
    id) it never visits the table, and with one on (shop, kind, occurred_at, subject_type,
    subject_id) neither does the subquery of refunds.
    """

    def since(days: int) -> Q:
        return Q(occurred_at__gte=now - dt.timedelta(days=days))

    purchases = purchase_filter(shop=shop, now=now) & since(rules.purchase_window_days)
    conditions = {
        Rule.KNOWN_CONTACT: _signal_aggregates(Rule.KNOWN_CONTACT, None),
        Rule.PURCHASE: _signal_aggregates(Rule.PURCHASE, purchases),
        Rule.RETURNING: _signal_aggregates(
            Rule.RETURNING,
            since(rules.return_window_days),
            distinct_days=LocalDay(
                "occurred_at",
                tzinfo=zoneinfo.ZoneInfo(shop.time_zone),
                start=now - dt.timedelta(days=rules.return_window_days),
                end=now,
            ),
        ),
        Rule.UPLOAD: _signal_aggregates(
            Rule.UPLOAD, Q(kind=Kind.UPLOAD) & since(rules.engagement_window_days)
        ),
        Rule.TWO_WAY_CONTACT: _signal_aggregates(
            Rule.TWO_WAY_CONTACT,
            Q(kind__in=TWO_WAY_CONTACT) & since(rules.engagement_window_days),
        ),
        Rule.PARTICIPATION: _signal_aggregates(
            Rule.PARTICIPATION,
            Q(kind__in=PARTICIPATION) & since(rules.community_window_days),
        ),
    }
    aggregates = {name: value for rule in COUNTED for name, value in conditions[rule].items()}
    low, high = customer_ids
    query = (
        Interaction.objects.filter(
            shop=shop,
            customer_id__gte=low,
            customer_id__lte=high,
            kind__in=FAN_ACTIONS,
            occurred_at__lte=now,
        )
        .order_by()
        .values("customer_id")
        .annotate(**aggregates)
        .values_list("customer_id", *aggregates)
        .query
    )
    # Counts and ids come from the database as integers already: read without the ORM's
    # conversion of every value, a tenth of the time of judging a million customers.
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
