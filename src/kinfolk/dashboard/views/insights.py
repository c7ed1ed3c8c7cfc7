"""The CRM overview ("Insights"): where the shop's fans stand and where they are going.

The figures come from ``kinfolk.crm.selectors.insights``; this view shapes them for the page: the
tables every chart has beside it (read without JavaScript), and the same numbers as JSON for
Chart.js (``static/kinfolk/insights.js``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kinfolk.core.money import currency_exponent
from kinfolk.crm.models import ValueModelFit
from kinfolk.crm.selectors import insights as selectors
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.shops.models import Shop

METHOD_LABELS = dict(ValueModelFit.Method.choices)


def _major(amount: int, currency: str) -> float:
    """Return minor units as major units, for drawing only (tables show formatted money)."""
    return amount / 10 ** currency_exponent(currency)


def _series(label: str, data: list) -> dict:
    return {"label": str(label), "data": data}


def _charts(shop: Shop, figures: dict) -> dict:
    """Return the Chart.js input of every chart that has something to draw, by canvas id."""
    currency = shop.currency
    charts: dict[str, dict] = {}
    funnel = figures["funnel"]
    if any(row["count"] for row in funnel):
        charts["chart-funnel"] = {
            "type": "bar",
            "horizontal": True,
            "labels": [str(row["label"]) for row in funnel],
            "series": [_series(_("Fans"), [row["count"] for row in funnel])],
        }
    buckets = figures["distribution"]["buckets"]
    if buckets:
        charts["chart-clv"] = {
            "type": "bar",
            "labels": [bucket.label for bucket in buckets],
            "series": [_series(_("Fans"), [bucket.count for bucket in buckets])],
        }
    segments = [row for row in figures["segments"] if row["customers"]]
    if segments:
        charts["chart-segments"] = {
            "type": "bar",
            "horizontal": True,
            "money": True,
            "labels": [str(row["label"]) for row in segments],
            "series": [
                _series(_("Revenue"), [_major(row["revenue"], currency) for row in segments])
            ],
        }
    holdout = figures["holdout"]
    if holdout:
        weekly = holdout["weekly"]
        charts["chart-holdout-weeks"] = {
            "type": "line",
            "labels": [date_format(row["end"], "SHORT_DATE_FORMAT") for row in weekly],
            "series": [
                _series(_("Predicted"), [row["predicted"] for row in weekly]),
                _series(_("Actual"), [row["actual"] for row in weekly]),
            ],
        }
        groups = holdout["groups"]
        charts["chart-holdout-groups"] = {
            "type": "bar",
            "labels": [f"{row['frequency']}{'+' if row['or_more'] else ''}" for row in groups],
            "series": [
                _series(_("Predicted"), [row["predicted"] for row in groups]),
                _series(_("Actual"), [row["actual"] for row in groups]),
            ],
        }
    return charts


def _shade_cohorts(rows: list[dict]) -> list[dict]:
    """Give each cohort cell a shade from 0 to 1, relative to the table's highest share."""
    top = max(
        (cell["percent"] for row in rows for cell in row["cells"] if cell and cell["percent"]),
        default=0,
    )
    for row in rows:
        for cell in row["cells"]:
            if cell is not None:
                share = (cell["percent"] or 0) / top if top else 0
                cell["shade"] = f"{share:.2f}"
                cell["dark"] = share > 0.55
    return rows


@shop_view()
def insights(request: HttpRequest, shop: Shop) -> HttpResponse:
    """The stage funnel and flows, lifetime value, cohorts, segments, fans at risk, model check."""
    fit = selectors.latest_value_fit(shop=shop)
    cohorts = _shade_cohorts(selectors.cohort_rows(fit))
    figures = {
        "funnel": selectors.stage_funnel(shop=shop),
        "flows": selectors.stage_flows(shop=shop),
        "distribution": selectors.clv_distribution(shop=shop),
        "segments": selectors.revenue_by_segment(shop=shop),
        "at_risk": selectors.fans_at_risk(shop=shop),
        "cohorts": cohorts,
        "holdout": selectors.holdout_rows(fit),
    }
    context = {
        **figures,
        "fit": fit,
        "fit_method": METHOD_LABELS.get(fit.method, "") if fit else "",
        "fit_reason": selectors.value_fit_reason(fit) if fit else "",
        "fans": sum(row["count"] for row in figures["funnel"]),
        "buyers": sum(row["customers"] for row in figures["segments"]),
        "flow_days": selectors.FLOW_DAYS,
        "cohort_offsets": range(1, 1 + len(cohorts[0]["cells"])) if cohorts else [],
        "chart_data": {
            "currency": shop.currency,
            "charts": _charts(shop, figures),
        },
    }
    return dashboard_render(request, shop, "dashboard/insights.html", context, section="insights")
