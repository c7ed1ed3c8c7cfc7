"""A refund that arrives in a later export of an order imported before: the order stops counting
as a purchase for stages, RFM, predicted value and customer share when all of it went back, and
counts for what the fan kept when part of it did; the same export imported twice changes nothing
the second time, and the end is the same whether the history came in one export or in two."""

from __future__ import annotations

import csv
import io

import pytest

from kinfolk.crm.models import Customer, CustomerScore, Interaction, Stage
from kinfolk.crm.selectors.share import paid_orders
from kinfolk.crm.services import customer_get_or_create, interaction_record
from kinfolk.crm.services.privacy import customer_erase
from kinfolk.crm.services.value import shop_value_refresh
from kinfolk.crm.stage_rules import purchase_filter
from tests.crm.import_files import IMPORTED_ON, import_file

pytestmark = pytest.mark.django_db
Kind = Interaction.Kind

SHOPIFY_COLUMNS = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Currency",
    "Total",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem sku",
    "Cancelled at",
    "Refunded Amount",
    "Id",
    "Billing Name",
]
# Two fans' orders as Shopify exports them: Grace's tape and Ada's LP.
GRACE = {
    "Name": "#2001",
    "Email": "grace@example.com",
    "Paid at": "2024-04-11 10:00:02 -0700",
    "Currency": "USD",
    "Total": "40.00",
    "Created at": "2024-04-11 10:00:00 -0700",
    "Lineitem quantity": "1",
    "Lineitem name": "Cassette",
    "Lineitem sku": "TAPE",
    "Id": "7002001",
    "Billing Name": "Grace Hopper",
}
ADA = {
    **GRACE,
    "Name": "#2002",
    "Email": "ada@example.com",
    "Total": "25.00",
    "Lineitem name": "Vinyl LP",
    "Lineitem sku": "LP",
    "Id": "7002002",
    "Billing Name": "Ada Lovelace",
}


def shopify_export(*orders: dict) -> bytes:
    """Return a Shopify orders export of ``orders`` (one line each)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, SHOPIFY_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(orders)
    return out.getvalue().encode()


def paid() -> bytes:
    return shopify_export(
        {**GRACE, "Financial Status": "paid"}, {**ADA, "Financial Status": "paid"}
    )


def refunded(status: str = "refunded", amount: str = "40.00") -> bytes:
    grace = {**GRACE, "Financial Status": status, "Refunded Amount": amount}
    return shopify_export(grace, {**ADA, "Financial Status": "paid"})


@pytest.fixture
def usd_shop(make_shop):
    return make_shop("tapes", currency="USD", time_zone="America/Los_Angeles", country="US")


def _import(shop, content: bytes, format: str = "shopify_orders", **options):
    return import_file(shop, "", format, content=content, **options)


def standing(shop) -> list[tuple[str, str, int]]:
    """Return the (subject type, subject id, total) of the shop's purchases that stand."""
    return sorted(
        Interaction.objects.filter(shop=shop)
        .filter(purchase_filter(shop=shop, now=IMPORTED_ON))
        .values_list("subject_type", "subject_id", "data__total")
    )


def ledger(shop) -> list[tuple]:
    """Return the shop's imported rows as (kind, subject, time, data without external)."""
    return sorted(
        (
            row.kind,
            row.subject_type,
            row.subject_id,
            row.occurred_at,
            {k: v for k, v in row.data.items() if k != "external"},
        )
        for row in Interaction.objects.filter(shop=shop, source=Interaction.Source.IMPORT)
    )


def test_an_order_refunded_in_a_later_export_no_longer_counts_as_a_purchase(usd_shop):
    """Given Grace's order imported as paid, when a later export shows it refunded, then its
    payment is withdrawn and its refund says all of it went back: it is no purchase for stages,
    RFM, predicted value or customer share. Ada's order still is."""
    _import(usd_shop, paid())
    grace = Customer.objects.get(shop=usd_shop, email="grace@example.com")
    assert grace.stage == Stage.IDENTIFICATION

    report = _import(usd_shop, refunded())

    assert (report.orders_imported, report.already_imported) == (1, 1)
    events = dict(Interaction.objects.filter(subject_id="7002001").values_list("kind", "data"))
    assert set(events) == {Kind.ORDER_PLACED, Kind.ORDER_REFUNDED}
    refund = events[Kind.ORDER_REFUNDED]
    assert (refund["amount"], refund["full"]) == (4000, True)
    assert standing(usd_shop) == [("shopify_order", "7002002", 2500)]
    grace.refresh_from_db()
    assert grace.stage == Stage.AWARENESS
    assert not CustomerScore.objects.filter(customer=grace).exists()
    fit = shop_value_refresh(shop=usd_shop, now=IMPORTED_ON)
    assert fit.customers == 1
    orders = paid_orders(shop=usd_shop, now=IMPORTED_ON)
    assert grace.pk not in orders.without_items
    assert grace.pk not in {order.customer_id for order in orders.counted}


