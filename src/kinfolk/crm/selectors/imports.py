"""Reads of a shop's imports: the runs, newest first, and one run's progress and report."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kinfolk.core.errors import NotFound
from kinfolk.crm.models import ImportRun
from kinfolk.shops.models import Shop


def import_runs_for(*, shop: Shop) -> QuerySet[ImportRun]:
    """Return the shop's import runs, newest first, without their lists of rejected lines
    (thousands of entries for a bad file; the list of runs does not show them)."""
    return (
        ImportRun.objects.filter(shop=shop)
        .select_related("created_by")
        .defer("rejected", "mapping", "error")
        .order_by("-created_at", "-id")
    )


def import_run_progress(*, shop: Shop, run: ImportRun) -> dict:
    """Return how far the shop's run is: lines read, lines in the file, the share in percent,
    and whether it is still waiting or running."""
    if run.shop_id != shop.pk:
        raise NotFound(_("No such import."))
    total, done = run.total_lines, min(run.processed_lines, run.total_lines)
    percent = done * 100 // total if total else 0
    if run.status == ImportRun.Status.DONE:
        percent = 100
    running = run.status in {ImportRun.Status.PENDING, ImportRun.Status.RUNNING}
    return {"total": total, "done": done, "percent": percent, "running": running}
