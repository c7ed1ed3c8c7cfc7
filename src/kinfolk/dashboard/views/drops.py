"""The maker's drops: the list, a new drop, changes before it starts, the live drop, its owners.

Every POST calls one service of ``drops.services.editions``; a refusal shows the form again with
the message next to its field and everything staff typed. Times are typed and shown in the
shop's time zone (``shop_view`` activates it); the database keeps UTC.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from kinfolk.core import clock
from kinfolk.core.errors import KinfolkError
from kinfolk.dashboard.drop_forms import DropCreateForm, DropForm, EarlyFansForm
from kinfolk.dashboard.forms import add_service_error, focus_first_error
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.dashboard.views.customers import csv_safe
from kinfolk.drops import reports
from kinfolk.drops.certificates import display_code, owner_name
from kinfolk.drops.models import Edition
from kinfolk.drops.reports import Phase
from kinfolk.drops.services.editions import (
    edition_create,
    edition_create_with_product,
    edition_early_fans_set,
    edition_starts_at,
    edition_update,
)
from kinfolk.shops.models import Shop

OWNERS_PER_PAGE = 50
PHASE_LABELS = {
    Phase.SCHEDULED: gettext_lazy("Scheduled"),
    Phase.EARLY_ACCESS: gettext_lazy("Early access"),
    Phase.LIVE: gettext_lazy("Live"),
    Phase.SOLD_OUT: gettext_lazy("Sold out"),
    Phase.CLOSED: gettext_lazy("Closed"),
}
# Seconds between refreshes of the live drop page; a phase that cannot change any more has none.
POLL_SECONDS = {Phase.SCHEDULED: 30, Phase.EARLY_ACCESS: 5, Phase.LIVE: 5}
# The service's field names where the new-drop form names them otherwise.
_FORM_FIELDS = {"variant": "product", "name": "new_name", "price": "new_price"}


def zone_label(shop: Shop) -> str:
    """Return the shop's time zone with its offset now, e.g. "Asia/Seoul (UTC+09:00)"."""
    offset = clock.now().astimezone(shop.tzinfo).strftime("%z")
    return f"{shop.time_zone} (UTC{offset[:3]}:{offset[3:]})"


def _render(request, shop, template, context, *, status=200) -> HttpResponse:
    return dashboard_render(request, shop, template, context, section="drops", status=status)


@shop_view()
def drop_list(request: HttpRequest, shop: Shop) -> HttpResponse:
    """Every drop of the shop with its phase and how much of it has sold."""
    now = clock.now()
    rows = [
        {
            "edition": edition,
            "figures": figures,
            "phase": (phase := reports.drop_phase(edition, figures, now)),
            "phase_label": PHASE_LABELS[phase],
        }
        for edition, figures in reports.editions_for_shop(shop=shop, now=now)
    ]
    return _render(request, shop, "dashboard/drops.html", {"rows": rows, "zone": zone_label(shop)})


def _service_error(form, exc: KinfolkError) -> None:
    errors = {_FORM_FIELDS.get(field, field): message for field, message in exc.errors.items()}
    exc.errors = errors or {None: exc.message}
    add_service_error(form, exc)


@shop_view(methods=("GET", "POST"))
def drop_new(request: HttpRequest, shop: Shop) -> HttpResponse:
    """A new drop of an existing product of the shop, or of a product created with it."""
    variants = list(reports.variants_for_new_drop(shop=shop))
    form = DropCreateForm(
        request.POST if request.method == "POST" else None,
        variants=variants,
        currency=shop.currency,
        initial={"product": str(variants[0].pk) if variants else "new"},
    )
    if request.method == "POST" and form.is_valid():
        options = {**form.edition_fields(), "early_access_emails": form.early_emails()}
        variant = form.chosen_variant()
        try:
            if variant is None:
                edition = edition_create_with_product(shop=shop, **form.new_product(), **options)
            else:
                edition = edition_create(
                    shop=shop, product=variant.product, variant=variant, **options
                )
        except KinfolkError as exc:
            _service_error(form, exc)
        except IntegrityError:
            form.add_error("product", _("This product became an edition meanwhile."))
        else:
            messages.success(
                request, _("The drop of %(name)s is scheduled.") % {"name": edition.product.name}
            )
            return redirect("dashboard:drop", shop=shop.slug, edition_id=edition.pk)
    focus_first_error(form if form.is_bound else None)
    context = {"form": form, "zone": zone_label(shop)}
    status = 400 if form.is_bound else 200
    return _render(request, shop, "dashboard/drop_new.html", context, status=status)


def _edit_mode(edition: Edition, now: dt.datetime) -> str:
    """Return what may change now: "all" before the drop starts, "fans" while early access for
    chosen fans runs, "none" after."""
    if now < edition_starts_at(edition):
        return "all"
    if edition.early_access == Edition.EarlyAccess.LIST and now < edition.opens_at:
        return "fans"
    return "none"


def _edit_form(edition: Edition, shop: Shop, mode: str, data=None):
    if mode == "all":
        return DropForm.for_edition(edition, data=data)
    if mode == "fans":
        emails = "\n".join(fan.email for fan in edition.early_fans.order_by("email"))
        return EarlyFansForm(data=data, initial={"early_access_emails": emails})
    return None


