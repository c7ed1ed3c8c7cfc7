"""``kinfolk clv fit``: fit BG/NBD and Gamma-Gamma to a CSV of transactions and print JSON.

    kinfolk clv fit --transactions orders.csv --customer-col email --date-col date \\
        --amount-col total [--calibration-end 2024-12-31] [--date-format %d/%m/%Y] [--unit week]

The file is read as a stream in chunks, so a file of millions of lines needs memory for its
columns, not for its text. Problems with the input (a missing column, an unreadable date or amount
on line N) print one line on standard error and exit with status 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from gettext import gettext as _
from pathlib import Path

import numpy as np

from kinfolk.clv.holdout import holdout_comparison
from kinfolk.clv.model import MIN_REPEAT_CUSTOMERS, ClvFit, fit
from kinfolk.clv.transactions import UNIT_DAYS, RfmSummary, summarize
from kinfolk.clv.value import score

CHUNK_ROWS = 100_000
EXIT_INPUT = 2
ISO_FORMATS = {"%Y-%m-%d", "iso"}


class InputProblem(Exception):
    """Something in the command line or the file that the user has to fix."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kinfolk clv",
        description=_("Predicted customer lifetime value (BG/NBD and Gamma-Gamma)."),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    fit_parser = commands.add_parser(
        "fit",
        help=_("fit both models to a CSV of transactions and print the parameters as JSON"),
        description=_(
            "Fit BG/NBD (purchases) and Gamma-Gamma (spend) by maximum likelihood to a CSV file "
            "with one line per purchase and a header line, and print the parameters, the "
            "log-likelihood and the customer counts as JSON."
        ),
    )
    fit_parser.add_argument("--transactions", required=True, type=Path, help=_("the CSV file"))
    fit_parser.add_argument("--customer-col", required=True, help=_("column of customer ids"))
    fit_parser.add_argument("--date-col", required=True, help=_("column of purchase dates"))
    fit_parser.add_argument("--amount-col", required=True, help=_("column of purchase values"))
    fit_parser.add_argument(
        "--calibration-end",
        help=_(
            "last day (YYYY-MM-DD) of the period the models are fitted on; later purchases "
            "form the holdout (default: the last purchase day, no holdout)"
        ),
    )
    fit_parser.add_argument(
        "--date-format",
        default="iso",
        help=_(
            "strptime format of the dates, e.g. %%d/%%m/%%Y (default: YYYY-MM-DD, optionally "
            "followed by a time, which is ignored)"
        ),
    )
    fit_parser.add_argument(
        "--unit", choices=sorted(UNIT_DAYS), default="week", help=_("time unit (default: week)")
    )
    fit_parser.add_argument(
        "--delimiter", default=",", help=_("field separator, one character; \\t for tab")
    )
    fit_parser.add_argument(
        "--min-repeat-customers",
        type=int,
        default=MIN_REPEAT_CUSTOMERS,
        help=_("fewest repeat buyers for a model fit (default: %(default)s)"),
    )
    fit_parser.add_argument(
        "--scores", type=Path, help=_("also write every customer's scores to this CSV file")
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kinfolk clv`` with ``argv`` and return the exit status."""
    try:
        options = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    except SystemExit as exc:  # argparse has printed the usage or the help
        return int(exc.code or 0)
    try:
        return _fit_command(options)
    except InputProblem as exc:
        print(f"kinfolk clv: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except (ArithmeticError, ValueError) as exc:
        print(_("kinfolk clv: the fit failed: %s") % exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - a command line answers in one line, not a traceback
        print(
            _("kinfolk clv: unexpected error: %(kind)s: %(reason)s")
            % {"kind": type(exc).__name__, "reason": exc},
            file=sys.stderr,
        )
        return 1


# --- reading ----------------------------------------------------------------------------------


def _day_parser(date_format: str):
    """Return a function turning one date text into ISO ``YYYY-MM-DD`` or None if unreadable."""
    if date_format in ISO_FORMATS:

        def iso(text: str) -> str | None:
            text = text.strip()
            shaped = len(text) >= 10 and text[4] == "-" and text[7] == "-"
            if shaped and (len(text) == 10 or text[10] in "T "):
                return text[:10]
            return None

        return iso
    if date_format == "%Y%m%d":

        def compact(text: str) -> str | None:
            text = text.strip()
            return (
                f"{text[:4]}-{text[4:6]}-{text[6:]}" if len(text) == 8 and text.isdigit() else None
            )

        return compact

    def general(text: str) -> str | None:
        try:
            return datetime.strptime(text.strip(), date_format).date().isoformat()
        except ValueError:
            return None

    return general


def _column_index(header: list[str], name: str, option: str) -> int:
    try:
        return header.index(name)
    except ValueError:
        columns = ", ".join(repr(column) for column in header)
        raise InputProblem(
            _("no column %(name)r (%(option)s) in the file; its columns are: %(columns)s")
            % {"name": name, "option": option, "columns": columns}
        ) from None


def _read_rows(path: Path, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputProblem(
            _("cannot open %(path)s: %(reason)s") % {"path": path, "reason": exc.strerror}
        ) from None
    with handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            for row in reader:
                if row:
                    yield reader.line_num, row
        except UnicodeDecodeError:
            raise InputProblem(
                _("line %(line)d: the file is not UTF-8 text") % {"line": reader.line_num + 1}
            ) from None
        except csv.Error as exc:
            raise InputProblem(
                _("line %(line)d: %(reason)s") % {"line": reader.line_num, "reason": exc}
            ) from None


def read_transactions(
    path: Path,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str,
    date_format: str = "iso",
    delimiter: str = ",",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Read a transactions CSV into customer codes, days and amounts, plus the id of each code."""
    rows = _read_rows(path, delimiter)
    try:
        header = next(rows)[1]
    except StopIteration:
        raise InputProblem(_("%(path)s is empty") % {"path": path}) from None
    header = [column.strip() for column in header]
    columns = (
        _column_index(header, customer_col, "--customer-col"),
        _column_index(header, date_col, "--date-col"),
        _column_index(header, amount_col, "--amount-col"),
    )
    needed = max(columns) + 1
    to_iso = _day_parser(date_format)
    code_of: dict[str, int] = {}
    code_parts, day_parts, amount_parts = [], [], []
    codes: list[int] = []
    days: list[str] = []
    amounts: list[float] = []

    def flush() -> None:
        code_parts.append(np.array(codes, dtype=np.int64))
        day_parts.append(np.array(days, dtype="datetime64[D]"))
        amount_parts.append(np.array(amounts, dtype=np.float64))
        codes.clear()
        days.clear()
        amounts.clear()

    for line, row in rows:
        if len(row) < needed:
            raise InputProblem(
                _("line %(line)d: %(found)d fields, the columns need %(needed)d")
                % {"line": line, "found": len(row), "needed": needed}
            )
        customer = row[columns[0]].strip()
        if not customer:
            raise InputProblem(_("line %(line)d: no customer id") % {"line": line})
        day = to_iso(row[columns[1]])
        if day is None or not _valid_day(day):
            raise InputProblem(
                _("line %(line)d: cannot read the date %(text)r (expected %(format)s)")
                % {
                    "line": line,
                    "text": row[columns[1]],
                    "format": "YYYY-MM-DD" if date_format in ISO_FORMATS else date_format,
                }
            )
        amount = _amount(row[columns[2]])
        if amount is None:
            raise InputProblem(
                _("line %(line)d: cannot read the amount %(text)r (expected a number like 12.50)")
                % {"line": line, "text": row[columns[2]]}
            )
        codes.append(code_of.setdefault(customer, len(code_of)))
        days.append(day)
        amounts.append(amount)
        if len(codes) >= CHUNK_ROWS:
            flush()
    flush()
    labels = list(code_of)
    return (
        np.concatenate(code_parts),
        np.concatenate(day_parts),
        np.concatenate(amount_parts),
        labels,
    )


def _valid_day(iso: str) -> bool:
    try:
        return not np.isnat(np.datetime64(iso, "D"))
    except ValueError:
        return False


def _amount(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# --- fitting and output ------------------------------------------------------------------------


def _fit_command(options: argparse.Namespace) -> int:
    delimiter = "\t" if options.delimiter in {"\\t", "tab"} else options.delimiter
    if len(delimiter) != 1:
        raise InputProblem(_("--delimiter must be one character"))
    calibration_end = None
    if options.calibration_end:
        calibration_end = _day_parser("iso")(options.calibration_end)
        if calibration_end is None or not _valid_day(calibration_end):
            raise InputProblem(
                _("--calibration-end %(text)r is not a date YYYY-MM-DD")
                % {"text": options.calibration_end}
            )
    codes, days, amounts, labels = read_transactions(
        options.transactions,
        customer_col=options.customer_col,
        date_col=options.date_col,
        amount_col=options.amount_col,
        date_format=options.date_format,
        delimiter=delimiter,
    )
    if len(codes) == 0:
        raise InputProblem(_("%(path)s has no transactions") % {"path": options.transactions})
    summary = summarize(codes, days, amounts, calibration_end=calibration_end, unit=options.unit)
    if len(summary) == 0:
        raise InputProblem(
            _("no customer bought on or before the calibration end %(day)s")
            % {"day": summary.calibration_end}
        )
    fitted = fit(summary, min_repeat_customers=options.min_repeat_customers)
    report = fit_report(fitted, summary, transactions=len(codes))
    if options.scores is not None:
        _write_scores(options.scores, fitted, summary, labels)
    print(json.dumps(report, indent=2))
    return 0


def fit_report(fitted: ClvFit, summary: RfmSummary, *, transactions: int) -> dict:
    """Return the JSON-ready figures of a fit."""
    report: dict = {
        "transactions": transactions,
        "customers": fitted.customers,
        "repeat_customers": fitted.repeat_customers,
        "excluded_customers": summary.excluded_customers,
        "unit": fitted.unit,
        "calibration_end": str(summary.calibration_end),
        "bgnbd": None,
        "gammagamma": None,
        "fallback": fitted.fallback,
        "fallback_detail": fitted.fallback_detail,
    }
    if fitted.bgnbd is not None:
        report["bgnbd"] = {**fitted.bgnbd.params.as_dict(), "loglik": fitted.bgnbd.loglik}
    if fitted.gammagamma is not None:
        report["gammagamma"] = {
            **fitted.gammagamma.params.as_dict(),
            "loglik": fitted.gammagamma.loglik,
            "customers": fitted.gammagamma.customers,
        }
    if fitted.fallback is not None:
        report["pooled"] = fitted.pooled.as_dict()
    if summary.holdout_duration > 0:
        comparison = holdout_comparison(fitted, summary)
        report["holdout"] = {
            "observation_end": str(summary.observation_end),
            "duration": comparison.duration,
            "actual_purchases": comparison.actual_total,
            "predicted_purchases": comparison.predicted_total,
        }
    return report


def _write_scores(path: Path, fitted: ClvFit, summary: RfmSummary, labels: list[str]) -> None:
    scores = score(fitted, summary)
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                [
                    "customer",
                    "frequency",
                    "recency",
                    "T",
                    "monetary_value",
                    "p_alive",
                    "purchases_90d",
                    "purchases_365d",
                    "expected_spend",
                    "clv",
                ]
            )
            columns = (
                summary.frequency,
                summary.recency,
                summary.T,
                summary.monetary_value,
                scores.p_alive,
                scores.purchases_90d,
                scores.purchases_365d,
                scores.expected_spend,
                scores.clv,
            )
            for code, *values in zip(summary.customer_ids, *columns, strict=True):
                writer.writerow([labels[code], *(f"{value:.6g}" for value in values)])
    except OSError as exc:
        raise InputProblem(
            _("cannot write %(path)s: %(reason)s") % {"path": path, "reason": exc.strerror}
        ) from None
