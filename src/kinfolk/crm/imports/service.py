"""Bringing a shop's history in: check a file, import it, and keep an ImportRun of it.

``history_import`` does the work for any caller (the ``kinfolk import`` command, the background
task of a dashboard upload): it reads the file as a stream, writes orders or customers in batches
(``writer``), reports progress through a callback, and then recomputes the shop's stages and RFM
scores once, since the interactions were written without the per-event stage update.
``import_run_create`` takes a dashboard upload: every check that can be made before the import
(size, CSV text, the columns the chosen kind of file must have, a line under the header) is made
then, so that a wrong file gets a clear answer at once and nothing is stored.

Lines of people whose data was erased from the shop at their request are left out (nothing
created, nothing linked) and reported apart from malformed lines: a run keeps them in its
``rejected`` list with ``"left_out": true``, before the rejected lines.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.crm.imports.bandcamp import Bandcamp
from kinfolk.crm.imports.generic import DATE_FORMAT, MAPPABLE_FIELDS, Generic, mapping_problems
from kinfolk.crm.imports.reading import ReadContext, Reader
from kinfolk.crm.imports.records import ImportedCustomer, Rejection
from kinfolk.crm.imports.shopify import ShopifyCustomers, ShopifyOrders
from kinfolk.crm.imports.source import CsvSource, unreadable
from kinfolk.crm.imports.writer import CustomerDirectory, customers_write, orders_write
from kinfolk.crm.models import ImportRun
from kinfolk.crm.services import rfm_recompute, stages_recompute
from kinfolk.shops.models import Shop

Format = ImportRun.Format
READERS: dict[str, Reader] = {
    Format.SHOPIFY_ORDERS: ShopifyOrders(),
    Format.SHOPIFY_CUSTOMERS: ShopifyCustomers(),
    Format.BANDCAMP: Bandcamp(),
    Format.GENERIC: Generic(),
}
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# Orders or customers per write transaction.
WRITE_BATCH = 500
# Rejected lines kept on a run; a file rejected wholesale says so in one last entry instead.
MAX_REJECTIONS_KEPT = 10_000
# Lines left out at the person's request kept on a run (likewise).
MAX_LEFT_OUT_KEPT = 10_000


def left_out_reason() -> str:
    """Return why a line of an erased person is left out, in the active language (it names no
    one: the line number is all the report keeps of it)."""
    return _("Left out at the person's request: their personal data was erased from this shop.")


@dataclass
class ImportReport:
    """What an import did: lines read, what was written, what was there already, what not
    (rejected: malformed; left out: lines of people erased from the shop at their request)."""

    total_lines: int = 0
    processed_lines: int = 0
    customers_created: int = 0
    orders_imported: int = 0
    already_imported: int = 0
    rejected_count: int = 0
    rejected: list[dict] = field(default_factory=list)
    left_out_count: int = 0
    left_out: list[int] = field(default_factory=list)

    def reject(self, rejection: Rejection) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REJECTIONS_KEPT:
            self.rejected.append({"line": rejection.line, "reason": rejection.reason})

    def leave_out(self, lines: list[int]) -> None:
        """Count the lines (of erased people) left out, keeping their numbers."""
        self.left_out_count += len(lines)
        self.left_out.extend(lines[: max(MAX_LEFT_OUT_KEPT - len(self.left_out), 0)])

    def kept_left_out(self) -> list[dict]:
        """Return the lines left out at the person's request in file order, each with the
        reason and ``"left_out": True``, and a last entry for those not kept."""
        reason = left_out_reason()
        kept = [
            {"line": line, "reason": reason, "left_out": True} for line in sorted(self.left_out)
        ]
        more = self.left_out_count - len(kept)
        if more:
            kept.append(
                {
                    "line": None,
                    "reason": _("%(count)s more lines were left out at the person's request.")
                    % {"count": more},
                    "left_out": True,
                }
            )
        return kept

    def kept_rejections(self) -> list[dict]:
        """Return the rejected lines in file order, with a last entry for those not kept."""
        kept = sorted(self.rejected, key=lambda entry: entry["line"])
        left_out = self.rejected_count - len(kept)
        if left_out:
            kept.append(
                {
                    "line": None,
                    "reason": _("%(count)s more lines were rejected.") % {"count": left_out},
                }
            )
        return kept


Progress = Callable[[ImportReport], None]


def import_source_open(
    *, format: str, stream: BinaryIO, mapping: dict[str, str] | None = None
) -> tuple[CsvSource, Reader]:
    """Open ``stream`` as a file of ``format``; raise InvalidInput when it cannot be imported.

    The error names the field to correct: ``file`` (not a CSV, empty, columns missing) or, for
    a generic CSV, the mapping field whose column the file lacks (``errors`` holds them all).
    """
    if format not in READERS:
        raise InvalidInput(_("Choose the kind of file."), field="format")
    source = CsvSource(stream)
    reader = READERS[format]
    missing = reader.missing_columns(source.columns)
    if missing:
        raise unreadable(
            _(
                "This file does not look like a %(kind)s: it lacks %(columns)s. Check that you "
                "chose the right kind of file."
            )
            % {
                "kind": Format(format).label,
                "columns": ", ".join(f"“{name}”" for name in missing),
            }
        )
    if format == Format.GENERIC:
        problems = mapping_problems(mapping or {}, source.columns)
        if problems:
            # The file's own header, next to the file: what there is to map.
            problems["file"] = _(
                "The columns of this file are: %(columns)s. Choose it again with the mapping "
                "corrected."
            ) % {"columns": ", ".join(f"“{name}”" for name in source.columns.names if name)}
            field_name, message = next(iter(problems.items()))
            raise InvalidInput(message, field=field_name, errors=problems, code="mapping")
    return source, reader


class _DryRun(Exception):
    """Raised at the end of a dry run to roll back everything it wrote."""


def history_import(
    *,
    shop: Shop,
    format: str,
    stream: BinaryIO,
    mapping: dict[str, str] | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import a file of ``format`` into the shop and return the report.

    Raises InvalidInput when the file cannot be read at all; a line that cannot be imported is
    a rejection in the report, with its line number and the reason, in the active language. A
    dry run does everything in one transaction and rolls it back: its report says exactly what
    the import would do.
    """
    source, reader = import_source_open(format=format, stream=stream, mapping=mapping)
    report = ImportReport(total_lines=source.count_lines())
    if progress:
        progress(report)
    context = ReadContext(currency=shop.currency, tz=shop.tzinfo, mapping=mapping or {})
    directory = CustomerDirectory(shop)
    batch: list = []

    def flush() -> None:
        if not batch:
            return
        if isinstance(batch[0], ImportedCustomer):
            result = customers_write(shop=shop, customers=batch, directory=directory)
        else:
            result = orders_write(shop=shop, orders=batch, directory=directory)
        report.orders_imported += result.imported
        report.customers_created += result.customers_created
        report.already_imported += result.already
        report.leave_out(result.left_out)
        batch.clear()
        report.processed_lines = min(source.processed_lines, report.total_lines)
        if progress:
            progress(report)

    outer = transaction.atomic() if dry_run else contextlib.nullcontext()
    with contextlib.suppress(_DryRun), outer:
        for record in reader.read(source, context):
            if isinstance(record, Rejection):
                report.reject(record)
                continue
            batch.append(record)
            if len(batch) >= WRITE_BATCH:
                flush()
        flush()
        if dry_run:
            raise _DryRun
    report.processed_lines = report.total_lines
    if not dry_run and report.orders_imported:
        stages_recompute(shop=shop)
        rfm_recompute(shop=shop)
    if progress:
        progress(report)
    return report


