"""Shopify's orders export and customers export (Admin › Orders / Customers › Export › CSV).

Orders: one line per line item. An order of several items repeats its ``Name`` on each line, but
its own columns (Email, Financial Status, Created at, Total, ...) are filled on the first line
only; the lines after it add items. ``Id`` (Shopify's order id, unique across stores) is the key
of an imported order, its ``Name`` ("#1001", unique within one store only) when there is no Id.

What each financial status becomes on the timeline (every order is ``order_placed`` at its
``Created at``):

* ``paid``, ``partially_paid`` → ``order_paid`` at ``Paid at`` with the order's ``Total``;
* ``partially_refunded`` → ``order_paid`` with ``Total`` less ``Refunded Amount``, and
  ``order_refunded`` for the part refunded: what the fan kept paying for still counts;
* ``refunded`` → ``order_refunded`` and no ``order_paid``: the order counts as no purchase for
  stages and RFM (the export does not date the refund; its ``Cancelled at``, ``Paid at`` or
  ``Created at`` is used, the first given);
* ``voided`` → ``order_cancelled``; ``pending``, ``authorized``, ``expired`` → placed only, plus
  ``order_cancelled`` when ``Cancelled at`` is filled.

An export made after a refund brings it to the order imported before as paid: refunded in full,
the order stops counting as a purchase; in part, its ``order_paid`` counts what was kept (see
``writer``). An older export imported after a newer one takes no refund back.

Orders without an e-mail address (point-of-sale sales to nobody in particular) are rejected with
that reason: a customer is one address per shop, and there is nobody to give them to.

Customers: one line per customer. Name, e-mail, country (``Default Address Country Code``, older
exports ``Country Code``), tags, and "Accepts Email Marketing" (older: "Accepts Marketing"): a
"yes" is recorded as the person's consent (see ``writer.consent_import_grant``). "Total Spent"
and "Total Orders" are not turned into orders: they are sums without dates, and orders invented
from them would give every fan false purchase dates, which stages, RFM and predicted value all
read; import the orders export for the history itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext as _

from kinfolk.crm.imports.fields import (
    LineProblem,
    amount_of,
    country_of,
    currency_of,
    datetime_of,
    email_of,
    full_name,
    quantity_of,
    subject_id_of,
    yes,
)
from kinfolk.crm.imports.reading import ReadContext, Record, grouped
from kinfolk.crm.imports.records import ImportedCustomer, ImportedOrder, Item, Rejection
from kinfolk.crm.imports.source import Columns, CsvSource, Row

SHOPIFY_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M:%S")
SHOPIFY_DATE_EXAMPLE = "2024-03-05 14:22:10 -0800"
PAID = frozenset({"paid", "partially_paid", "partially_refunded"})
REFUNDED = frozenset({"refunded", "partially_refunded"})
UNPAID = frozenset({"pending", "authorized", "expired", "voided"})


class ShopifyOrders:
    """Reader of Shopify's orders export."""

    subject_type = "shopify_order"
    required = [
        "Name",
        "Email",
        "Financial Status",
        "Created at",
        "Currency",
        "Total",
        "Lineitem quantity",
        "Lineitem name",
    ]

    def missing_columns(self, columns: Columns) -> list[str]:
        return columns.missing(self.required)

    def read(self, source: CsvSource, context: ReadContext) -> Iterator[Record]:
        for run in grouped(source.rows(), key=lambda row: row["Name"]):
            if isinstance(run, Rejection):
                yield run
                continue
            try:
                yield self._order(run, context)
            except LineProblem as problem:
                yield Rejection(problem.line or run[0].line, problem.reason)

    def _order(self, lines: list[Row], context: ReadContext) -> ImportedOrder:
        first = lines[0]
        if not first["Name"]:
            raise LineProblem(_("The order has no number (column “Name” is empty)."))
        if not (first["Financial Status"] or first["Created at"] or first["Email"]):
            raise LineProblem(
                _(
                    "The order's own columns (Email, Financial Status, Created at, Total) are "
                    "empty on its first line; the file may have been sorted or cut."
                )
            )
        email = email_of(first["Email"])
        currency = currency_of(first["Currency"], shop_currency=context.currency)
        status = first["Financial Status"].lower()
        if status not in PAID | UNPAID | REFUNDED:
            raise LineProblem(
                _("Unknown financial status “%(status)s”.") % {"status": first["Financial Status"]}
            )
        placed_at = self._date(first, "Created at", context)
        paid_at = self._date(first, "Paid at", context, optional=True) or placed_at
        cancelled_at = self._date(first, "Cancelled at", context, optional=True)
        total = amount_of(first["Total"], currency=currency, column="Total")
        refunded = 0
        if status == "refunded":
            refunded = total
        elif status == "partially_refunded":
            refunded = min(
                amount_of(
                    first["Refunded Amount"],
                    currency=currency,
                    column="Refunded Amount",
                    required=False,
                ),
                total,
            )
        name = first["Name"]
        return ImportedOrder(
            line=first.line,
            subject_type=self.subject_type,
            subject_id=subject_id_of(first["Id"] or name),
            email=email,
            name=(first["Billing Name"] or first["Shipping Name"])[:150],
            country=country_of(first["Billing Country"] or first["Shipping Country"]),
            placed_at=placed_at,
            currency=currency,
            total=total,
            items=[self._item(line) for line in lines],
            paid_at=paid_at if status in PAID or status == "refunded" else None,
            refunded=refunded,
            refunded_at=(cancelled_at or paid_at) if refunded else None,
            cancelled_at=_cancelled(status, cancelled_at, placed_at),
            external={
                "source": "shopify",
                "name": name,
                "id": first["Id"],
                "financial_status": status,
                "fulfillment_status": first["Fulfillment Status"],
            },
        )

    @staticmethod
    def _date(row: Row, column: str, context: ReadContext, *, optional: bool = False):
        if optional and not row[column]:
            return None
        return datetime_of(
            row[column],
            column=column,
            formats=SHOPIFY_DATE_FORMATS,
            tz=context.tz,
            example=SHOPIFY_DATE_EXAMPLE,
        )

    @staticmethod
    def _item(row: Row) -> Item:
        try:
            quantity = quantity_of(row["Lineitem quantity"], column="Lineitem quantity")
        except LineProblem as problem:
            raise LineProblem(problem.reason, line=row.line) from None
        return Item(
            name=row["Lineitem name"][:200], quantity=quantity, sku=row["Lineitem sku"][:100]
        )


