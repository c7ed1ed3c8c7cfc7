"""Writes of predicted lifetime value: fit ``kinfolk.clv`` to a shop's purchases, score every
purchasing customer, and record the fit with its calibration/holdout check.

**Order.** The figures go into the customers' ``CustomerScore`` rows, which ``rfm_recompute``
creates: run this after it (the nightly tasks run stages and RFM at 03:20, this at 03:50). When a
purchasing customer has no row yet, ``rfm_recompute`` runs first, at the same ``now``.

**Choices, and why.**

* Purchases are the standing paid orders of the timeline (``stage_rules.purchase_filter``, as RFM
  reads them), totals in ``data.total`` minor units, counted per day of the shop's calendar; time
  is in weeks (``kinfolk.clv.transactions``).
* CLV is the discounted value of the purchases expected over the next ``CLV_MONTHS`` (12)
  months at ``MONTHLY_DISCOUNT_RATE`` (1 % a month, about 12.7 % a year): a small business's cost
  of money, and a year is as far as a maker plans. Money is a float inside the models only: the
  stored ``expected_spend`` and ``clv`` are whole minor units (KRW has none below the won).
* Method ``model``: BG/NBD and Gamma-Gamma both fitted. ``pooled``: the shop-wide estimate of
  ``kinfolk.clv.pooled`` stands in for a model the history cannot support (too few repeat
  buyers, or a fit that does not pin its parameters down). ``rfm``: nobody bought twice, so there
  is no repeat rate to pool: each fan's own purchases per year so far (counting at least a year)
  and mean order value are carried forward, nobody assumed to leave.
* Holdout: the models are fitted again on the history up to a calibration end and compared with
  what came after it: the last quarter of the shop's history, at most 26 weeks, in whole weeks;
  skipped when that is under 4 weeks (a history under 16 weeks).
* Reads and fits run outside the transaction (SQLite transactions start IMMEDIATE and would hold
  the write lock through the fit); only the writes are atomic.
"""

from __future__ import annotations

import datetime as dt
import math
import time

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import translation

from kinfolk.clv import MIN_REPEAT_CUSTOMERS, ClvFit, fit, holdout_comparison, score, summarize
from kinfolk.clv.bgnbd import probability_alive, purchases_if_alive
from kinfolk.clv.pooled import pooled_rates
from kinfolk.clv.transactions import RfmSummary, history_patterns
from kinfolk.clv.value import discount_factors
from kinfolk.core import clock
from kinfolk.crm.models import CustomerScore, Interaction, ValueModelFit
from kinfolk.crm.selectors.insights import (
    NO_PURCHASES,
    NO_REPEAT_BUYERS,
    SPEND_ONLY,
    TOO_FEW_REPEAT_BUYERS,
    UNRELIABLE,
    value_fit_reason,
)
from kinfolk.crm.services.rfm import rfm_recompute
from kinfolk.crm.stage_rules import purchase_filter
from kinfolk.shops.models import Shop

Method = ValueModelFit.Method

MONTHLY_DISCOUNT_RATE = 0.01
CLV_MONTHS = 12
HOLDOUT_MAX_WEEKS = 26
HOLDOUT_SHARE = 0.25
HOLDOUT_MIN_WEEKS = 4
COHORT_MONTHS = 12
WEEK_DAYS = 7
YEAR_WEEKS = 365.25 / 7
WRITE_BATCH = 500
READ_CHUNK = 20_000
FIELDS = ("p_alive", "purchases_90d", "purchases_365d", "expected_spend", "clv", "value_method")
NO_FIGURES = (None, None, None, None, None, "")
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

# --- reading -----------------------------------------------------------------------------------


