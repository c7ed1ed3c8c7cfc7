"""An erasure sticks: the erased address is kept only as a one-way digest salted per shop, and an
import of old history that meets it again leaves the person's lines out (no customer, nothing
linked), saying so in its report apart from malformed lines; other people in the same file are
imported, and a fan who signs up again through the shop itself is not blocked."""

from __future__ import annotations

import csv
import hashlib
import html
import io

import pytest
from django.template.loader import render_to_string

from kinfolk.crm.imports.command import report_text
from kinfolk.crm.imports.service import import_run_execute, import_run_start
from kinfolk.crm.models import ConsentRecord, Customer, ErasedAddress, Erasure, Interaction
from kinfolk.crm.services import customer_get_or_create
from kinfolk.crm.services.privacy import customer_erase, erased_address_digest
from kinfolk.dashboard.views.imports import report_lines
from tests.crm.import_files import FILES, GENERIC_MAPPING, import_file, rejected

pytestmark = pytest.mark.django_db
LEFT_OUT = "Left out at the person's request"
# Per kind of order file: the file, its mapping, and the lines of Grace's orders in it.
ORDER_FILES = {
    "shopify_orders": ("shopify_orders.csv", None, [6, 7]),
    "bandcamp": ("bandcamp_sales.csv", None, [6]),  # her sale; its refund line 7 goes with it
    "generic": ("generic.csv", GENERIC_MAPPING, [3]),  # her order's lines 3-4 start at 3
}


@pytest.fixture
def usd_shop(make_shop):
    return make_shop("vinyl-club", currency="USD", time_zone="America/Los_Angeles", country="US")


def _import(shop, format: str, content: bytes | None = None):
    name, mapping, _lines = ORDER_FILES.get(format, ("shopify_customers.csv", None, []))
    options = {"mapping": mapping} if mapping else {}
    return import_file(shop, name, format, content=content, **options)


def _erase(shop, email: str) -> Erasure:
    customer = Customer.objects.get(shop=shop, email=email)
    return customer_erase(shop=shop, customer=customer, requested_by="fan")


def _people(shop, email: str):
    return Customer.objects.filter(shop=shop, email__iexact=email)


def left_out(report) -> dict[int, str]:
    return {entry["line"]: entry["reason"] for entry in report.kept_left_out()}


def test_an_erasure_keeps_a_digest_of_the_normalised_address_salted_per_shop(usd_shop, make_shop):
    """Given Grace erased, then her erasure keeps SHA-256 over the fixed label, the shop's id and
    her address as every spelling of it normalises, not the address; another shop's digest of
    the same address differs."""
    _import(usd_shop, "shopify_orders")

    erasure = _erase(usd_shop, "grace@example.com")

    expected = hashlib.sha256(
        f"kinfolk.crm.erased-address.v1\x1f{usd_shop.pk}\x1fgrace@example.com".encode()
    ).hexdigest()
    assert list(erasure.addresses.values_list("digest", flat=True)) == [expected]
    assert erased_address_digest(shop_id=usd_shop.pk, email=" Grace@Example.COM ") == expected
    other = make_shop("other-shop")
    assert erased_address_digest(shop_id=other.pk, email="grace@example.com") != expected
    assert ErasedAddress.objects.get(shop=usd_shop, digest=expected).erasure_id == erasure.pk


@pytest.mark.parametrize("format", list(ORDER_FILES))
def test_an_erased_fan_does_not_come_back_with_the_file_that_created_them(usd_shop, format):
    """Given a file imported and Grace erased, when the very same file is imported again, then
    no customer has her address, nothing is added to anyone's timeline, and the report lists
    her lines as left out at her request, apart from the malformed lines."""
    first = _import(usd_shop, format)
    erased = Customer.objects.get(shop=usd_shop, email="grace@example.com")
    _erase(usd_shop, "grace@example.com")
    interactions = Interaction.objects.filter(shop=usd_shop).count()

    again = _import(usd_shop, format)

    assert not _people(usd_shop, "grace@example.com").exists()
    assert Interaction.objects.filter(shop=usd_shop).count() == interactions
    erased.refresh_from_db()
    assert erased.email == "" and erased.erased_at is not None
    lines = ORDER_FILES[format][2]
    assert sorted(left_out(again)) == lines and again.left_out_count == len(lines)
    assert all(LEFT_OUT in reason for reason in left_out(again).values())
    assert (again.rejected_count, set(rejected(again))) == (
        first.rejected_count,
        set(rejected(first)),
    )
    assert again.already_imported == first.orders_imported - len(lines)


def test_a_newcomer_in_the_same_file_is_imported_while_the_erased_fan_is_left_out(usd_shop):
    """Given Grace erased after the export was imported, when a later export holds her orders
    and a newcomer's, then the newcomer is a customer with her order and Grace is not."""
    _import(usd_shop, "shopify_orders")
    _erase(usd_shop, "grace@example.com")
    rows = list(csv.reader(io.StringIO((FILES / "shopify_orders.csv").read_text("utf-8-sig"))))
    header, ada_line = rows[0], rows[1]
    newcomer = dict(zip(header, ada_line, strict=True))
    newcomer.update(Name="#1099", Email="hedy@example.com", Id="5001099")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([*rows, [newcomer[c] for c in header]])

    report = _import(usd_shop, "shopify_orders", content=out.getvalue().encode())

    assert report.orders_imported == 1 and report.customers_created == 1
    hedy = Customer.objects.get(shop=usd_shop, email="hedy@example.com")
    assert hedy.interactions.filter(subject_id="5001099").count() == 2  # placed and paid
    assert not _people(usd_shop, "grace@example.com").exists()
    assert sorted(left_out(report)) == [6, 7]