def max_upload_bytes() -> int:
    """Return the largest file the dashboard takes (setting ``KINFOLK_IMPORT_MAX_BYTES``)."""
    return getattr(settings, "KINFOLK_IMPORT_MAX_BYTES", MAX_UPLOAD_BYTES)


# --- runs --------------------------------------------------------------------------------------


def _mapping_clean(format: str, mapping: dict[str, str] | None) -> dict[str, str]:
    if format != Format.GENERIC:
        return {}
    return {
        key: value.strip()
        for key, value in (mapping or {}).items()
        if key in (*MAPPABLE_FIELDS, DATE_FORMAT) and value and value.strip()
    }


def import_run_create(
    *,
    shop: Shop,
    format: str,
    upload,
    mapping: dict[str, str] | None = None,
    created_by=None,
    language: str = "",
) -> ImportRun:
    """Check an uploaded file, store it and queue its import; return the waiting run.

    Raises InvalidInput, storing nothing, for a file that is too big, empty, not a CSV, without
    the columns of the chosen kind (the message names them) or without a line under its header.
    """
    size, limit = getattr(upload, "size", None), max_upload_bytes()
    if size is not None and size > limit:
        raise unreadable(
            _(
                "The file is %(size)s; files of up to %(limit)s can be imported here. Split it, "
                "or import it with the kinfolk import command."
            )
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )
    mapping = _mapping_clean(format, mapping)
    source, _reader = import_source_open(format=format, stream=upload, mapping=mapping)
    if not source.has_data():
        raise unreadable(_("The file has a header line but no lines under it to import."))
    upload.seek(0)
    with transaction.atomic():
        run = ImportRun(
            shop=shop,
            format=format,
            filename=(getattr(upload, "name", "") or "import.csv")[:255],
            mapping=mapping,
            created_at=clock.now(),
            created_by=created_by,
        )
        # An unguessable name: uploaded files may be served from the media folder.
        run.file.save(f"{secrets.token_hex(16)}.csv", upload, save=False)
        run.save()
        from kinfolk.crm.tasks import import_run_process

        run_id = run.pk
        transaction.on_commit(lambda: import_run_process(run_id, language))
    return run


