"""The shop's customers: the list (search, filters, sortable columns, seek pages) and its CSV.

The list never counts the filtered set (a full scan at a million customers): it pages by seek
(``crm.selectors.customers.customers_page``) with "newer / older" links, and shows per-stage
counts only when the stage is the only filter, where they come from an index and stop at
10,000. The same page shows a saved segment's members (``views.segments``).
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kinfolk.catalog.selectors import products_for_staff
from kinfolk.core import clock
from kinfolk.core.money import Money
from kinfolk.crm.models import Segment, Stage
from kinfolk.crm.segment_filters import SegmentFilter
from kinfolk.crm.selectors.customers import (
    COUNT_CAP,
    Sort,
    customers_for_export,
    customers_page,
    shop_tags,
    stage_counts_capped,
)
from kinfolk.dashboard.customer_forms import (
    FILTERED,
    CustomerFilterForm,
    SegmentNameForm,
    filter_params,
)
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.shops.models import Shop

COLUMNS = (
    ("name", gettext_lazy("Customer")),
    ("stage", gettext_lazy("Stage")),
    ("last_purchase", gettext_lazy("Last purchase")),
    ("orders", gettext_lazy("Orders")),
    ("paid", gettext_lazy("Total paid")),
    ("clv", gettext_lazy("Lifetime value")),
    ("since", gettext_lazy("Customer since")),
)
SORT_CHOICES = (
    ("-since", gettext_lazy("Newest customers first")),
    ("since", gettext_lazy("Oldest customers first")),
    ("name", gettext_lazy("Name, A to Z")),
    ("-name", gettext_lazy("Name, Z to A")),
    ("-clv", gettext_lazy("Highest lifetime value")),
    ("clv", gettext_lazy("Lowest lifetime value")),
    ("-paid", gettext_lazy("Most paid")),
    ("paid", gettext_lazy("Least paid")),
    ("-orders", gettext_lazy("Most orders")),
    ("-last_purchase", gettext_lazy("Bought most recently")),
    ("last_purchase", gettext_lazy("Bought longest ago")),
    ("-stage", gettext_lazy("Stage, community first")),
    ("stage", gettext_lazy("Stage, awareness first")),
)
# A cell a spreadsheet would run as a formula starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def filter_form(shop: Shop, data=None, *, spec: SegmentFilter | None = None) -> CustomerFilterForm:
    """Return the filter form with the shop's tags and products to choose from.

    Bound to ``data`` (a query string), or showing ``spec`` when there is no data.
    """
    choices = {
        "currency": shop.currency,
        "tags": [(tag.pk, tag.name) for tag in shop_tags(shop=shop)],
        "products": list(
            products_for_staff(shop=shop)
            .prefetch_related(None)
            .order_by("name", "pk")
            .values_list("pk", "name")
        ),
    }
    if data is not None:
        return CustomerFilterForm(data, **choices)
    return CustomerFilterForm.for_spec(spec or SegmentFilter(), **choices)


def _query(params: list[tuple[str, str]], **extra: str | None) -> str:
    pairs = list(params) + [(key, value) for key, value in extra.items() if value]
    return "?" + urlencode(pairs) if pairs else "?"


def _stage_tabs(spec: SegmentFilter, sort: Sort, shop: Shop) -> list[dict]:
    """Return the stage tabs: All and each stage, with capped counts when they are cheap."""
    counts = stage_counts_capped(shop=shop) if spec.only_stages() else None
    tabs = []
    for value, label in [("", _("All"))] + list(Stage.choices):
        tab_spec = dataclasses.replace(spec, stages=(value,) if value else ())
        count = None
        if counts is not None:
            count = counts[value] if value else sum(counts.values())
        tabs.append(
            {
                "label": label,
                "url": _query(filter_params(tab_spec, shop.currency), sort=str(sort)),
                "current": spec.stages == tab_spec.stages,
                "count": count,
                "more": counts is not None
                and (count > COUNT_CAP if value else any(n > COUNT_CAP for n in counts.values())),
            }
        )
        if tabs[-1]["more"] and value:
            tabs[-1]["count"] = COUNT_CAP
    return tabs


def _columns(sort: Sort, params: list[tuple[str, str]]) -> list[dict]:
    columns = []
    for key, label in COLUMNS:
        current = sort.key == key
        columns.append(
            {
                "key": key,
                "label": label,
                "url": _query(params, sort=str(sort.toggled(key))),
                "aria_sort": ("descending" if sort.descending else "ascending") if current else "",
                "numeric": key in {"orders", "paid", "clv"},
            }
        )
    return columns


def list_context(
    request: HttpRequest,
    shop: Shop,
    *,
    form: CustomerFilterForm,
    spec: SegmentFilter,
    link_params: list[tuple[str, str]],
) -> dict:
    """Return what the list template needs: one page of ``spec``'s customers, the links to the
    pages around it, the sortable columns and the stage tabs.

    ``link_params`` are the filters the page's own links carry (none on a saved segment that
    shows its saved filters).
    """
    sort = Sort.parse(request.GET.get("sort"))
    page = customers_page(
        shop=shop,
        spec=spec,
        sort=sort,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    own = _query(link_params, sort=str(sort))
    params = filter_params(spec, shop.currency)
    return {
        "form": form,
        "spec": spec,
        "summary": form.summary(spec),
        "sort": sort,
        "customers": page.customers,
        "next_url": _query(link_params, sort=str(sort), after=page.next_cursor)
        if page.next_cursor
        else "",
        "previous_url": _query(link_params, sort=str(sort), before=page.previous_cursor)
        if page.previous_cursor
        else "",
        "first_url": own,
        "columns": _columns(sort, link_params),
        "tabs": _stage_tabs(spec, sort, shop),
        "export_url": reverse("dashboard:customers_export", kwargs={"shop": shop.slug})
        + _query(params),
        "filter_params": params,
        "sort_param": str(sort),
        "sort_choices": SORT_CHOICES,
        "save_form": SegmentNameForm(),
    }


@shop_view()
def customer_list(request: HttpRequest, shop: Shop) -> HttpResponse:
    """The shop's customers, filtered, sorted and paged by the query string."""
    form = filter_form(shop, request.GET if FILTERED in request.GET else None)
    spec = form.spec() if form.is_bound else SegmentFilter()
    params = filter_params(spec, shop.currency) if form.is_bound else []
    context = list_context(request, shop, form=form, spec=spec, link_params=params)
    return dashboard_render(request, shop, "dashboard/customers.html", context, section="customers")


