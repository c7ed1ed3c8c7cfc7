"""``kinfolk import``: bring a shop's history in from a file.

    kinfolk import --shop SLUG --format shopify-orders|shopify-customers|bandcamp|generic FILE
        [--map email=Email --map date=Created --map total=Amount ...] [--date-format %d/%m/%Y]
        [--dry-run]

A progress bar on standard error, then a report on standard output: what was imported, what was
there already, every line left out at the person's request (their data was erased from the shop)
and every rejected line, each with its number and the reason. The exit status is 0
whenever the file could be read, rejected lines or not; 2 when it cannot be read at all (missing,
not a CSV, without the columns of its kind) or the command line is wrong.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_UNREADABLE = 2
FORMATS = {
    "shopify-orders": "shopify_orders",
    "shopify-customers": "shopify_customers",
    "bandcamp": "bandcamp",
    "generic": "generic",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kinfolk import",
        description=(
            "Import a shop's history: a Shopify orders or customers export, a Bandcamp sales "
            "report, or any CSV of purchases with a column mapping. Importing the same file again "
            "adds nothing twice."
        ),
    )
    parser.add_argument("--shop", required=True, help="the shop's address (slug)")
    parser.add_argument("--format", required=True, choices=sorted(FORMATS), help="kind of file")
    parser.add_argument("file", type=Path, help="the CSV file")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help=(
            "generic CSV: which column holds a field; fields: email, date, total (required), "
            "order_id, name, currency, country, item, sku, quantity, status (paid, refunded, "
            "partially refunded, cancelled, pending), refunded (the amount refunded)"
        ),
    )
    parser.add_argument(
        "--date-format",
        default="",
        help="generic CSV: strptime layout of the dates, e.g. %%d/%%m/%%Y (default: ISO 8601)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="read and check everything, write nothing"
    )
    return parser


def _mapping(options: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, str]:
    from kinfolk.crm.imports.generic import DATE_FORMAT, MAPPABLE_FIELDS

    mapping = {}
    for entry in options.map:
        field, sep, column = entry.partition("=")
        if not sep or field.strip() not in MAPPABLE_FIELDS or not column.strip():
            parser.error(
                f"--map {entry!r}: expected FIELD=COLUMN with FIELD one of "
                f"{', '.join(MAPPABLE_FIELDS)}"
            )
        mapping[field.strip()] = column.strip()
    if options.date_format:
        mapping[DATE_FORMAT] = options.date_format
    if (mapping and options.format != "generic") or (options.format == "generic" and not mapping):
        parser.error("--map and --date-format go with --format generic, which needs them")
    return mapping


def _language() -> str:
    """Return the language of the terminal (LANG=ko_KR.UTF-8 → "ko") if the site has it."""
    from django.conf import settings
    from django.utils.translation import to_language

    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").split(".")[0]
        if value and value not in {"C", "POSIX"}:
            language = to_language(value)
            codes = {code for code, _name in settings.LANGUAGES}
            for candidate in (language, language.split("-")[0]):
                if candidate in codes:
                    return candidate
    return settings.LANGUAGE_CODE


def main(argv: Sequence[str]) -> int:
    """Run the command with ``argv`` (after ``import``) and return the exit status."""
    import django

    parser = _parser()
    options = parser.parse_args(list(argv))
    django.setup()
    from django.utils import translation

    from kinfolk.core.errors import InvalidInput
    from kinfolk.shops.models import Shop

    mapping = _mapping(options, parser)
    shop = Shop.objects.filter(slug=options.shop).first()
    if shop is None:
        parser.error(f"no shop with the address {options.shop!r}")
    if not options.file.is_file():
        print(f"kinfolk import: {options.file}: no such file", file=sys.stderr)
        return EXIT_UNREADABLE
    with translation.override(_language()):
        try:
            report = _run(shop, FORMATS[options.format], options, mapping)
        except InvalidInput as exc:
            messages = exc.errors.values() if exc.errors else [exc.message]
            for message in messages:
                print(f"kinfolk import: {options.file}: {message}", file=sys.stderr)
            return EXIT_UNREADABLE
        print(report_text(report, dry_run=options.dry_run))
    return 0


def _run(shop, format: str, options: argparse.Namespace, mapping: dict[str, str]):
    """Import the file with a progress bar; return the report (raise InvalidInput if unreadable)."""
    from tqdm import tqdm

    from kinfolk.crm.imports.service import history_import, import_run_execute, import_run_start

    # disable=None: drawn on a terminal only, not into a log file.
    bar = tqdm(
        total=0, unit=" lines", file=sys.stderr, dynamic_ncols=True, leave=False, disable=None
    )

    def progress(report) -> None:
        bar.total = report.total_lines
        bar.update(report.processed_lines - bar.n)

    try:
        with options.file.open("rb") as stream:
            if options.dry_run:
                return history_import(
                    shop=shop,
                    format=format,
                    stream=stream,
                    mapping=mapping,
                    progress=progress,
                    dry_run=True,
                )
            run = import_run_start(
                shop=shop, format=format, filename=options.file.name, mapping=mapping
            )
            report = import_run_execute(run=run, stream=stream, progress=progress)
            if report is None:
                from kinfolk.core.errors import InvalidInput

                run.refresh_from_db()
                raise InvalidInput(run.error, field="file")
            return report
    finally:
        bar.close()


def report_text(report, *, dry_run: bool = False) -> str:
    """Return the final report as the command prints it."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    lines = []
    if dry_run:
        lines.append(_("Dry run: nothing was written. The import would give:"))
    lines += [
        ngettext(
            "Imported: %(count)s record.", "Imported: %(count)s records.", report.orders_imported
        )
        % {"count": report.orders_imported},
        ngettext("New customers: %(count)s.", "New customers: %(count)s.", report.customers_created)
        % {"count": report.customers_created},
        ngettext("Already there: %(count)s.", "Already there: %(count)s.", report.already_imported)
        % {"count": report.already_imported},
        ngettext("Rejected: %(count)s line.", "Rejected: %(count)s lines.", report.rejected_count)
        % {"count": report.rejected_count},
    ]
    if report.left_out_count:
        lines.append(
            ngettext(
                "Left out at the person's request: %(count)s line.",
                "Left out at the person's request: %(count)s lines.",
                report.left_out_count,
            )
            % {"count": report.left_out_count}
        )
    for entry in [*report.kept_left_out(), *report.kept_rejections()]:
        if entry["line"] is None:
            lines.append(f"  {entry['reason']}")
        else:
            lines.append(
                "  "
                + _("line %(line)s: %(reason)s")
                % {"line": entry["line"], "reason": entry["reason"]}
            )
    return "\n".join(lines)