def _save_edit(request, shop: Shop, edition: Edition, mode: str, form) -> KinfolkError | None:
    """Call the service the mode allows; return its error, if any."""
    try:
        if mode == "all":
            edition_update(
                shop=shop,
                edition=edition,
                **form.edition_fields(),
                early_access_emails=form.early_emails(),
            )
        else:
            count = edition_early_fans_set(
                shop=shop, edition=edition, emails=form.cleaned_data["early_access_emails"]
            )
            messages.info(
                request,
                _("%(count)s fans may buy early.") % {"count": count},
            )
    except KinfolkError as exc:
        return exc
    return None


@shop_view(methods=("GET", "POST"))
def drop_edit(request: HttpRequest, shop: Shop, edition: Edition) -> HttpResponse:
    """Change a drop before it starts (size, schedule, limits, early access); while early access
    runs only its list of chosen fans; after that nothing."""
    mode = _edit_mode(edition, clock.now())
    form = _edit_form(edition, shop, mode, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form is None:
            messages.error(request, _("This drop has started: it can no longer be changed."))
            status = 409
        elif form.is_valid():
            error = _save_edit(request, shop, edition, mode, form)
            if error is None:
                messages.success(request, _("The drop is saved."))
                return redirect("dashboard:drop", shop=shop.slug, edition_id=edition.pk)
            _service_error(form, error)
            status = error.status
    focus_first_error(form if form is not None and form.is_bound else None)
    context = {"edition": edition, "form": form, "mode": mode, "zone": zone_label(shop)}
    return _render(request, shop, "dashboard/drop_edit.html", context, status=status)


def _chart(kind: str, buckets: list[reports.SalesBucket], size: int) -> dict:
    """Return the Chart.js input of the sell-through chart: copies sold by the end of each
    bucket, labelled in the shop's time (active in the view)."""
    label_format = {"minute": "H:i", "hour": "j M H:i", "day": "j M"}[kind]
    return {
        "labels": [
            date_format(timezone.localtime(bucket.start), label_format) for bucket in buckets
        ],
        "series": [{"label": str(_("Copies sold")), "data": [b.total for b in buckets]}],
        "max": size,
    }


def _live_context(shop: Shop, edition: Edition) -> dict:
    now = clock.now()
    figures = reports.drop_figures(edition=edition, now=now)
    phase = reports.drop_phase(edition, figures, now)
    until = now if phase in POLL_SECONDS else (figures.last_sale or now)
    kind, buckets = reports.sell_through(
        edition=edition, figures=figures, tz=shop.tzinfo, until=until
    )
    return {
        "edition": edition,
        "figures": figures,
        "phase": phase,
        "phase_label": PHASE_LABELS[phase],
        "poll_seconds": POLL_SECONDS.get(phase),
        "buckets": buckets,
        "bucket_kind": kind,
        "chart": _chart(kind, buckets, edition.size),
        "updated_at": now,
    }


@shop_view()
def drop_detail(request: HttpRequest, shop: Shop, edition: Edition) -> HttpResponse:
    """The drop as it goes: sold, held, free, waitlist and the sell-through over time.

    htmx asks for the figures alone every few seconds while the drop can sell.
    """
    context = _live_context(shop, edition)
    if request.headers.get("HX-Request") == "true":
        return render(request, "dashboard/drop_live.html", {"shop": shop, **context})
    context.update(
        zone=zone_label(shop),
        editable=_edit_mode(edition, clock.now()) != "none",
    )
    return _render(request, shop, "dashboard/drop.html", context)


def _owner_row(copy) -> dict:
    return {
        "number": copy.number,
        "name": owner_name(copy.order),
        "email": copy.order.email,
        "order": copy.order,
        "sold_at": copy.sold_at,
        "code": display_code(copy.verification_code),
    }


@shop_view()
def drop_owners(request: HttpRequest, shop: Shop, edition: Edition) -> HttpResponse:
    """Who owns which copy, by number, 50 a page."""
    page = Paginator(reports.owners(edition=edition), OWNERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [_owner_row(copy) for copy in page.object_list]
    context = {"edition": edition, "page": page, "rows": rows}
    return _render(request, shop, "dashboard/drop_owners.html", context)


class _Echo:
    """A file that hands back what is written to it: csv.writer then yields each line."""

    def write(self, value: str) -> str:
        return value


def _owner_lines(shop: Shop, edition: Edition, header: list[str]) -> Iterator[str]:
    """Yield the CSV's lines; times in the shop's zone (the view's override has ended by now)."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # lets spreadsheets read the file as UTF-8 (names in Hangul, accents)
    yield writer.writerow(header)
    tz = shop.tzinfo
    for copy in reports.owners(edition=edition).iterator(chunk_size=1000):
        row = _owner_row(copy)
        cells = [
            row["number"],
            row["name"],
            row["email"],
            row["order"].number,
            row["sold_at"].astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            row["code"],
        ]
        yield writer.writerow([csv_safe(cell) for cell in cells])


@shop_view()
def drop_owners_csv(request: HttpRequest, shop: Shop, edition: Edition) -> StreamingHttpResponse:
    """The owners by number as CSV, streamed, cells guarded against spreadsheet formulas."""
    header = [
        _("Number"),
        pgettext("of a copy", "Owner"),
        _("E-mail"),
        _("Order"),
        _("Sold (%(zone)s)") % {"zone": shop.time_zone},
        _("Verification code"),
    ]
    response = StreamingHttpResponse(
        _owner_lines(shop, edition, header), content_type="text/csv; charset=utf-8"
    )
    name = f"{shop.slug}-{edition.product.slug}-owners.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
