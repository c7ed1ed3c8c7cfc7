"""Saved segments: the list, saving the customers list's filters as one, a segment's members
(the customers list with its filters), renaming, replacing its filters and deleting it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from kinfolk.core.errors import KinfolkError
from kinfolk.crm.models import SavedSegment
from kinfolk.crm.segment_filters import SegmentFilter
from kinfolk.crm.selectors.customers import shop_segments
from kinfolk.crm.services.segments import segment_delete as delete_segment
from kinfolk.crm.services.segments import segment_save
from kinfolk.dashboard.customer_forms import (
    FILTERED,
    CustomerFilterForm,
    SegmentNameForm,
    filter_params,
    filter_summary,
)
from kinfolk.dashboard.forms import add_service_error
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.dashboard.views.customers import filter_form, list_context
from kinfolk.shops.models import Shop


@shop_view()
def segment_list(request: HttpRequest, shop: Shop) -> HttpResponse:
    """The shop's saved segments by name, each with its filters in words."""
    form = filter_form(shop)
    tags = dict(form.fields["tag"].choices)
    products = dict(form.fields["product"].choices)
    rows = [
        {
            "segment": segment,
            "summary": filter_summary(
                SegmentFilter.from_dict(segment.filters),
                currency=shop.currency,
                tags=tags,
                products=products,
            ),
        }
        for segment in shop_segments(shop=shop)
    ]
    return dashboard_render(
        request, shop, "dashboard/segments.html", {"rows": rows}, section="customers"
    )


def _filters_from(shop: Shop, data) -> tuple[CustomerFilterForm, SegmentFilter]:
    form = filter_form(shop, data if FILTERED in data else None)
    return form, form.spec() if form.is_bound else SegmentFilter()


@shop_view(methods=("GET", "POST"))
def segment_new(request: HttpRequest, shop: Shop) -> HttpResponse:
    """Save the filters the request carries as a new segment (GET shows the form)."""
    data = request.POST if request.method == "POST" else request.GET
    filters, spec = _filters_from(shop, data)
    form = SegmentNameForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                segment = segment_save(
                    shop=shop, name=form.cleaned_data["name"], filters=spec, by=request.user
                )
            except KinfolkError as exc:
                add_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
                return redirect("dashboard:segment", shop=shop.slug, segment_id=segment.pk)
        else:
            status = 400
    context = {
        "form": form,
        "summary": filters.summary(spec),
        "filter_params": filter_params(spec, shop.currency),
    }
    return dashboard_render(
        request, shop, "dashboard/segment_new.html", context, section="customers", status=status
    )


def _segment_page(
    request: HttpRequest,
    shop: Shop,
    segment: SavedSegment,
    *,
    name_form: SegmentNameForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the segment: its members through the customers list, with its filters, or with
    the filters staff have changed on this page (then offered to save into the segment)."""
    saved = SegmentFilter.from_dict(segment.filters)
    edited = FILTERED in request.GET
    if edited:
        form, spec = _filters_from(shop, request.GET)
    else:
        form, spec = filter_form(shop, spec=saved), saved
    context = list_context(
        request,
        shop,
        form=form,
        spec=spec,
        link_params=filter_params(spec, shop.currency) if edited else [],
    )
    context.update(
        {
            "segment": segment,
            "saved_summary": form.summary(saved),
            "changed": spec != saved,
            "name_form": name_form or SegmentNameForm(initial={"name": segment.name}),
        }
    )
    return dashboard_render(
        request, shop, "dashboard/segment.html", context, section="customers", status=status
    )


@shop_view()
def segment_detail(request: HttpRequest, shop: Shop, segment: SavedSegment) -> HttpResponse:
    """Who is in the segment now."""
    return _segment_page(request, shop, segment)


@shop_view(methods=("POST",))
def segment_update(request: HttpRequest, shop: Shop, segment: SavedSegment) -> HttpResponse:
    """Rename the segment; with filters in the POST (``f``), replace its filters too."""
    form = SegmentNameForm(request.POST)
    spec = _filters_from(shop, request.POST)[1] if FILTERED in request.POST else None
    if not form.is_valid():
        return _segment_page(request, shop, segment, name_form=form, status=400)
    old_name = segment.name
    try:
        segment_save(shop=shop, segment=segment, name=form.cleaned_data["name"], filters=spec)
    except KinfolkError as exc:
        add_service_error(form, exc)
        segment.name = old_name
        return _segment_page(request, shop, segment, name_form=form, status=exc.status)
    if spec is not None:
        messages.success(request, _("The segment now uses these filters."))
    else:
        messages.success(request, _("Segment renamed."))
    return redirect("dashboard:segment", shop=shop.slug, segment_id=segment.pk)


@shop_view(methods=("POST",))
def segment_delete(request: HttpRequest, shop: Shop, segment: SavedSegment) -> HttpResponse:
    """Delete the segment; its customers stay as they are."""
    delete_segment(shop=shop, segment=segment)
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
    return redirect("dashboard:segments", shop=shop.slug)