def _purchases(*, shop: Shop, now: dt.datetime) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return customer ids, days (the shop's calendar) and totals of the standing purchases."""
    total = Cast(KeyTextTransform("total", "data"), BigIntegerField())
    rows = (
        Interaction.objects.filter(shop=shop, occurred_at__lte=now)
        .filter(purchase_filter(shop=shop, now=now))
        .order_by()
        .values_list("customer_id", "occurred_at", total)
        .iterator(chunk_size=READ_CHUNK)
    )
    zone = shop.tzinfo
    ids: list[int] = []
    days: list[int] = []
    amounts: list[int] = []
    # Python datetimes are turned into day numbers one by one: the database has no portable way
    # to give a day in the shop's zone as a number.
    for customer_id, occurred_at, amount in rows:
        ids.append(customer_id)
        days.append(occurred_at.astimezone(zone).date().toordinal() - _EPOCH_ORDINAL)
        amounts.append(amount or 0)
    return (
        np.array(ids, dtype=np.int64),
        np.array(days, dtype=np.int64).astype("datetime64[D]"),
        np.array(amounts, dtype=np.float64),
    )


# --- estimating --------------------------------------------------------------------------------


def _rfm_outlook(summary: RfmSummary) -> dict[str, np.ndarray]:
    """Return the figures when nobody bought twice: each fan's own pace and order value."""
    purchases = summary.frequency + 1.0
    years = np.maximum(summary.T / YEAR_WEEKS, 1.0)
    per_year = purchases / years
    spend = (summary.first_value + summary.frequency * summary.monetary_value) / purchases
    per_month = per_year / 12.0
    discounted = discount_factors(CLV_MONTHS, MONTHLY_DISCOUNT_RATE).sum()
    return {
        "p_alive": np.full(len(summary), np.nan),
        "purchases_90d": per_year * 90 / 365.25,
        "purchases_365d": per_year,
        "expected_spend": spend,
        "clv": spend * per_month * discounted,
    }


def _estimate(fitted: ClvFit, summary: RfmSummary) -> tuple[str, str | None, dict]:
    """Return the method, the fallback code (None for the fitted models) and per-customer arrays."""
    if fitted.fallback is not None and int(summary.frequency.sum()) == 0:
        return Method.RFM, NO_REPEAT_BUYERS, _rfm_outlook(summary)
    figures = vars(score(fitted, summary, discount_rate=MONTHLY_DISCOUNT_RATE, months=CLV_MONTHS))
    if fitted.fallback is None:
        return Method.MODEL, None, figures
    if fitted.bgnbd is not None:
        code = SPEND_ONLY
    elif fitted.fallback == TOO_FEW_REPEAT_BUYERS:
        code = TOO_FEW_REPEAT_BUYERS
    else:
        code = UNRELIABLE
    return Method.POOLED, code, figures


def _weekly_prediction(fitted: ClvFit, summary: RfmSummary, weeks: int) -> np.ndarray:
    """Return the repeat purchases the fit expects in each holdout week, summed over customers."""
    if fitted.bgnbd is None:
        return np.full(weeks, float(pooled_rates(fitted.pooled, summary).sum()))
    params = fitted.bgnbd.params
    x, t_x, T, counts, _ = history_patterns(summary)
    weight = probability_alive(params, x, t_x, T) * counts
    # purchases_if_alive depends on (x, T) alone: one row per distinct pair.
    pairs, pair_of = np.unique(np.column_stack([x, T]), axis=0, return_inverse=True)
    pair_weight = np.bincount(pair_of.reshape(-1), weights=weight, minlength=len(pairs))
    times = np.arange(1, weeks + 1, dtype=np.float64)
    cumulative = purchases_if_alive(params, times[None, :], pairs[:, :1], pairs[:, 1:])
    return np.diff(pair_weight @ cumulative, prepend=0.0)


def _weekly_actual(
    ids: np.ndarray, days: np.ndarray, summary: RfmSummary, weeks: int
) -> np.ndarray:
    """Return the purchase days of calibration customers in each holdout week."""
    end = summary.calibration_end
    keep = (days > end) & np.isin(ids, summary.customer_ids)
    pairs = np.unique(np.column_stack([ids[keep], days[keep].astype(np.int64)]), axis=0)
    week = (pairs[:, 1] - end.astype(np.int64) - 1) // WEEK_DAYS
    return np.bincount(week, minlength=weeks)[:weeks]


def _holdout(ids: np.ndarray, days: np.ndarray, amounts: np.ndarray, today: np.datetime64) -> dict:
    """Fit on the history up to a calibration end and compare with the weeks after it."""
    span_days = int((today - days.min()).astype(np.int64))
    weeks = min(HOLDOUT_MAX_WEEKS, int(span_days * HOLDOUT_SHARE) // WEEK_DAYS)
    if weeks < HOLDOUT_MIN_WEEKS:
        return {"skipped": "short_history", "needed_weeks": HOLDOUT_MIN_WEEKS * 4}
    calibration_end = today - np.timedelta64(weeks * WEEK_DAYS, "D")
    summary = summarize(ids, days, amounts, calibration_end=calibration_end, observation_end=today)
    if len(summary) == 0:
        return {"skipped": "short_history", "needed_weeks": HOLDOUT_MIN_WEEKS * 4}
    fitted = fit(summary)
    comparison = holdout_comparison(fitted, summary)
    predicted = _weekly_prediction(fitted, summary, weeks)
    actual = _weekly_actual(ids, days, summary, weeks)
    week_ends = calibration_end + np.arange(1, weeks + 1) * np.timedelta64(WEEK_DAYS, "D")
    return {
        "calibration_end": str(calibration_end),
        "observation_end": str(today),
        "weeks": weeks,
        "method": Method.MODEL if fitted.fallback is None else Method.POOLED,
        "customers": comparison.customers,
        "repeat_buyers": fitted.repeat_customers,
        "actual": comparison.actual_total,
        "predicted": _finite(comparison.predicted_total),
        "groups": [
            {
                "frequency": group.frequency,
                "or_more": group.or_more,
                "customers": group.customers,
                "actual": _finite(group.actual),
                "predicted": _finite(group.predicted),
            }
            for group in comparison.groups
        ],
        "weekly": [
            {"week": k + 1, "end": str(week_ends[k]), "actual": int(a), "predicted": _finite(p)}
            for k, (a, p) in enumerate(zip(actual, predicted, strict=True))
        ],
    }


def _cohorts(ids: np.ndarray, days: np.ndarray, today: np.datetime64) -> dict:
    """Return per month of first purchase (the last 12) the customers, and how many of them
    bought in each month since (0 = the first month itself)."""
    months = days.astype("datetime64[M]").astype(np.int64)
    customers, code = np.unique(ids, return_inverse=True)
    code = code.reshape(-1)
    first = np.full(len(customers), np.iinfo(np.int64).max)
    np.minimum.at(first, code, months)
    pairs = np.unique(np.column_stack([code, months]), axis=0)
    cohort = first[pairs[:, 0]]
    offset = pairs[:, 1] - cohort
    latest = int(today.astype("datetime64[M]").astype(np.int64))
    oldest = latest - COHORT_MONTHS + 1
    sizes = np.bincount(first[first >= oldest] - oldest, minlength=COHORT_MONTHS)
    inside = (cohort >= oldest) & (offset < COHORT_MONTHS)
    cells = (cohort[inside] - oldest) * COHORT_MONTHS + offset[inside]
    active = np.bincount(cells, minlength=COHORT_MONTHS**2).reshape(COHORT_MONTHS, -1)
    return {
        "months": [str(np.datetime64(oldest + i, "M")) for i in range(COHORT_MONTHS)],
        "sizes": sizes.tolist(),
        # Months not yet reached are None.
        "active": [
            [int(active[i, k]) if i + k < COHORT_MONTHS else None for k in range(COHORT_MONTHS)]
            for i in range(COHORT_MONTHS)
        ],
    }


def _finite(value: float) -> float | None:
    """Return ``value`` as a plain float, None when it is not finite (JSON has no NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None


def _params(fitted: ClvFit | None, code: str | None, detail: dict) -> dict:
    """Return the JSON record of the fit: parameters, the fallback and how CLV was computed."""
    params: dict = {
        "unit": "week",
        "clv": {"months": CLV_MONTHS, "monthly_discount_rate": MONTHLY_DISCOUNT_RATE},
        "fallback": {"code": code, **detail} if code else None,
        "bgnbd": None,
        "gamma_gamma": None,
        "pooled": None,
    }
    if fitted is None:
        return params
    if fitted.bgnbd is not None:
        params["bgnbd"] = {
            **{k: _finite(v) for k, v in fitted.bgnbd.params.as_dict().items()},
            "log_likelihood": _finite(fitted.bgnbd.loglik),
        }
    if fitted.gammagamma is not None:
        params["gamma_gamma"] = {
            **{k: _finite(v) for k, v in fitted.gammagamma.params.as_dict().items()},
            "log_likelihood": _finite(fitted.gammagamma.loglik),
        }
    params["pooled"] = {k: _finite(v) for k, v in fitted.pooled.as_dict().items()}
    return params


# --- writing -----------------------------------------------------------------------------------


def _round(value: float, digits: int) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def _money(value: float) -> int:
    return round(value) if math.isfinite(value) and value > 0 else 0


def _rows(customer_ids: np.ndarray, figures: dict, method: str) -> dict[int, tuple]:
    """Return the stored values per customer, in the order of FIELDS."""
    columns = zip(
        customer_ids.tolist(),
        figures["p_alive"].tolist(),
        figures["purchases_90d"].tolist(),
        figures["purchases_365d"].tolist(),
        figures["expected_spend"].tolist(),
        figures["clv"].tolist(),
        strict=True,
    )
    return {
        customer_id: (
            _round(alive, 4),
            _round(p90, 4),
            _round(p365, 4),
            _money(spend),
            _money(clv),
            method,
        )
        for customer_id, alive, p90, p365, spend, clv in columns
    }


def _existing(shop: Shop) -> dict[int, tuple]:
    return {
        values[0]: values[1:]
        for values in CustomerScore.objects.filter(shop=shop).values_list("customer_id", *FIELDS)
    }


def _update_scores(shop: Shop, rows: list[tuple]) -> None:
    """Write (customer id, *FIELDS) rows into the shop's score rows, many rows a statement.

    ``bulk_update`` writes one CASE per field and row, which takes minutes at a million rows;
    ``UPDATE ... FROM (VALUES ...)`` is the same standard SQL on PostgreSQL and SQLite (3.33 on),
    whose VALUES columns both name column1, column2, ... The casts give PostgreSQL the types of
    columns that may hold only NULLs.
    """
    table = CustomerScore._meta.db_table
    quote = connection.ops.quote_name
    casts = ("DOUBLE PRECISION", "DOUBLE PRECISION", "DOUBLE PRECISION", "BIGINT", "BIGINT")
    assignments = [
        f"{quote(name)} = CAST(v.column{i + 2} AS {cast})"
        for i, (name, cast) in enumerate(zip(FIELDS, casts, strict=False))
    ]
    assignments.append(f"{quote(FIELDS[-1])} = v.column{len(FIELDS) + 1}")
    width = len(FIELDS) + 1
    limit = connection.features.max_query_params or 65535
    batch = max(1, min(WRITE_BATCH, (limit - 1) // width))
    row_sql = "(" + ", ".join(["%s"] * width) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            sql = (
                f"UPDATE {quote(table)} SET {', '.join(assignments)} "
                f"FROM (VALUES {', '.join([row_sql] * len(chunk))}) AS v "
                f"WHERE {quote(table)}.{quote('customer_id')} = v.column1 "
                f"AND {quote(table)}.{quote('shop_id')} = %s"
            )
            cursor.execute(sql, [value for row in chunk for value in row] + [shop.pk])


@transaction.atomic
def _store(
    *, shop: Shop, now: dt.datetime, values: dict[int, tuple], record: dict, started: float
) -> ValueModelFit:
    """Write the scores that changed, clear those of customers without a purchase, add the fit."""
    existing = _existing(shop)
    if any(customer_id not in existing for customer_id in values):
        rfm_recompute(shop=shop, now=now)
        existing = _existing(shop)
    changed = [
        (customer_id, *row)
        for customer_id, row in values.items()
        if existing.pop(customer_id, row) != row
    ]
    # Score rows of customers without a standing purchase (none once RFM ran at the same time).
    changed += [(pk, *NO_FIGURES) for pk, row in existing.items() if row != NO_FIGURES]
    _update_scores(shop, changed)
    seconds = round(time.monotonic() - started, 3)  # the writes included
    return ValueModelFit.objects.create(shop=shop, fitted_at=now, seconds=seconds, **record)


def shop_value_refresh(*, shop: Shop, now: dt.datetime | None = None) -> ValueModelFit:
    """Fit the shop's value models, score every purchasing customer, and return the fit's record.

    A shop without purchases gets a record that says so (method ``pooled``, no customers) and
    no figures.
    """
    started = time.monotonic()
    now = now or clock.now()
    today = np.datetime64(now.astimezone(shop.tzinfo).date(), "D")
    ids, days, amounts = _purchases(shop=shop, now=now)
    if len(ids) == 0:
        record = {
            "method": Method.POOLED,
            "customers": 0,
            "repeat_buyers": 0,
            "params": _params(None, NO_PURCHASES, {}),
            "holdout": {"skipped": "no_purchases"},
        }
        values: dict[int, tuple] = {}
    else:
        summary = summarize(ids, days, amounts, calibration_end=today, observation_end=today)
        fitted = fit(summary)
        method, code, figures = _estimate(fitted, summary)
        detail = {"needed": MIN_REPEAT_CUSTOMERS, "detail": fitted.fallback_detail or ""}
        params = _params(fitted, code, detail if code else {})
        params["cohorts"] = _cohorts(ids, days, today)
        params["history"] = {
            "purchases": len(ids),
            "first_day": str(days.min()),
            "last_day": str(days.max()),
        }
        record = {
            "method": method,
            "customers": len(summary),
            "repeat_buyers": summary.repeat_customers,
            "params": params,
            "holdout": _holdout(ids, days, amounts, today),
        }
        values = _rows(summary.customer_ids, figures, method)
    unsaved = ValueModelFit(repeat_buyers=record["repeat_buyers"], params=record["params"])
    # Stored in the site's language; pages word it again in the reader's (value_fit_reason).
    with translation.override(settings.LANGUAGE_CODE):
        record["reason"] = value_fit_reason(unsaved)
    return _store(shop=shop, now=now, values=values, record=record, started=started)
