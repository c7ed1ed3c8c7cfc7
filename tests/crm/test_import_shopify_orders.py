"""A Shopify orders export, in its real layout, becomes each fan's order history: one order per
order however many lines it spans, refunds that count as no purchase, every malformed line
rejected by its line number, and a second import that adds nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput
from kinfolk.crm.models import Customer, CustomerScore, Interaction, Stage
from kinfolk.crm.services import stages_recompute
from tests.crm.import_files import IMPORTED_ON, import_file, interactions, rejected

pytestmark = pytest.mark.django_db
Kind = Interaction.Kind


@pytest.fixture
def usd_shop(make_shop):
    return make_shop("vinyl-club", currency="USD", time_zone="America/Los_Angeles", country="US")


def test_an_order_of_three_lines_is_one_paid_order_with_all_its_items(usd_shop):
    """Given order #1002 on lines 3-5 with its own columns on line 3 only, when imported, then
    it is one order_placed and one order_paid with its total and the three items."""
    import_file(usd_shop, "shopify_orders.csv", "shopify_orders")
    events = interactions(usd_shop, "5001002")
    assert set(events) == {Kind.ORDER_PLACED, Kind.ORDER_PAID}
    paid = events[Kind.ORDER_PAID]
    assert paid["total"] == 6700 and paid["currency"] == "USD"
    assert [(item["name"], item["sku"], item["quantity"]) for item in paid["items"]] == [
        ("Vinyl LP", "LP-1", 2),
        ("Poster", "POSTER", 1),
        ("Sticker pack", "", 1),
    ]
    assert paid["external"]["name"] == "#1002"


def test_orders_are_dated_as_shopify_wrote_them_with_their_offset(usd_shop):
    """Given "2024-03-05 14:22:10 -0800", then the order was placed at 22:22:10 UTC."""
    import_file(usd_shop, "shopify_orders.csv", "shopify_orders")
    placed = Interaction.objects.get(subject_id="5001001", kind=Kind.ORDER_PLACED)
    assert placed.occurred_at == dt.datetime(2024, 3, 5, 22, 22, 10, tzinfo=dt.UTC)
    assert placed.source == Interaction.Source.IMPORT
    assert placed.subject_type == "shopify_order"


def test_each_malformed_line_is_rejected_with_its_line_number_and_reason(usd_shop):
    """Given bad dates, amounts, addresses, currencies and quantities, a two-line quoted note
    and an order split in two, then each problem is reported at its line of the file."""
    report = import_file(usd_shop, "shopify_orders.csv", "shopify_orders")
    reasons = rejected(report)
    assert set(reasons) == {10, 11, 12, 13, 14, 18, 21}
    assert "2024-13-45 99:00:00 -0800" in reasons[10] and "Created at" in reasons[10]
    assert "12,34.5x" in reasons[11] and "Total" in reasons[11]
    assert "No e-mail address" in reasons[12]
    assert "EUR" in reasons[13] and "USD" in reasons[13]
    assert "Unknown currency" in reasons[14]
    assert "lots" in reasons[18]
    assert "#1014" in reasons[21]
    assert report.rejected_count == 7
    # The order after the two-line note (line 15-16) starts on line 17: it is not off by one.
    assert Interaction.objects.filter(subject_id="5001012", kind=Kind.ORDER_PAID).exists()
    assert not Interaction.objects.filter(subject_id="5001013").exists()


def test_refunds_and_unpaid_orders_follow_the_financial_status(usd_shop):
    """Given refunded, partially refunded, pending and voided orders, then a refunded order has
    no order_paid, a partly refunded one is paid for what was kept, and unpaid ones are placed
    (and cancelled when voided)."""
    import_file(usd_shop, "shopify_orders.csv", "shopify_orders")
    refunded = interactions(usd_shop, "5001003")
    assert set(refunded) == {Kind.ORDER_PLACED, Kind.ORDER_REFUNDED}
    assert refunded[Kind.ORDER_REFUNDED]["amount"] == 3000
    partly = interactions(usd_shop, "5001004")
    assert set(partly) == {Kind.ORDER_PLACED, Kind.ORDER_PAID, Kind.ORDER_REFUNDED}
    assert partly[Kind.ORDER_PAID]["total"] == 2000
    assert partly[Kind.ORDER_REFUNDED]["amount"] == 2000
    assert set(interactions(usd_shop, "5001005")) == {Kind.ORDER_PLACED}
    assert set(interactions(usd_shop, "5001006")) == {Kind.ORDER_PLACED, Kind.ORDER_CANCELLED}


def test_customers_are_one_per_address_with_their_name_and_country(usd_shop):
    """Given Ada's orders under "Ada@Example.com" and "ada@example.com" and 김민지 in Korea,
    then there is one Ada, and 김민지's name and country are kept."""
    report = import_file(usd_shop, "shopify_orders.csv", "shopify_orders")
    assert Customer.objects.filter(shop=usd_shop, email="ada@example.com").count() == 1
    minji = Customer.objects.get(shop=usd_shop, email="minji@example.kr")
    assert (minji.name, minji.country) == ("김민지", "KR")
    emails = set(Customer.objects.filter(shop=usd_shop).values_list("email", flat=True))
    assert emails == {
        "ada@example.com",
        "grace@example.com",
        "linus@example.com",
        "minji@example.kr",
        "split@example.com",
        "after@example.com",
    }
    assert report.customers_created == 6
    assert report.orders_imported == 9


