"""Bringing history in from the dashboard: upload a file, follow its import, read its report.

The upload is checked at once (size, CSV text, the columns of the chosen kind of file, the
mapping of a generic CSV) and answered next to the field; a file that passes is stored and
imported by the background worker. The run's page polls itself with htmx every second while the
import runs, then shows the report.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation

from kinfolk.core.errors import KinfolkError
from kinfolk.crm.imports.service import import_run_create
from kinfolk.crm.models import ImportRun
from kinfolk.crm.selectors.imports import import_run_progress, import_runs_for
from kinfolk.dashboard.forms import focus_first_error
from kinfolk.dashboard.import_forms import ImportForm
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.shops.models import Shop

RUNS_PER_PAGE = 20
# Rejected lines shown on the page; the run keeps up to 10,000.
REJECTED_SHOWN = 500


@shop_view(methods=("GET", "POST"))
def import_list(request: HttpRequest, shop: Shop) -> HttpResponse:
    """The shop's imports, newest first, and the form to upload another file."""
    form = ImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            run = import_run_create(
                shop=shop,
                format=form.cleaned_data["format"],
                upload=form.cleaned_data["file"],
                mapping=form.mapping(),
                created_by=request.user,
                language=translation.get_language() or "",
            )
        except KinfolkError as exc:
            form.add_import_error(exc)
        else:
            return redirect("dashboard:import", shop=shop.slug, import_id=run.pk)
    focus_first_error(form if form.is_bound else None)
    page = Paginator(import_runs_for(shop=shop), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "generic": ImportRun.Format.GENERIC,
        "show_mapping": form["format"].value() == ImportRun.Format.GENERIC,
    }
    status = 400 if form.is_bound else 200
    return dashboard_render(
        request, shop, "dashboard/imports.html", context, section="imports", status=status
    )


def report_lines(import_run: ImportRun) -> dict:
    """Return the report's two lists of lines, each cut at REJECTED_SHOWN with the count of
    those not shown: ``left_out`` (at the person's request) and ``rejected``."""
    entries = import_run.rejected or []
    parts = {
        "left_out": [entry for entry in entries if entry.get("left_out")],
        "rejected": [entry for entry in entries if not entry.get("left_out")],
    }
    context = {}
    for name, lines in parts.items():
        context[name] = lines[:REJECTED_SHOWN]
        context[f"{name}_hidden"] = max(len(lines) - REJECTED_SHOWN, 0)
    return context


@shop_view()
def import_detail(request: HttpRequest, shop: Shop, import_run: ImportRun) -> HttpResponse:
    """One import: its progress while it runs (polled every second), then its report."""
    context = {
        "run": import_run,
        "progress": import_run_progress(shop=shop, run=import_run),
        **report_lines(import_run),
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "dashboard/import_report.html", {"shop": shop, **context})
    return dashboard_render(request, shop, "dashboard/import.html", context, section="imports")
