"""Reads of the CRM overview: the stage funnel and flows, lifetime value, cohorts, segments, fans
at risk and the value models' holdout check. Each takes the shop first and is one query: a
grouped count on the shop's indexes, or one integer column into NumPy. The page costs a few scans
of the shop's rows, never a query per row. Cohorts come ready-made with the nightly value fit,
which reads every purchase anyway (``crm.services.value``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import numpy as np
from babel.numbers import format_compact_currency
from django.db.models import Count, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from kinfolk.clv.model import TOO_FEW_REPEAT_CUSTOMERS as TOO_FEW_REPEAT_BUYERS
from kinfolk.core import clock
from kinfolk.core.money import babel_locale, currency_exponent
from kinfolk.crm.models import (
    STAGE_ORDER,
    CustomerScore,
    Segment,
    Stage,
    StageChange,
    ValueModelFit,
)
from kinfolk.crm.selectors.stages import customers_by_stage
from kinfolk.shops.models import Shop

FLOW_DAYS = 90
AT_RISK_LIMIT = 20
AT_RISK_P_ALIVE = 0.5
AT_RISK_SEGMENTS = (Segment.AT_RISK, Segment.CANT_LOSE)
MAX_BUCKETS = 12

# Why a fallback stands behind the value figures (``ValueModelFit.params["fallback"]["code"]``).
NO_PURCHASES = "no_purchases"
NO_REPEAT_BUYERS = "no_repeat_buyers"
SPEND_ONLY = "spend_only"
UNRELIABLE = "unreliable"


def value_fit_reason(fit: ValueModelFit) -> str:
    """Return, in the active language, why a fallback stands behind the figures ('' if none)."""
    fallback = (fit.params or {}).get("fallback") or {}
    code = fallback.get("code")
    if code == NO_PURCHASES:
        return _("No paid orders yet, so there is nothing to predict from.")
    if code == NO_REPEAT_BUYERS:
        return _(
            "Nobody has bought twice yet, so there is no repeat rate to learn from: each fan's "
            "value is their own spending so far, per year, carried over the next 12 months."
        )
    if code == TOO_FEW_REPEAT_BUYERS:
        return _(
            "Too few repeat buyers for a fitted model (%(repeat)d; %(needed)d needed): the "
            "figures are shop-wide averages."
        ) % {"repeat": fit.repeat_buyers, "needed": fallback.get("needed", 0)}
    if code == SPEND_ONLY:
        return _(
            "Purchases come from the fitted model; the value per order is the shop-wide average, "
            "as too few fans made repeat purchases with a value."
        )
    if code == UNRELIABLE:
        return _(
            "The shop's history does not pin the model down yet: the figures are shop-wide "
            "averages."
        )
    return fit.reason


def latest_value_fit(*, shop: Shop) -> ValueModelFit | None:
    """Return the shop's most recent value fit, or None before the first."""
    return ValueModelFit.objects.filter(shop=shop).order_by("-fitted_at", "-id").first()


# --- stages ------------------------------------------------------------------------------------


def stage_funnel(*, shop: Shop) -> list[dict]:
    """Return every stage, lowest first, with its customers and their share of all."""
    counts = customers_by_stage(shop=shop)
    total = sum(counts.values())
    labels = dict(Stage.choices)
    return [
        {
            "stage": stage,
            "label": labels[stage],
            "count": count,
            "percent": round(100 * count / total) if total else 0,
        }
        for stage, count in counts.items()
    ]


def stage_flows(*, shop: Shop, days: int = FLOW_DAYS, now: dt.datetime | None = None) -> list[dict]:
    """Return the moves between stages in the last ``days`` days, most frequent first.

    Each is ``{"from", "to", "from_label", "to_label", "count", "up", "percent"}``; ``percent``
    is relative to the most frequent move (for a bar's length).
    """
    since = (now or clock.now()) - dt.timedelta(days=days)
    rows = (
        StageChange.objects.filter(shop=shop, changed_at__gte=since)
        .order_by()
        .values_list("from_stage", "to_stage")
        .annotate(n=Count("id"))
    )
    labels = dict(Stage.choices)
    flows = sorted(rows, key=lambda row: (-row[2], STAGE_ORDER.get(row[0], 0), row[1]))
    top = flows[0][2] if flows else 0
    return [
        {
            "from": source,
            "to": target,
            "from_label": labels.get(source, source),
            "to_label": labels.get(target, target),
            "count": count,
            "up": STAGE_ORDER.get(target, 0) > STAGE_ORDER.get(source, 0),
            "percent": max(1, round(100 * count / top)),
        }
        for source, target, count in flows
    ]


# --- value -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueBucket:
    """Customers whose lifetime value is in [low, high) minor units."""

    low: int
    high: int
    count: int
    label: str


def _nice_edges(low: int, high: int) -> list[int]:
    """Return ascending money steps of 1, 2 and 5 (or of 10 when those make too many buckets),
    the first at or below ``low`` (at least 1), the last above ``high``."""
    for steps in ((1, 2, 5), (1,)):
        scale = 10 ** (len(str(low)) - 1)  # the power of ten at or below ``low``
        candidates: list[int] = []
        while not candidates or candidates[-1] <= high:
            candidates += [step * scale for step in steps]
            scale *= 10
        first = max(i for i, edge in enumerate(candidates) if edge <= low)
        last = min(i for i, edge in enumerate(candidates) if edge > high)
        edges = candidates[first : last + 1]
        if len(edges) - 1 <= MAX_BUCKETS:
            break
    return edges


