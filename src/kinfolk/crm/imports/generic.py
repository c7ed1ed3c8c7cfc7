"""Any CSV of purchases, with a mapping that says which column holds what.

Fields: ``email``, ``date`` and ``total`` are required; ``order_id``, ``name``, ``currency``,
``country``, ``item``, ``sku`` and ``quantity`` are optional. ``date_format`` (a strptime layout
such as ``%d/%m/%Y %H:%M``) reads the dates; without it they must be ISO 8601 ("2024-03-05",
"2024-03-05 14:22", "2024-03-05T14:22:10+09:00"). A date without an offset is a time in the
shop's time zone. Without a currency column, amounts are in the shop's currency.

Each line is one purchase, ``total`` its amount. With ``order_id`` mapped, lines next to each
other with the same id are one order whose total is the sum of its lines (map ``total`` to each
line's own amount, not to an order total repeated on every line). The key of an imported order
is its ``order_id``; without one, a digest of the line's e-mail, date, total and item, so that the
same line imported again adds nothing.

Refunds and cancellations (``STATUS_FIELDS``): ``status`` names the order's state in words the
reader knows in English and Korean (``STATUS_WORDS``: paid, refunded, partially refunded,
cancelled, pending; an empty cell is paid), read from the order's first line; ``refunded`` is the
amount refunded, per line like ``total`` (a minus sign or brackets are read as the same amount).
A refunded order counts as no purchase, a partly refunded one for what was kept, a cancelled or
pending one was never paid. A file exported again after a refund, with the same order ids,
brings the refund to the order imported before (``writer``). Without either column every line
is a paid purchase.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
from kinfolk.crm.imports.records import ImportedOrder, Item, Rejection
from kinfolk.crm.imports.source import Columns, CsvSource, Row

REQUIRED_FIELDS = ("email", "date", "total")
OPTIONAL_FIELDS = ("order_id", "name", "currency", "country", "item", "sku", "quantity")
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
# Optional too: what became of the order. Kept apart from FIELDS, which the dashboard's upload
# form lists with a label each; the command line and the import service take every field.
STATUS_FIELDS = ("status", "refunded")
MAPPABLE_FIELDS = FIELDS + STATUS_FIELDS
DATE_FORMAT = "date_format"

PAID, REFUNDED, PARTIALLY_REFUNDED, CANCELLED, UNPAID = (
    "paid",
    "refunded",
    "partially_refunded",
    "cancelled",
    "unpaid",
)
# The words of a status column, as ``_status_word`` spells them (lower-case, without spaces,
# hyphens or underscores): English and the Korean of Korean shops' exports.
STATUS_WORDS = {
    PAID: ("paid", "complete", "completed", "succeeded", "fulfilled", "shipped", "delivered")
    + ("결제완료", "배송중", "배송완료", "구매확정"),
    REFUNDED: ("refunded", "returned", "환불", "환불완료", "반품", "반품완료"),
    PARTIALLY_REFUNDED: ("partiallyrefunded", "partialrefund", "부분환불", "부분환불완료"),
    CANCELLED: ("cancelled", "canceled", "voided", "void", "취소", "취소완료", "주문취소"),
    UNPAID: (
        "pending",
        "unpaid",
        "authorized",
        "awaitingpayment",
        "입금대기",
        "입금전",
        "결제대기",
    ),
}
_STATUS_OF_WORD = {word: status for status, words in STATUS_WORDS.items() for word in words}
FIELD_LABELS = {
    "email": gettext_lazy("e-mail"),
    "date": gettext_lazy("date"),
    "total": gettext_lazy("amount"),
    "order_id": gettext_lazy("order number"),
    "name": gettext_lazy("name"),
    "currency": gettext_lazy("currency"),
    "country": gettext_lazy("country"),
    "item": gettext_lazy("item"),
    "sku": gettext_lazy("SKU"),
    "quantity": gettext_lazy("quantity"),
    "status": gettext_lazy("order status"),
    "refunded": gettext_lazy("amount refunded"),
}


def _status_word(value: str) -> str:
    return "".join(value.lower().split()).replace("-", "").replace("_", "")


def status_of(value: str) -> str:
    """Return what a status cell says (``PAID`` for an empty one); raise LineProblem for a
    word the reader does not know."""
    if not value.strip():
        return PAID
    try:
        return _STATUS_OF_WORD[_status_word(value)]
    except KeyError:
        raise LineProblem(
            _(
                "Unknown order status “%(status)s”; the statuses understood are paid, refunded, "
                "partially refunded, cancelled and pending."
            )
            % {"status": value.strip()}
        ) from None


def _unsigned(value: str) -> str:
    """Return an amount without its sign: refunds are often written "-5.00" or "(5.00)"."""
    return value.strip().strip("()").lstrip("-").strip()


def mapping_problems(mapping: dict[str, str], columns: Columns) -> dict[str, str]:
    """Return, per field, what is wrong with the mapping for a file with ``columns``."""
    problems = {}
    for field in REQUIRED_FIELDS:
        if not mapping.get(field, "").strip():
            problems[field] = _("Name the column that holds the %(field)s.") % {
                "field": FIELD_LABELS[field]
            }
    for field in MAPPABLE_FIELDS:
        column = mapping.get(field, "").strip()
        if column and column not in columns:
            problems[field] = _("The file has no column “%(column)s”.") % {"column": column}
    return problems


class Generic:
    """Reader of a CSV with a column mapping."""

    subject_type = "import_order"

    def missing_columns(self, columns: Columns) -> list[str]:
        return []  # checked per field by ``mapping_problems``

    def read(self, source: CsvSource, context: ReadContext) -> Iterator[Record]:
        mapping = {field: context.mapping.get(field, "").strip() for field in MAPPABLE_FIELDS}
        order_column = mapping["order_id"]
        for run in grouped(
            source.rows(), key=lambda row: row[order_column] if order_column else ""
        ):
            if not isinstance(run, list):
                yield run
                continue
            try:
                yield self._order(run, mapping, context)
            except LineProblem as problem:
                yield Rejection(problem.line or run[0].line, problem.reason)

    def _order(
        self, rows: list[Row], mapping: dict[str, str], context: ReadContext
    ) -> ImportedOrder:
        first = rows[0]

        def cell(row: Row, field: str) -> str:
            return row[mapping[field]] if mapping[field] else ""

        email = email_of(cell(first, "email"))
        currency = context.currency
        if mapping["currency"]:
            currency = currency_of(cell(first, "currency"), shop_currency=context.currency)
        date_format = context.mapping.get(DATE_FORMAT, "").strip()
        placed_at = datetime_of(
            cell(first, "date"),
            column=mapping["date"],
            formats=[date_format] if date_format else [],
            iso=not date_format,
            tz=context.tz,
            example=date_format or "2024-03-05 14:22",
        )
        status = status_of(cell(first, "status"))
        total = refunded = 0
        items = []
        for row in rows:
            try:
                total += amount_of(cell(row, "total"), currency=currency, column=mapping["total"])
                refunded += amount_of(
                    _unsigned(cell(row, "refunded")),
                    currency=currency,
                    column=mapping["refunded"],
                    required=False,
                )
                if cell(row, "item") or cell(row, "sku"):
                    items.append(
                        Item(
                            name=cell(row, "item")[:200],
                            quantity=quantity_of(cell(row, "quantity"), column=mapping["quantity"]),
                            sku=cell(row, "sku")[:100],
                        )
                    )
            except LineProblem as problem:
                raise LineProblem(problem.reason, line=row.line) from None
        order_id = cell(first, "order_id")
        if status == REFUNDED:
            refunded = total
        elif status not in (PAID, PARTIALLY_REFUNDED):
            refunded = 0  # never paid: nothing to refund
        paid = status in (PAID, REFUNDED, PARTIALLY_REFUNDED)
        return ImportedOrder(
            line=first.line,
            subject_type=self.subject_type,
            subject_id=subject_id_of(order_id)
            if order_id
            else stable_id(email, cell(first, "date"), cell(first, "total"), cell(first, "item")),
            email=email,
            name=cell(first, "name")[:150],
            country=country_of(cell(first, "country")),
            placed_at=placed_at,
            currency=currency,
            total=total,
            items=items,
            paid_at=placed_at if paid else None,
            refunded=min(refunded, total),
            cancelled_at=placed_at if status == CANCELLED else None,
            external={"source": "csv", "order_id": order_id, "status": status},
        )