def test_a_partial_refund_in_a_later_export_lowers_the_money_counted(usd_shop):
    """Given Grace's 40.00 order imported as paid, when a later export shows 15.00 of it
    refunded, then it still counts as a purchase, for the 25.00 she kept."""
    _import(usd_shop, paid())

    _import(usd_shop, refunded("partially_refunded", "15.00"))

    paid_row = Interaction.objects.get(subject_id="7002001", kind=Kind.ORDER_PAID)
    assert (paid_row.data["total"], paid_row.data["refunded"]) == (2500, 1500)
    refund = Interaction.objects.get(subject_id="7002001", kind=Kind.ORDER_REFUNDED)
    assert (refund.data["amount"], refund.data["full"]) == (1500, False)
    assert ("shopify_order", "7002001", 2500) in standing(usd_shop)
    score = CustomerScore.objects.get(customer__email="grace@example.com")
    assert (score.frequency, score.monetary) == (1, 2500)
    assert Customer.objects.get(email="grace@example.com").stage == Stage.IDENTIFICATION


@pytest.mark.parametrize(
    ("status", "amount"), [("refunded", "40.00"), ("partially_refunded", "15.00")]
)
def test_importing_the_same_refund_export_twice_changes_nothing_the_second_time(
    usd_shop, status, amount
):
    """Given a refund brought by a later export, when that export is imported again, then no
    row is added or changed and every order counts as already there."""
    _import(usd_shop, paid())
    _import(usd_shop, refunded(status, amount))
    before = ledger(usd_shop)

    again = _import(usd_shop, refunded(status, amount))

    assert (again.orders_imported, again.already_imported) == (0, 2)
    assert ledger(usd_shop) == before


def test_a_partial_then_a_full_refund_in_successive_exports_ends_refunded_in_full(usd_shop):
    """Given a paid order, then an export with part of it refunded, then one with all of it,
    then the order is no purchase and its refund is the whole order."""
    _import(usd_shop, paid())
    _import(usd_shop, refunded("partially_refunded", "15.00"))

    report = _import(usd_shop, refunded())

    assert report.orders_imported == 1
    refund = Interaction.objects.get(subject_id="7002001", kind=Kind.ORDER_REFUNDED)
    assert (refund.data["amount"], refund.data["full"]) == (4000, True)
    assert not Interaction.objects.filter(subject_id="7002001", kind=Kind.ORDER_PAID).exists()
    assert standing(usd_shop) == [("shopify_order", "7002002", 2500)]


@pytest.mark.parametrize(
    ("status", "amount", "grace_stands"),
    [("refunded", "40.00", None), ("partially_refunded", "15.00", 2500)],
)
def test_an_older_export_imported_after_a_newer_one_takes_no_refund_back(
    usd_shop, status, amount, grace_stands
):
    """Given the export with the refund imported first, when the older export (still paid) is
    imported after it, then the refund stands as it was."""
    _import(usd_shop, refunded(status, amount))
    _import(usd_shop, paid())

    expected = [("shopify_order", "7002002", 2500)]
    if grace_stands:
        expected.insert(0, ("shopify_order", "7002001", grace_stands))
    assert standing(usd_shop) == expected


@pytest.mark.parametrize(
    ("status", "amount"), [("refunded", "40.00"), ("partially_refunded", "15.00")]
)
def test_one_export_or_two_give_the_same_timeline(make_shop, status, amount):
    """Given one shop that imported the paid export and then the refunded one, and another
    that imported the refunded export alone, then their imported rows are the same."""
    in_two = make_shop("in-two", currency="USD", time_zone="America/Los_Angeles")
    in_one = make_shop("in-one", currency="USD", time_zone="America/Los_Angeles")
    _import(in_two, paid())
    _import(in_two, refunded(status, amount))
    _import(in_one, refunded(status, amount))

    assert ledger(in_two) == ledger(in_one)
    assert standing(in_two) == standing(in_one)