def _money_label(amount: int, currency: str) -> str:
    major = amount / 10 ** currency_exponent(currency)
    return format_compact_currency(major, currency, locale=babel_locale())


def _bucket_label(low: int, high: int, currency: str) -> str:
    if low == 0:
        return _money_label(0, currency)
    if low == 1:
        return _("under %(high)s") % {"high": _money_label(high, currency)}
    return _("%(low)s–%(high)s") % {
        "low": _money_label(low, currency),
        "high": _money_label(high, currency),
    }


def clv_distribution(*, shop: Shop) -> dict:
    """Return the histogram of the shop's predicted lifetime values, on 1-2-5 steps of money.

    ``{"buckets": [ValueBucket], "scored": customers with a value, "unscored": without}``. One
    query of one integer column into NumPy (-1 for no value yet): at a million rows it beats
    per-bucket conditional counts in the database, which scan the rows once per bucket.
    """
    values = np.fromiter(
        CustomerScore.objects.filter(shop=shop)
        .order_by()
        .values_list(Coalesce("clv", Value(-1)), flat=True),
        dtype=np.int64,
    )
    scored_values = values[values >= 0]
    scored = len(scored_values)
    if not scored:
        return {"buckets": [], "scored": 0, "unscored": len(values)}
    unit = 10 ** currency_exponent(shop.currency)
    edges = [0, 1]  # the first bucket: nothing expected
    positive = scored_values[scored_values > 0]
    if len(positive):
        nice = _nice_edges(max(unit, int(positive.min())), int(positive.max()))
        # The next starts just above nothing: no gap below the smallest value.
        edges += nice[1:]
    counts = np.bincount(np.searchsorted(edges, scored_values, side="right") - 1)
    buckets = [
        ValueBucket(
            low=low,
            high=high,
            count=int(counts[i]) if i < len(counts) else 0,
            label=_bucket_label(low, high, shop.currency),
        )
        for i, (low, high) in enumerate(itertools.pairwise(edges))
    ]
    return {"buckets": buckets, "scored": scored, "unscored": len(values) - scored}


def revenue_by_segment(*, shop: Shop) -> list[dict]:
    """Return each RFM segment with customers and revenue (total paid), largest revenue first."""
    rows = {
        segment: (customers, revenue or 0)
        for segment, customers, revenue in CustomerScore.objects.filter(shop=shop)
        .order_by()
        .values_list("segment")
        .annotate(customers=Count("customer_id"), revenue=Sum("monetary"))
        .values_list("segment", "customers", "revenue")
    }
    total = sum(revenue for _, revenue in rows.values())
    segments = [
        {
            "segment": segment,
            "label": label,
            "customers": rows.get(segment, (0, 0))[0],
            "revenue": rows.get(segment, (0, 0))[1],
            "percent": round(100 * rows.get(segment, (0, 0))[1] / total) if total else 0,
        }
        for segment, label in Segment.choices
    ]
    return sorted(segments, key=lambda row: -row["revenue"])


def fans_at_risk(*, shop: Shop, limit: int = AT_RISK_LIMIT) -> list[CustomerScore]:
    """Return the fans who spent most and are slipping away: probably gone (P(alive) under a
    half) or in the at-risk and can't-lose segments; erased customers left out."""
    return list(
        CustomerScore.objects.filter(shop=shop, customer__erased_at__isnull=True)
        .filter(Q(p_alive__lt=AT_RISK_P_ALIVE) | Q(segment__in=AT_RISK_SEGMENTS))
        .select_related("customer")
        .order_by("-monetary", "customer_id")[:limit]
    )


# --- the value fit's own figures ---------------------------------------------------------------


def cohort_rows(fit: ValueModelFit | None) -> list[dict]:
    """Return the fit's cohorts: per month of first purchase its customers and, per month since,
    the share of them who bought (None for months still to come)."""
    cohorts = (fit.params or {}).get("cohorts") if fit else None
    if not cohorts:
        return []
    rows = []
    for month, size, active in zip(
        cohorts["months"], cohorts["sizes"], cohorts["active"], strict=True
    ):
        cells = [
            None if count is None else {"count": count, "percent": _percent(count, size)}
            for count in active[1:]
        ]
        rows.append({"month": dt.date.fromisoformat(f"{month}-01"), "size": size, "cells": cells})
    return rows


def _percent(count: int, size: int) -> int | None:
    return round(100 * count / size) if size else None


def holdout_rows(fit: ValueModelFit | None) -> dict:
    """Return the fit's holdout check for the page: per week and by calibration purchases."""
    holdout = (fit.holdout or {}) if fit else {}
    if not holdout.get("weekly"):
        return {}
    weekly = [
        {
            "week": row["week"],
            "end": dt.date.fromisoformat(row["end"]),
            "actual": row["actual"],
            "predicted": round(row["predicted"] or 0.0, 1),
        }
        for row in holdout["weekly"]
    ]
    groups = [
        {
            "frequency": row["frequency"],
            "or_more": row["or_more"],
            "customers": row["customers"],
            "actual": round(row["actual"] or 0.0, 2),
            "predicted": round(row["predicted"] or 0.0, 2),
        }
        for row in holdout["groups"]
    ]
    return {
        "calibration_end": dt.date.fromisoformat(holdout["calibration_end"]),
        "weeks": holdout["weeks"],
        "method": holdout["method"],
        "actual": holdout["actual"],
        "predicted": round(holdout["predicted"] or 0.0),
        "weekly": weekly,
        "groups": groups,
    }
