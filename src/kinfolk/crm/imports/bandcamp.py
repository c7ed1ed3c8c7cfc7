"""Bandcamp's sales report (Tools › sales report, or the raw data report), one line per item sold.

The columns used: ``date`` (UTC, written "1/3/26 10:12am"), ``item type`` (album, track,
package, bundle; payout, refund, reversal, ...), ``item name``, ``currency``, ``item total``
(what the fan paid for the line: price times quantity, their extra contribution, tax and
shipping), ``quantity``, ``sku``, ``buyer name``, ``buyer email``, ``country code`` (or ``ship to
country code``) and ``bandcamp transaction id``. The report comes in UTF-8 or UTF-16.

One purchase of several items is several lines with the same ``bandcamp transaction id``: lines
of one transaction next to each other are one order, keyed by that id. A report without the
column (an older or edited one) gives each line an order of its own, keyed by a digest of the
line's date, buyer e-mail, item name and item total: the same line gives the same key in every
report, so importing overlapping reports adds nothing twice, while two identical purchases by the
same fan in the same minute would count once.

Payouts and other lines that are not a fan's purchase are skipped without a word. A ``refund``
or ``reversal`` line is matched to a sale in the same file by buyer, item name and amount: that
sale is imported as refunded (no ``order_paid``, or a smaller one when only part of a cart went
back). A refund whose sale is not in the file (an earlier report) is added to that sale when the
report names it: the sales report of Bandcamp's API (version 4) gives each refund the
transaction it reverses (``bandcamp related transaction id``). The sale imported before then
counts as refunded, in full or for the part that went back, as if both had been in one report.
Each refund line is known by its own transaction id (or a digest of the line), so that a refund
met in two overlapping reports counts once. A refund whose report does not name its sale is
recorded on the fan's timeline as ``order_refunded`` of its own, and the sale imported before
keeps counting: nothing links the two.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from kinfolk.crm.imports.fields import (
    LineProblem,
    amount_of,
    country_of,
    currency_of,
    datetime_of,
    email_of,
    quantity_of,
    stable_id,
    subject_id_of,
)
from kinfolk.crm.imports.reading import ReadContext, Record, grouped
from kinfolk.crm.imports.records import ImportedOrder, ImportedRefund, Item, Rejection
from kinfolk.crm.imports.source import Columns, CsvSource, Row

BANDCAMP_DATE_FORMATS = (
    "%m/%d/%y %I:%M%p",
    "%m/%d/%Y %I:%M%p",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d %b %Y %H:%M:%S %Z",
)
BANDCAMP_DATE_EXAMPLE = "1/3/26 10:12am"
SALES = frozenset({"album", "track", "package", "bundle"})
REFUNDS = frozenset({"refund", "reversal"})
# Not a fan's purchase: money moving between Bandcamp and the artist, or a reversal undone.
SKIPPED = frozenset({"payout", "pending reversal", "cancelled reversal", "canceled reversal"})
TRANSACTION = "bandcamp transaction id"
# The sale a refund reverses (the API's ``bandcamp_related_transaction_id``).
RELATED_TRANSACTION = "bandcamp related transaction id"


class _RefundMatches:
    """Which sales of the file were refunded, and which refund lines they account for.

    Counted before the import (a first pass over the file), so that the outcome does not depend
    on whether the report lists a refund before or after its sale.
    """

    def __init__(self) -> None:
        self.pairs: Counter[int] = Counter()
        # Per key, the date and ``_part_id`` of each refund line, in file order.
        self.refunds: dict[int, list[tuple[str, str]]] = defaultdict(list)
        self._sales_used: Counter[int] = Counter()
        self._refunds_used: Counter[int] = Counter()

    @classmethod
    def of(cls, source: CsvSource) -> _RefundMatches:
        refunds: dict[int, list[tuple[str, str]]] = defaultdict(list)
        sales: Counter[int] = Counter()
        for row in source.rows():
            if not isinstance(row, Row):
                continue
            kind = row["item type"].lower()
            if kind in REFUNDS:
                refunds[_key(row)].append((row["date"], _part_id(row)))
            elif kind in SALES:
                sales[_key(row)] += 1
        matches = cls()
        for key, found in refunds.items():
            if sales[key]:
                matches.pairs[key] = min(len(found), sales[key])
                matches.refunds[key] = found
        return matches

    def sale_refunded(self, row: Row) -> tuple[str, str] | None:
        """Return the date and ``_part_id`` of the refund line that reverses this sale line, or
        None."""
        key = _key(row)
        used = self._sales_used[key]
        if used >= self.pairs[key]:
            return None
        self._sales_used[key] += 1
        return self.refunds[key][used]

    def refund_accounted(self, row: Row) -> bool:
        """Return whether this refund line reverses a sale of the file."""
        key = _key(row)
        if self._refunds_used[key] >= self.pairs[key]:
            return False
        self._refunds_used[key] += 1
        return True


def _key(row: Row) -> int:
    """Return the key that pairs a refund with its sale: buyer, item and amount (hashed, so that
    a report of a million sales needs a number per sale, not its text)."""
    return hash((row["buyer email"].strip().lower(), row["item name"].lower(), _magnitude(row)))


def _magnitude(row: Row) -> str:
    """Return the line's amount without sign ("-13.00", "(13.00)" and "13" are one amount)."""
    text = row["item total"].strip().strip("()").replace(",", "").lstrip("-")
    try:
        return str(Decimal(text).normalize())
    except InvalidOperation:
        return text