# --- CSV export -----------------------------------------------------------------------------------


class _Echo:
    """A file that hands back what is written to it: csv.writer then yields each line."""

    def write(self, value: str) -> str:
        return value


def csv_safe(value: object) -> str:
    """Return ``value`` as CSV cell text that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _major(amount: int | None, currency: str) -> str:
    return "" if amount is None else str(Money(amount, currency).to_decimal())


@dataclasses.dataclass(frozen=True)
class _ExportWords:
    """The export's words in the reader's language, fixed while the view runs: the rows are
    written after it has returned, when no language or time zone is active any more."""

    header: list[str]
    stages: dict[str, str]
    segments: dict[str, str]
    yes: str
    no: str

    @classmethod
    def now(cls, currency: str) -> _ExportWords:
        return cls(
            header=[
                _("E-mail"),
                _("Name"),
                _("Country"),
                _("Stage"),
                _("Segment"),
                "R",
                "F",
                "M",
                _("Orders"),
                _("Total paid (%(currency)s)") % {"currency": currency},
                _("Lifetime value (%(currency)s)") % {"currency": currency},
                _("Probability alive"),
                _("Customer since"),
                _("Last purchase"),
                _("Agreed to marketing e-mail"),
                _("Tags"),
            ],
            stages={value: str(label) for value, label in Stage.choices},
            segments={value: str(label) for value, label in Segment.choices},
            yes=_("yes"),
            no=_("no"),
        )


def _export_rows(shop: Shop, spec: SegmentFilter, words: _ExportWords) -> Iterator[list]:
    """Yield the header and one row per matching customer, dates in the shop's time zone."""
    currency, tz = shop.currency, shop.tzinfo

    def day(moment) -> str:
        return moment.astimezone(tz).date().isoformat() if moment else ""

    yield words.header
    for customer in customers_for_export(shop=shop, spec=spec):
        score = getattr(customer, "score", None)
        yield [
            customer.email,
            customer.name,
            customer.country,
            words.stages.get(customer.stage, customer.stage),
            words.segments.get(score.segment, score.segment) if score else "",
            score.recency_score if score else "",
            score.frequency_score if score else "",
            score.monetary_score if score else "",
            score.frequency if score else 0,
            _major(score.monetary, currency) if score else _major(0, currency),
            _major(score.clv, currency) if score else "",
            f"{score.p_alive:.2f}" if score and score.p_alive is not None else "",
            day(customer.created_at),
            day(score.last_purchase_at) if score else "",
            words.yes if customer.email_marketing else words.no,
            "; ".join(sorted(tag.name for tag in customer.tags.all())),
        ]


@shop_view()
def customers_export(request: HttpRequest, shop: Shop) -> StreamingHttpResponse:
    """The filtered customers as CSV, streamed a chunk of rows at a time."""
    form = filter_form(shop, request.GET if FILTERED in request.GET else None)
    spec = form.spec() if form.is_bound else SegmentFilter()
    writer = csv.writer(_Echo())
    words = _ExportWords.now(shop.currency)

    def lines() -> Iterator[str]:
        yield "\ufeff"  # lets spreadsheets read the file as UTF-8 (names in Hangul, accents)
        for row in _export_rows(shop, spec, words):
            yield writer.writerow([csv_safe(cell) for cell in row])

    today = clock.now().astimezone(shop.tzinfo).date().isoformat()
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{shop.slug}-customers-{today}.csv"'
    return response