class ShopifyCustomers:
    """Reader of Shopify's customers export."""

    required = ["First Name", "Last Name", "Email"]

    def missing_columns(self, columns: Columns) -> list[str]:
        return columns.missing(self.required)

    def read(self, source: CsvSource, context: ReadContext) -> Iterator[Record]:
        columns = source.columns
        marketing = columns.first_of("Accepts Email Marketing", "Accepts Marketing")
        country = columns.first_of("Default Address Country Code", "Country Code")
        for row in source.rows():
            if isinstance(row, Rejection):
                yield row
                continue
            try:
                email = email_of(row["Email"])
            except LineProblem as problem:
                yield Rejection(row.line, problem.reason)
                continue
            yield ImportedCustomer(
                line=row.line,
                email=email,
                name=full_name(row["First Name"], row["Last Name"]),
                country=country_of(row[country]) if country else "",
                accepts_email_marketing=bool(marketing) and yes(row[marketing]),
                tags=tags_of(row["Tags"]),
            )


def _cancelled(status: str, cancelled_at, placed_at):
    """Return when an unpaid order was cancelled (voided: at once, if the export does not say)."""
    if status == "voided":
        return cancelled_at or placed_at
    return cancelled_at if status in UNPAID else None


def tags_of(value: str) -> list[str]:
    """Return Shopify's comma-separated tags, each trimmed, without blanks or repeats."""
    tags: dict[str, str] = {}
    for tag in value.split(","):
        tag = tag.strip()[:50]
        if tag:
            tags.setdefault(tag.lower(), tag)
    return list(tags.values())
