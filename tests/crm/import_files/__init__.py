"""Import files in the real layouts of Shopify, Bandcamp and a generic CSV, with malformed lines,
and how the tests import them (at a fixed moment)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from kinfolk.core import clock
from kinfolk.crm.imports.service import history_import
from kinfolk.crm.models import Interaction

FILES = Path(__file__).parent
# The test files' orders run from January to May 2024; stages and RFM are judged on this day.
IMPORTED_ON = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
# The column mapping of ``generic.csv`` (and of the tests' own CSVs in its layout).
GENERIC_MAPPING = {
    "order_id": "Order",
    "email": "Customer e-mail",
    "name": "Customer",
    "date": "Ordered on",
    "total": "Amount",
    "item": "Product",
    "quantity": "Qty",
    "date_format": "%d/%m/%Y %H:%M",
}


def import_file(shop, name: str, format: str, *, content: bytes | None = None, **options):
    """Import ``import_files/<name>`` (or ``content``) into ``shop`` on IMPORTED_ON."""
    data = content if content is not None else (FILES / name).read_bytes()
    with clock.frozen(IMPORTED_ON):
        return history_import(shop=shop, format=format, stream=io.BytesIO(data), **options)


def rejected(report) -> dict[int, str]:
    """Return the report's rejected lines as {line: reason}."""
    return {entry["line"]: entry["reason"] for entry in report.kept_rejections()}


def interactions(shop, subject_id: str, subject_type: str = "shopify_order") -> dict[str, dict]:
    """Return the imported interactions of one order as {kind: data}."""
    return {
        kind: data
        for kind, data in Interaction.objects.filter(
            shop=shop, subject_type=subject_type, subject_id=subject_id
        ).values_list("kind", "data")
    }