def test_a_fan_who_signs_up_again_is_not_blocked_and_gets_none_of_the_old_history(usd_shop):
    """Given Grace erased, when she signs up again through the shop itself, then she is a new
    customer; when the old export is imported after that, her old orders stay left out and
    nothing is linked to her new record."""
    _import(usd_shop, "shopify_orders")
    _erase(usd_shop, "grace@example.com")

    again = customer_get_or_create(shop=usd_shop, email="grace@example.com")
    report = _import(usd_shop, "shopify_orders")

    assert _people(usd_shop, "grace@example.com").get().pk == again.pk
    assert not again.interactions.exists()
    assert sorted(left_out(report)) == [6, 7]


def test_an_erased_customer_does_not_come_back_with_a_customers_export(usd_shop):
    """Given 김민지 (tagged, accepting marketing e-mail) imported and erased, when the customers
    export is imported again, then there is no customer with her address, no consent given
    anew and no tag linked; her line is left out."""
    _import(usd_shop, "shopify_customers")
    _erase(usd_shop, "minji@example.kr")
    consents = ConsentRecord.objects.filter(shop=usd_shop).count()
    tag_links = Customer.tags.through.objects.filter(customer__shop=usd_shop).count()

    report = _import(usd_shop, "shopify_customers")

    assert not _people(usd_shop, "minji@example.kr").exists()
    assert ConsentRecord.objects.filter(shop=usd_shop).count() == consents
    assert Customer.tags.through.objects.filter(customer__shop=usd_shop).count() == tag_links
    assert sorted(left_out(report)) == [3]
    assert report.customers_created == 0


def test_an_erasure_in_one_shop_does_not_keep_the_fan_out_of_another(usd_shop, make_shop):
    """Given Grace erased from one shop, when another shop imports her orders, then she is
    that shop's customer: erasures are per shop."""
    _import(usd_shop, "shopify_orders")
    _erase(usd_shop, "grace@example.com")
    other = make_shop("tapes", currency="USD", time_zone="America/Los_Angeles")

    report = _import(other, "shopify_orders")

    assert _people(other, "grace@example.com").exists()
    assert report.left_out_count == 0


def test_a_run_keeps_left_out_lines_apart_and_its_page_shows_them(usd_shop):
    """Given Grace erased, when the export is imported again as a run, then the run keeps her
    lines first, marked as left out, then the rejected lines; its report page counts 7
    rejected lines and 2 left out, and the command prints both."""
    _import(usd_shop, "shopify_orders")
    _erase(usd_shop, "grace@example.com")
    run = import_run_start(shop=usd_shop, format="shopify_orders", filename="orders.csv")

    with (FILES / "shopify_orders.csv").open("rb") as stream:
        report = import_run_execute(run=run, stream=stream)

    run.refresh_from_db()
    assert [(entry["line"], entry.get("left_out", False)) for entry in run.rejected] == [
        (6, True),
        (7, True),
        *((line, False) for line in (10, 11, 12, 13, 14, 18, 21)),
    ]
    page = render_to_string(
        "dashboard/import_report.html",
        {
            "shop": usd_shop,
            "run": run,
            "progress": {"running": False},
            **report_lines(run),
        },
    )
    page = html.unescape(page)
    assert page.count(LEFT_OUT) == 4  # the count, the title, and the reason of each line
    stats = page[: page.index("</ul>")]
    assert '<span class="stat-label">Rejected lines</span><span class="stat-value">7<' in stats
    assert f'<span class="stat-label">{LEFT_OUT}</span><span class="stat-value">2<' in stats
    printed = report_text(report)
    assert f"{LEFT_OUT}: 2 lines." in printed and "Rejected: 7 lines." in printed
    assert "line 6: " + LEFT_OUT in printed
    assert "grace" not in printed.lower()


def test_a_dry_run_counts_the_lines_it_would_leave_out(usd_shop):
    """Given Grace erased, then a dry run of the export reports her lines as left out."""
    _import(usd_shop, "shopify_orders")
    _erase(usd_shop, "grace@example.com")

    report = import_file(usd_shop, "shopify_orders.csv", "shopify_orders", dry_run=True)

    assert sorted(left_out(report)) == [6, 7]
    assert not _people(usd_shop, "grace@example.com").exists()


def test_many_left_out_lines_never_hide_the_rejected_ones():
    """Given a run with more left-out lines than a page shows and a few rejected ones, then the
    report shows every rejected line and says more left-out lines were not shown."""
    from kinfolk.crm.models import ImportRun
    from kinfolk.dashboard.views.imports import REJECTED_SHOWN

    left_out = [{"line": n, "reason": LEFT_OUT, "left_out": True} for n in range(2, 602)]
    rejected = [{"line": n, "reason": "No e-mail address."} for n in (700, 701, 702)]
    lines = report_lines(ImportRun(rejected=left_out + rejected))

    assert [entry["line"] for entry in lines["rejected"]] == [700, 701, 702]
    assert lines["rejected_hidden"] == 0
    assert len(lines["left_out"]) == REJECTED_SHOWN
    assert lines["left_out_hidden"] == 600 - REJECTED_SHOWN
