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
``order_refunded`` interaction; cancelled orders never had an ``order_paid``. An action "of the fan" is any interaction the fan made (the
kinds in ``FAN_ACTIONS``), not the shop's messages, notes, shipments or stage changes.

The signals of every rule are aggregated per customer in one grouped query (``signals_for``),
used alike by the update after each interaction and by the batch recomputation, so that both
reach the same stage for the same timeline at the same time.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Count, Max, Min, Q, QuerySet
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


@dataclass(frozen=True)
class Signal:
    """What one rule counted for one customer: how many, and the first and last interaction."""

    count: int = 0
    first_id: int | None = None
    last_id: int | None = None

    @property
    def interaction_ids(self) -> list[int]:
        ids = [i for i in (self.first_id, self.last_id) if i is not None]
        return sorted(set(ids))


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


def evaluate(signals: dict[Rule, Signal], rules: StageRules) -> Verdict:
    """Return the highest stage whose rule holds for these signals (awareness at the least)."""
    for stage, rule, window_field, threshold_field in _LADDER:
        signal = signals.get(rule, Signal())
        threshold = getattr(rules, threshold_field) if threshold_field else 1
        if signal.count >= threshold:
            return Verdict(
                stage=stage,
                rule=rule,
                interaction_ids=signal.interaction_ids,
                evidence={
                    "count": signal.count,
                    "threshold": threshold,
                    "window_days": getattr(rules, window_field),
                },
            )
    known = signals.get(Rule.KNOWN_CONTACT, Signal())
    return Verdict(
        stage=Stage.AWARENESS,
        rule=Rule.KNOWN_CONTACT,
        interaction_ids=known.interaction_ids[:1],
        evidence={"count": known.count},
    )


def purchase_filter(*, shop: Shop, now: dt.datetime) -> Q:
    """Return the condition on an interaction for a purchase that stands at ``now``: paid, and
    its order not refunded by then.

    An order number names one order within a shop, so the refunds are looked up by number alone,
    in one uncorrelated subquery that the database evaluates once per statement (a correlated
    one per paid row would scan the fan's whole timeline for each of their orders).
    """
    refunded = (
        Interaction.objects.filter(
            shop=shop, kind=Kind.ORDER_REFUNDED, subject_type="order", occurred_at__lte=now
        )
        .exclude(subject_id="")
        .values("subject_id")
    )
    return Q(kind=Kind.ORDER_PAID) & ~Q(subject_type="order", subject_id__in=refunded)


def _signal_aggregates(rule: Rule, condition: Q, *, distinct_days: TruncDate | None = None):
    counted = Count(distinct_days, filter=condition, distinct=True) if distinct_days else None
    return {
        f"{rule}_count": counted or Count("id", filter=condition),
        f"{rule}_first": Min("id", filter=condition),
        f"{rule}_last": Max("id", filter=condition),
    }


def signals_for(
    *, shop: Shop, rules: StageRules, now: dt.datetime, customer_ids: tuple[int, int]
) -> QuerySet:
    """Return one row of rule signals per customer with interactions in the id range (inclusive).

    Each row is a dict of ``customer_id`` and ``<rule>_count``, ``<rule>_first``, ``<rule>_last``
    for every rule; ``signals_from_row`` turns it into the input of ``evaluate``.
    """

    def since(days: int) -> Q:
        return Q(occurred_at__gte=now - dt.timedelta(days=days))

    fan = Q(kind__in=FAN_ACTIONS)
    purchases = purchase_filter(shop=shop, now=now) & since(rules.purchase_window_days)
    aggregates = {
        **_signal_aggregates(Rule.KNOWN_CONTACT, fan),
        **_signal_aggregates(Rule.PURCHASE, purchases),
        **_signal_aggregates(
            Rule.RETURNING,
            fan & since(rules.return_window_days),
            distinct_days=TruncDate("occurred_at", tzinfo=zoneinfo.ZoneInfo(shop.time_zone)),
        ),
        **_signal_aggregates(
            Rule.UPLOAD, Q(kind=Kind.UPLOAD) & since(rules.engagement_window_days)
        ),
        **_signal_aggregates(
            Rule.TWO_WAY_CONTACT,
            Q(kind__in=TWO_WAY_CONTACT) & since(rules.engagement_window_days),
        ),
        **_signal_aggregates(
            Rule.PARTICIPATION,
            Q(kind__in=PARTICIPATION) & since(rules.community_window_days),
        ),
    }
    low, high = customer_ids
    return (
        Interaction.objects.filter(
            shop=shop, customer_id__gte=low, customer_id__lte=high, occurred_at__lte=now
        )
        .order_by()
        .values("customer_id")
        .annotate(**aggregates)
    )


def signals_from_row(row: dict) -> dict[Rule, Signal]:
    """Return the signals of one row of ``signals_for``."""
    signals = {
        rule: Signal(row[f"{rule}_count"], row[f"{rule}_first"], row[f"{rule}_last"])
        for rule in Rule
        if rule != Rule.REPEAT_PURCHASE
    }
    # Repeat purchases are the same paid orders as a purchase, against a higher threshold.
    signals[Rule.REPEAT_PURCHASE] = signals[Rule.PURCHASE]
    return signals
