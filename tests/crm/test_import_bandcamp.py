"""A Bandcamp sales report becomes the fans' purchases: a cart is one order, a refund in the
report undoes its sale, payouts are no fan's purchase, and the report reads the same in UTF-8
and in UTF-16."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from kinfolk.crm.models import Customer, CustomerScore, Interaction
from tests.crm.import_files import FILES, import_file, interactions, rejected

pytestmark = pytest.mark.django_db
Kind = Interaction.Kind
REPORT = "bandcamp_sales.csv"


@pytest.fixture
def usd_shop(make_shop):
    return make_shop("moonlit", currency="USD", time_zone="Asia/Seoul", country="KR")


def _sale(shop, transaction_id: str) -> dict[str, dict]:
    return interactions(shop, transaction_id, subject_type="bandcamp_sale")


def test_two_items_bought_together_are_one_order(usd_shop):
    """Given an album and a vinyl LP on two lines of one transaction, then they are one paid
    order with both items and the sum of both lines."""
    import_file(usd_shop, REPORT, "bandcamp")
    paid = _sale(usd_shop, "4027000002")[Kind.ORDER_PAID]
    assert paid["total"] == 4000
    assert [(item["name"], item["sku"]) for item in paid["items"]] == [
        ("Night Swims", ""),
        ("Night Swims - Vinyl LP", "LP-NS"),
    ]


def test_the_dates_are_read_as_bandcamp_writes_them_in_utc(usd_shop):
    """Given "2/14/24 3:04pm", then the order was placed on 14 February 2024 at 15:04 UTC."""
    import_file(usd_shop, REPORT, "bandcamp")
    placed = Interaction.objects.get(subject_id="4027000002", kind=Kind.ORDER_PLACED)
    assert placed.occurred_at == dt.datetime(2024, 2, 14, 15, 4, tzinfo=dt.UTC)


def test_a_refund_in_the_report_undoes_its_sale(usd_shop):
    """Given Grace's track sale and its refund line, then the sale is placed and refunded, not
    paid, and Grace has no purchase to score."""
    report = import_file(usd_shop, REPORT, "bandcamp")
    assert set(_sale(usd_shop, "4027000003")) == {Kind.ORDER_PLACED, Kind.ORDER_REFUNDED}
    assert not Interaction.objects.filter(subject_type="bandcamp_refund").exists()
    assert not CustomerScore.objects.filter(customer__email="grace@example.com").exists()
    assert 7 not in rejected(report)


def test_malformed_lines_are_rejected_and_payouts_skipped(usd_shop):
    """Given a bad date, a bad amount, no e-mail and another currency, then those four lines
    are rejected with their numbers; the payout line is no fan's purchase and no rejection."""
    report = import_file(usd_shop, REPORT, "bandcamp")
    reasons = rejected(report)
    assert set(reasons) == {8, 9, 10, 11}
    assert "32/13/24 3:04pm" in reasons[8] and "1/3/26 10:12am" in reasons[8]
    assert "nine" in reasons[9]
    assert "No e-mail address" in reasons[10]
    assert "EUR" in reasons[11]
    assert report.orders_imported == 4  # Ada twice, 김민지's cart, Grace's refunded track


def test_buyers_are_customers_with_their_name_and_country(usd_shop):
    """Given 김민지 buying from South Korea, then she is a customer named so, in KR."""
    import_file(usd_shop, REPORT, "bandcamp")
    minji = Customer.objects.get(shop=usd_shop, email="minji@example.kr")
    assert (minji.name, minji.country) == ("김민지", "KR")
    ada = CustomerScore.objects.get(customer__email="ada@example.com")
    assert (ada.frequency, ada.monetary) == (2, 1200)


def test_the_same_report_in_utf_16_imports_the_same(usd_shop, make_shop):
    """Given the report saved as UTF-16 (as Bandcamp's raw data report comes), then it gives
    the same orders and rejections."""
    utf8 = import_file(usd_shop, REPORT, "bandcamp")
    other = make_shop("moonlit-16", currency="USD")
    content = (FILES / REPORT).read_text("utf-8").encode("utf-16")
    utf16 = import_file(other, "", "bandcamp", content=content)
    assert (utf16.orders_imported, rejected(utf16)) == (utf8.orders_imported, rejected(utf8))


def _without_transaction_ids() -> bytes:
    rows = list(csv.reader(io.StringIO((FILES / REPORT).read_text("utf-8"))))
    position = rows[0].index("bandcamp transaction id")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        [row[:position] + row[position + 1 :] for row in rows]
    )
    return out.getvalue().encode()


def test_a_report_without_transaction_ids_keys_each_line_by_its_own_fields(usd_shop):
    """Given a report without the transaction id column, then each sale line is an order keyed
    by a digest of its date, buyer, item and amount, and importing it twice adds nothing."""
    content = _without_transaction_ids()
    first = import_file(usd_shop, "", "bandcamp", content=content)
    assert first.orders_imported == 5  # 김민지's two lines are two orders now
    keys = set(
        Interaction.objects.filter(subject_type="bandcamp_sale").values_list(
            "subject_id", flat=True
        )
    )
    assert all(len(key) == 32 for key in keys)
    again = import_file(usd_shop, "", "bandcamp", content=content)
    assert (again.orders_imported, again.already_imported) == (0, 5)