def test_a_full_refund_of_an_imported_order_leaves_other_origins_with_the_same_number(
    usd_shop,
):
    """Given a live order and another file's order both numbered like a refunded Shopify
    order's id, then only the Shopify order stops counting: refunds match type and number."""
    _import(usd_shop, refunded())
    fan = customer_get_or_create(shop=usd_shop, email="fan@example.com")
    interaction_record(
        shop=usd_shop,
        customer=fan,
        kind=Kind.ORDER_PAID,
        update_stage=False,
        occurred_at=IMPORTED_ON.replace(month=5),
        subject_type="order",
        subject_id="7002001",
        data={"total": 1000, "currency": "USD"},
    )
    generic = b"order,email,date,amount\n7002001,fan@example.com,2024-05-02,12.00\n"
    _import(
        usd_shop,
        generic,
        "generic",
        mapping={"order_id": "order", "email": "email", "date": "date", "total": "amount"},
    )

    assert standing(usd_shop) == [
        ("import_order", "7002001", 1200),
        ("order", "7002001", 1000),
        ("shopify_order", "7002002", 2500),
    ]


# --- Bandcamp --------------------------------------------------------------------------------

BANDCAMP_COLUMNS = [
    "date",
    "item type",
    "item name",
    "currency",
    "item total",
    "quantity",
    "buyer name",
    "buyer email",
    "bandcamp transaction id",
    "bandcamp related transaction id",
]


def bandcamp_report(*lines: tuple) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BANDCAMP_COLUMNS)
    writer.writerows(lines)
    return out.getvalue().encode()


JANUARY = bandcamp_report(
    ("1/3/24 10:12am", "album", "Night Swims", "USD", "10.00", "1", "Ada", "ada@example.com",
     "9001", ""),
    ("1/4/24 3:04pm", "album", "Night Swims", "USD", "9.00", "1", "Min", "minji@example.kr",
     "9002", ""),
    ("1/4/24 3:04pm", "package", "Night Swims - LP", "USD", "31.00", "1", "Min",
     "minji@example.kr", "9002", ""),
)  # fmt: skip
FEBRUARY = bandcamp_report(
    ("2/1/24 9:00am", "refund", "Night Swims", "USD", "-10.00", "1", "Ada", "ada@example.com",
     "9101", "9001"),
    ("2/2/24 9:00am", "refund", "Night Swims - LP", "USD", "-31.00", "1", "Min",
     "minji@example.kr", "9102", "9002"),
)  # fmt: skip


@pytest.fixture
def moonlit(make_shop):
    return make_shop("moonlit-refunds", currency="USD", time_zone="UTC")


def test_a_bandcamp_refund_naming_its_sale_in_an_earlier_report_undoes_it(moonlit):
    """Given January's report imported (Ada's album, 민지's album and LP), when February's
    report refunds Ada's album and 민지's LP, naming their transactions, then Ada's sale is no
    purchase and 민지's counts for the album she kept."""
    _import(moonlit, JANUARY, "bandcamp")

    report = _import(moonlit, FEBRUARY, "bandcamp")

    assert (report.orders_imported, report.rejected_count) == (2, 0)
    assert standing(moonlit) == [("bandcamp_sale", "9002", 900)]
    refund = Interaction.objects.get(subject_id="9002", kind=Kind.ORDER_REFUNDED)
    assert (refund.data["amount"], refund.data["full"]) == (3100, False)
    assert not Interaction.objects.filter(subject_type="bandcamp_refund").exists()
    assert not CustomerScore.objects.filter(customer__email="ada@example.com").exists()


def test_a_bandcamp_refund_report_imported_twice_or_before_its_sales_counts_once(moonlit):
    """Given February's refunds imported before January's sales and then again, then the end
    is the same as January then February, and the second February adds nothing."""
    _import(moonlit, FEBRUARY, "bandcamp")
    _import(moonlit, JANUARY, "bandcamp")
    again = _import(moonlit, FEBRUARY, "bandcamp")

    assert (again.orders_imported, again.already_imported) == (0, 2)
    assert standing(moonlit) == [("bandcamp_sale", "9002", 900)]
    refund = Interaction.objects.get(subject_id="9001", kind=Kind.ORDER_REFUNDED)
    assert (refund.data["amount"], refund.data["full"]) == (1000, True)


# --- generic CSV ------------------------------------------------------------------------------

