"""An import file as a stream of lines: encoding, delimiter, header and line numbers.

The file is never read whole: Python's csv module reads it line by line from a text stream over
the binary file (UTF-8, with or without a byte-order mark, or UTF-16 as Bandcamp's raw data
report comes). Line numbers are the file's physical lines, header = line 1, counted by the csv
reader itself so that a quoted cell spanning lines still names the line where its record starts.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from django.utils.translation import gettext as _

from kinfolk.core.errors import InvalidInput
from kinfolk.crm.imports.records import Rejection

SNIFF_BYTES = 64 * 1024
COUNT_CHUNK = 1 << 20
DELIMITERS = (",", ";", "\t")
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def unreadable(message: str) -> InvalidInput:
    """Return the error for a file that cannot be imported at all."""
    return InvalidInput(message, field="file", code="unreadable")


class _Borrowed(io.BufferedIOBase):
    """A binary stream lent to a text wrapper, which must not close it when it is done."""

    def __init__(self, raw: BinaryIO):
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._raw.read(-1 if size is None else size)

    read1 = read

    def close(self) -> None:
        """Leave the stream open: whoever opened it closes it."""


class Columns:
    """The header line: column names as written, looked up without regard to case or spaces."""

    def __init__(self, names: list[str]):
        self.names = [name.strip() for name in names]
        self._index: dict[str, int] = {}
        for position, name in enumerate(self.names):
            self._index.setdefault(name.lower(), position)
        # Lookups by the spelling asked for: a reader asks for the same few names per line.
        self._asked: dict[str, int | None] = {}

    def __contains__(self, name: str) -> bool:
        return name.strip().lower() in self._index

    def index(self, name: str) -> int | None:
        try:
            return self._asked[name]
        except KeyError:
            position = self._asked[name] = self._index.get(name.strip().lower())
            return position

    def first_of(self, *names: str) -> str:
        """Return the first of ``names`` the file has (older and newer spellings), or ""."""
        return next((name for name in names if name in self), "")

    def missing(self, required: list[str]) -> list[str]:
        return [name for name in required if name not in self]

    def __len__(self) -> int:
        return len(self.names)


class Row:
    """One record of the file: its first line number and its cells by column name."""

    __slots__ = ("columns", "line", "values")

    def __init__(self, line: int, values: list[str], columns: Columns):
        self.line = line
        self.values = values
        self.columns = columns

    def __getitem__(self, column: str) -> str:
        """Return the cell of ``column`` stripped, or "" when the file has no such column."""
        position = self.columns.index(column)
        if position is None or position >= len(self.values):
            return ""
        return self.values[position].strip()


class CsvSource:
    """A CSV file opened for import from a seekable binary stream, which it does not close."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        stream.seek(0)
        head = stream.read(SNIFF_BYTES)
        stream.seek(0)
        self.encoding = _encoding_of(head)
        first_line = _check_text(head, self.encoding)
        self.delimiter = _delimiter_of(first_line)
        self.columns = self._header()
        self.position = 1

    def _text(self) -> io.TextIOWrapper:
        self.stream.seek(0)
        return io.TextIOWrapper(_Borrowed(self.stream), encoding=self.encoding, newline="")

    def _reader(self, text: io.TextIOWrapper):
        return csv.reader(text, delimiter=self.delimiter)

    def _header(self) -> Columns:
        reader = self._reader(self._text())
        try:
            names = next(reader)
        except (StopIteration, csv.Error, UnicodeDecodeError):
            raise unreadable(_("The file has no header line.")) from None
        if not any(name.strip() for name in names):
            raise unreadable(_("The first line of the file should name the columns; it is empty."))
        return Columns(names)

    def count_lines(self) -> int:
        """Return how many physical lines follow the header (the progress bar's end)."""
        text = self._text()
        lines, last = 0, ""
        try:
            while chunk := text.read(COUNT_CHUNK):
                lines += chunk.count("\n")
                last = chunk[-1]
        except UnicodeDecodeError:
            pass  # the line-by-line read reports where the text breaks
        if last and last != "\n":
            lines += 1
        return max(lines - 1, 0)

    def has_data(self) -> bool:
        """Return whether anything but blank lines follows the header."""
        return next(iter(self.rows()), None) is not None

    def rows(self) -> Iterator[Row | Rejection]:
        """Yield each record after the header; blank lines are skipped.

        A record with more cells than the header has is rejected (a comma out of its quotes
        shifts every cell after it); one with fewer is read with the missing cells empty, as
        spreadsheets drop trailing empty cells. Text that stops being readable ends the file
        with one rejection naming the line.
        """
        reader = self._reader(self._text())
        next(reader, None)
        previous = reader.line_num
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                yield Rejection(previous + 1, _broken_reason(exc))
                return
            line, previous = previous + 1, reader.line_num
            self.position = previous
            if not any(value.strip() for value in values):
                continue
            if len(values) > len(self.columns):
                yield Rejection(
                    line,
                    _("This line has %(cells)d cells but the header names %(columns)d columns.")
                    % {"cells": len(values), "columns": len(self.columns)},
                )
                continue
            yield Row(line, values, self.columns)

    @property
    def processed_lines(self) -> int:
        """Return how many lines after the header have been read so far."""
        return max(self.position - 1, 0)


def _encoding_of(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def _check_text(head: bytes, encoding: str) -> str:
    """Return the file's first line; raise InvalidInput when the file is not CSV text."""
    if not head:
        raise unreadable(_("The file is empty."))
    if head.startswith(_WORKBOOK_MAGIC):
        raise unreadable(
            _(
                "This is a spreadsheet workbook, not a CSV file. Save it as “CSV UTF-8” "
                "(File › Save as) and upload that."
            )
        )
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        text = decoder.decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError:
        raise unreadable(
            _(
                "This is not a CSV file in UTF-8 text. Export it as CSV (UTF-8), or save it from "
                "your spreadsheet as “CSV UTF-8”, and try again."
            )
        ) from None
    if "\x00" in text:
        raise unreadable(_("This is not a CSV file: it contains binary data."))
    if not text.strip():
        raise unreadable(_("The file is empty."))
    return text.splitlines()[0] if text.splitlines() else ""


def _delimiter_of(first_line: str) -> str:
    """Return the delimiter of the header line: commas, or semicolons (European spreadsheets),
    or tabs, whichever it has most of."""
    counts = {delimiter: first_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _broken_reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return _("The file stops being UTF-8 text here; nothing from this line on was read.")
    return _(
        "The file cannot be read from this line on (%(error)s); nothing after it was read."
    ) % {"error": exc}