class Bandcamp:
    """Reader of Bandcamp's sales report."""

    subject_type = "bandcamp_sale"
    refund_subject_type = "bandcamp_refund"
    required = ["date", "item type", "item name", "currency", "item total", "buyer email"]

    def missing_columns(self, columns: Columns) -> list[str]:
        return columns.missing(self.required)

    def read(self, source: CsvSource, context: ReadContext) -> Iterator[Record]:
        matches = _RefundMatches.of(source)
        keyed = TRANSACTION in source.columns
        for run in grouped(
            self._sorted_out(source, context, matches),
            key=lambda row: row[TRANSACTION] if keyed else "",
        ):
            if not isinstance(run, list):
                yield run
                continue
            try:
                yield self._order(run, context, matches)
            except LineProblem as problem:
                yield Rejection(problem.line or run[0].line, problem.reason)

    def _sorted_out(
        self, source: CsvSource, context: ReadContext, matches: _RefundMatches
    ) -> Iterator[Row | Record]:
        """Yield sale lines as they are, refunds read already, and rejections; skip the rest."""
        for row in source.rows():
            if not isinstance(row, Row):
                yield row
                continue
            kind = row["item type"].lower()
            if kind in SALES:
                yield row
            elif kind in REFUNDS:
                if not matches.refund_accounted(row):
                    try:
                        yield self._refund(row, context)
                    except LineProblem as problem:
                        yield Rejection(row.line, problem.reason)
            elif kind not in SKIPPED:
                yield Rejection(
                    row.line,
                    _("Unknown item type “%(kind)s”.") % {"kind": row["item type"]},
                )

    def _order(self, rows: list[Row], context: ReadContext, matches) -> ImportedOrder:
        first = rows[0]
        email = email_of(first["buyer email"])
        currency = currency_of(first["currency"], shop_currency=context.currency)
        placed_at = _date(first["date"], context)
        total = refunded = 0
        refund_dates: list[dt.datetime] = []
        refund_parts: dict[str, int] = {}
        items = []
        for row in rows:
            try:
                amount = amount_of(row["item total"], currency=currency, column="item total")
                items.append(
                    Item(
                        name=row["item name"][:200],
                        quantity=quantity_of(row["quantity"], column="quantity"),
                        sku=row["sku"][:100],
                    )
                )
                refund = matches.sale_refunded(row)
                if refund:
                    refund_dates.append(_date(refund[0], context))
            except LineProblem as problem:
                raise LineProblem(problem.reason, line=row.line) from None
            total += amount
            if refund:
                refunded += amount
                refund_parts[refund[1]] = refund_parts.get(refund[1], 0) + amount
        transaction_id = first[TRANSACTION]
        return ImportedOrder(
            line=first.line,
            subject_type=self.subject_type,
            subject_id=subject_id_of(transaction_id) if transaction_id else _digest(first),
            email=email,
            name=first["buyer name"][:150],
            country=country_of(first["country code"] or first["ship to country code"]),
            placed_at=placed_at,
            currency=currency,
            total=total,
            items=items,
            paid_at=placed_at,
            refunded=refunded,
            refunded_at=max(refund_dates) if refund_dates else None,
            refund_parts=refund_parts,
            external={
                "source": "bandcamp",
                "transaction_id": transaction_id,
                "item_types": sorted({row["item type"].lower() for row in rows}),
            },
        )

    def _refund(self, row: Row, context: ReadContext) -> ImportedRefund:
        """Return a refund line whose sale is not in the file: added to that sale when the
        line names it, a refund of its own otherwise."""
        currency = currency_of(row["currency"], shop_currency=context.currency)
        magnitude = _magnitude(row)
        related, transaction_id = row[RELATED_TRANSACTION], row[TRANSACTION]
        if related:
            subject_type, subject_id, part = (
                self.subject_type,
                subject_id_of(related),
                _part_id(row),
            )
        else:
            subject_type, part = self.refund_subject_type, ""
            subject_id = subject_id_of(transaction_id) if transaction_id else _digest(row)
        return ImportedRefund(
            line=row.line,
            subject_type=subject_type,
            subject_id=subject_id,
            email=email_of(row["buyer email"]),
            name=row["buyer name"][:150],
            refunded_at=_date(row["date"], context),
            currency=currency,
            amount=amount_of(magnitude, currency=currency, column="item total"),
            external={"source": "bandcamp", "item_name": row["item name"][:200]},
            part=part,
        )


def _date(value: str, context: ReadContext) -> dt.datetime:
    return datetime_of(
        value,
        column="date",
        formats=BANDCAMP_DATE_FORMATS,
        tz=dt.UTC,  # the report's times are UTC
        example=BANDCAMP_DATE_EXAMPLE,
    )


def _part_id(row: Row) -> str:
    """Return the key of one refund line among an order's refunds: the same line gives the same
    key in every report, and the lines of one refund transaction (a cart sent back) differ."""
    return stable_id(
        row[TRANSACTION], row["date"], row["buyer email"].lower(), row["item name"], _magnitude(row)
    )


def _digest(row: Row) -> str:
    """Return the key of a line without a transaction id: date, buyer, item and amount."""
    return stable_id(row["date"], row["buyer email"].lower(), row["item name"], row["item total"])