@transaction.atomic
def import_run_start(
    *, shop: Shop, format: str, filename: str, mapping: dict[str, str] | None = None
) -> ImportRun:
    """Return a new run for a file imported from the command line (no stored copy)."""
    if format not in READERS:
        raise InvalidInput(_("Choose the kind of file."), field="format")
    return ImportRun.objects.create(
        shop=shop,
        format=format,
        filename=filename[:255],
        mapping=_mapping_clean(format, mapping),
        created_at=clock.now(),
    )


def import_run_execute(
    *,
    run: ImportRun,
    stream: BinaryIO | None = None,
    progress: Progress | None = None,
    language: str = "",
) -> ImportReport | None:
    """Import the run's file (or ``stream``), recording progress and the report on the run.

    Rejections are worded in ``language`` (the uploader's). The stored file is deleted when the
    run ends, done or failed: it holds personal data and the run keeps what it needs. Returns
    the report, or None when the file could not be read (the run says why).
    """
    run.status, run.started_at = ImportRun.Status.RUNNING, clock.now()
    run.save(update_fields=["status", "started_at"])

    def record(report: ImportReport) -> None:
        ImportRun.objects.filter(pk=run.pk).update(
            total_lines=report.total_lines, processed_lines=report.processed_lines
        )
        if progress:
            progress(report)

    report = None
    try:
        with translation.override(language or translation.get_language()):
            opened = stream is None
            if opened:
                run.file.open("rb")
            try:
                report = history_import(
                    shop=run.shop,
                    format=run.format,
                    stream=run.file if opened else stream,
                    mapping=run.mapping,
                    progress=record,
                )
            finally:
                if opened:
                    run.file.close()
            _run_finish(run, report)
    except InvalidInput as exc:
        _run_fail(run, exc.message)
    except Exception:
        _run_fail(run, _("The import stopped because of an unexpected error."))
        raise
    finally:
        if run.file:
            run.file.delete(save=False)
            ImportRun.objects.filter(pk=run.pk).update(file="")
    return report


def _run_finish(run: ImportRun, report: ImportReport) -> None:
    run.status, run.finished_at = ImportRun.Status.DONE, clock.now()
    run.total_lines, run.processed_lines = report.total_lines, report.processed_lines
    run.customers_created = report.customers_created
    run.orders_imported = report.orders_imported
    run.already_imported = report.already_imported
    # Left out first: they are few, and a page showing the first entries shows them all.
    run.rejected = report.kept_left_out() + report.kept_rejections()
    run.save()


def _run_fail(run: ImportRun, message: str) -> None:
    run.status, run.finished_at, run.error = ImportRun.Status.FAILED, clock.now(), message
    run.save(update_fields=["status", "finished_at", "error"])
