"""What every reader of an import file shares: its context and the grouping of an order's lines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from django.utils.translation import gettext as _

from kinfolk.crm.imports.records import (
    ImportedCustomer,
    ImportedOrder,
    ImportedRefund,
    Rejection,
)
from kinfolk.crm.imports.source import Columns, CsvSource, Row

Record = ImportedOrder | ImportedRefund | ImportedCustomer | Rejection


@dataclass(frozen=True)
class ReadContext:
    """What a reader needs to know about the shop and the user's choices."""

    currency: str
    tz: dt.tzinfo
    # Generic CSV: field → column name, and "date_format" → a strptime layout.
    mapping: dict[str, str] = field(default_factory=dict)


class Reader(Protocol):
    """Turns the lines of one kind of file into orders or customers, and rejected lines."""

    def missing_columns(self, columns: Columns) -> list[str]:
        """Return the required columns the file lacks (empty when it fits)."""

    def read(self, source: CsvSource, context: ReadContext) -> Iterator[Record]:
        """Yield what the file's lines hold, in file order."""


def grouped(
    rows: Iterable[Row | Record], key: Callable[[Row], str]
) -> Iterator[list[Row] | Record]:
    """Yield runs of adjacent rows with the same non-empty ``key`` (the lines of one order).

    A row with an empty key is a run of its own; records that are not rows (rejections, refunds
    read already) pass through as they come. Exports write an order's lines one after the
    other; an order whose lines come back after another order's is rejected at those lines
    rather than imported twice over (its second part would collide with the first).
    """
    seen: set[int] = set()
    run: list[Row] = []
    run_key = ""
    for row in rows:
        if not isinstance(row, Row):
            yield row
            continue
        row_key = key(row)
        if run and row_key and row_key == run_key:
            run.append(row)
            continue
        if run:
            yield run
        run, run_key = [row], row_key
        if row_key:
            marker = hash(row_key)
            if marker in seen:
                yield Rejection(
                    row.line,
                    _(
                        "The lines of “%(key)s” are not next to each other in the file; this one "
                        "was not imported. Sort the file by order and import it again."
                    )
                    % {"key": row_key},
                )
                run, run_key = [], ""
                continue
            seen.add(marker)
    if run:
        yield run