GENERIC_MAPPING = {
    "order_id": "Order",
    "email": "E-mail",
    "date": "Date",
    "total": "Amount",
    "status": "Status",
    "refunded": "Refunded",
}


def test_a_generic_csv_with_a_status_column_brings_refunds_to_orders_imported_before(
    usd_shop,
):
    """Given a CSV of three paid orders imported, when the next export says one was refunded
    (in Korean), one partly refunded and one is in an unknown state, then the first is no
    purchase, the second counts for what was kept, and the third line is rejected."""
    before = (
        "Order,E-mail,Date,Amount,Status,Refunded\n"
        "G-1,grace@example.com,2024-04-01,40.00,paid,\n"
        "G-2,ada@example.com,2024-04-02,25.00,결제완료,\n"
        "G-3,linus@example.com,2024-04-03,12.00,paid,\n"
    ).encode()
    after = (
        "Order,E-mail,Date,Amount,Status,Refunded\n"
        "G-1,grace@example.com,2024-04-01,40.00,환불완료,\n"
        "G-2,ada@example.com,2024-04-02,25.00,Partially refunded,-5.00\n"
        "G-3,linus@example.com,2024-04-03,12.00,lost in the post,\n"
    ).encode()
    _import(usd_shop, before, "generic", mapping=GENERIC_MAPPING)

    report = _import(usd_shop, after, "generic", mapping=GENERIC_MAPPING)

    assert report.orders_imported == 2 and report.rejected_count == 1
    assert "lost in the post" in report.kept_rejections()[0]["reason"]
    assert report.kept_rejections()[0]["line"] == 4
    assert standing(usd_shop) == [("import_order", "G-2", 2000), ("import_order", "G-3", 1200)]


def test_a_cancelled_or_pending_generic_order_was_never_paid(usd_shop):
    """Given a cancelled and a pending order, then both are placed and neither is paid."""
    content = (
        "Order,E-mail,Date,Amount,Status,Refunded\n"
        "C-1,grace@example.com,2024-04-01,40.00,취소,\n"
        "C-2,ada@example.com,2024-04-02,25.00,pending,\n"
    ).encode()
    _import(usd_shop, content, "generic", mapping=GENERIC_MAPPING)

    kinds = sorted(Interaction.objects.filter(shop=usd_shop).values_list("subject_id", "kind"))
    assert kinds == [
        ("C-1", Kind.ORDER_CANCELLED),
        ("C-1", Kind.ORDER_PLACED),
        ("C-2", Kind.ORDER_PLACED),
    ]
    assert standing(usd_shop) == []


def test_an_order_refunded_in_full_stays_no_purchase_after_the_fan_is_erased(usd_shop):
    """Given Grace's order refunded by a later export, when Grace is erased, then her record's
    refund still says the whole order went back: the shop's figures do not change."""
    _import(usd_shop, paid())
    _import(usd_shop, refunded())
    grace = Customer.objects.get(shop=usd_shop, email="grace@example.com")

    customer_erase(shop=usd_shop, customer=grace, requested_by="fan")

    assert standing(usd_shop) == [("shopify_order", "7002002", 2500)]


def test_a_refund_recorded_before_refunds_said_full_is_completed_by_importing_it_again(
    usd_shop,
):
    """Given a refund imported before refunds said whether they were full (the order went on
    counting), when the refund export is imported again, then its refund says full and the
    order stops counting; a third import changes nothing."""
    _import(usd_shop, paid())
    grace = Customer.objects.get(shop=usd_shop, email="grace@example.com")
    interaction_record(
        shop=usd_shop,
        customer=grace,
        kind=Kind.ORDER_REFUNDED,
        source=Interaction.Source.IMPORT,
        occurred_at=IMPORTED_ON.replace(month=4),
        subject_type="shopify_order",
        subject_id="7002001",
        data={"amount": 4000, "currency": "USD", "external": {}},
        update_stage=False,
    )
    assert ("shopify_order", "7002001", 4000) in standing(usd_shop)

    report = _import(usd_shop, refunded())

    assert report.orders_imported == 1
    refund = Interaction.objects.get(subject_id="7002001", kind=Kind.ORDER_REFUNDED)
    assert (refund.data["amount"], refund.data["full"]) == (4000, True)
    assert standing(usd_shop) == [("shopify_order", "7002002", 2500)]
    assert _import(usd_shop, refunded()).orders_imported == 0