def test_importing_the_same_file_again_adds_nothing_and_counts_it_as_already_there(usd_shop):
    """Given an imported export, when it is imported again, then no interaction or customer is
    added and every order counts as already imported."""
    first = import_file(usd_shop, "shopify_orders.csv", "shopify_orders")
    interactions_before = Interaction.objects.filter(shop=usd_shop).count()
    customers_before = Customer.objects.filter(shop=usd_shop).count()
    again = import_file(usd_shop, "shopify_orders.csv", "shopify_orders")
    assert (again.orders_imported, again.customers_created) == (0, 0)
    assert again.already_imported == first.orders_imported
    assert Interaction.objects.filter(shop=usd_shop).count() == interactions_before
    assert Customer.objects.filter(shop=usd_shop).count() == customers_before


def test_stages_and_rfm_scores_reflect_the_imported_orders(usd_shop):
    """Given Ada with two paid orders, Grace with one kept and one refunded, Linus with none
    paid, when imported, then Ada is in a relationship, Grace identifies, Linus is aware, and
    the RFM scores count paid orders only, net of refunds."""
    import_file(usd_shop, "shopify_orders.csv", "shopify_orders")
    stages = dict(Customer.objects.filter(shop=usd_shop).values_list("email", "stage"))
    assert stages["ada@example.com"] == Stage.RELATIONSHIP
    assert stages["grace@example.com"] == Stage.IDENTIFICATION
    assert stages["linus@example.com"] == Stage.AWARENESS
    scores = {
        score.customer.email: score
        for score in CustomerScore.objects.filter(shop=usd_shop).select_related("customer")
    }
    assert (scores["ada@example.com"].frequency, scores["ada@example.com"].monetary) == (2, 9200)
    assert (scores["grace@example.com"].frequency, scores["grace@example.com"].monetary) == (
        1,
        2000,
    )
    assert "linus@example.com" not in scores


def test_the_stages_the_import_gives_are_those_a_later_recomputation_confirms(usd_shop):
    """Given an import, when the stages are recomputed the same day, then nothing changes."""
    import_file(usd_shop, "shopify_orders.csv", "shopify_orders")
    with clock.frozen(IMPORTED_ON):
        assert stages_recompute(shop=usd_shop)["changed"] == 0


def test_a_dry_run_reports_what_it_would_do_and_writes_nothing(usd_shop):
    """Given a dry run, then the report counts the same orders and nothing is written."""
    report = import_file(usd_shop, "shopify_orders.csv", "shopify_orders", dry_run=True)
    assert report.orders_imported == 9 and report.rejected_count == 7
    assert not Customer.objects.filter(shop=usd_shop).exists()
    assert not Interaction.objects.filter(shop=usd_shop).exists()


def test_a_file_without_the_columns_of_an_orders_export_is_refused_naming_them(usd_shop):
    """Given a customers export offered as an orders export, then nothing is imported and the
    error names the missing columns."""
    with pytest.raises(InvalidInput) as error:
        import_file(usd_shop, "shopify_customers.csv", "shopify_orders")
    assert error.value.field == "file"
    assert "“Name”" in error.value.message and "“Lineitem quantity”" in error.value.message
    assert not Customer.objects.filter(shop=usd_shop).exists()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"PK\x03\x04\x14\x00\x06\x00", "workbook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a CSV"),
        ("Name,Email\n".encode("cp949") + "김민지".encode("cp949"), "UTF-8"),
    ],
)
def test_a_file_that_is_not_csv_text_is_refused_with_a_clear_answer(usd_shop, content, words):
    """Given an empty file, a spreadsheet workbook, an image or text in a legacy encoding, then
    the import refuses it as a whole and says what is wrong."""
    with pytest.raises(InvalidInput) as error:
        import_file(usd_shop, "", "shopify_orders", content=content)
    assert words in error.value.message
