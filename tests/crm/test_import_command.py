"""``kinfolk import`` on the command line: a report with every rejected line, a run in the
shop's import history, a dry run that writes nothing, and a non-zero exit only for a file that
cannot be read at all."""

from __future__ import annotations

import pytest

from kinfolk.core import clock
from kinfolk.crm.imports.command import EXIT_UNREADABLE, main
from kinfolk.crm.models import Customer, ImportRun, Interaction
from tests.crm.import_files import FILES, IMPORTED_ON

pytestmark = pytest.mark.django_db


@pytest.fixture
def usd_shop(make_shop):
    return make_shop("vinyl-club", currency="USD", time_zone="America/Los_Angeles", country="US")


def _run(*argv: str) -> int:
    with clock.frozen(IMPORTED_ON):
        return main(list(argv))


def test_the_command_imports_and_reports_rejected_lines_by_number(usd_shop, capsys):
    """Given a Shopify orders export, then the command exits 0, prints what it imported and
    each rejected line with its reason, and records the run."""
    status = _run(
        "--shop", "vinyl-club", "--format", "shopify-orders", str(FILES / "shopify_orders.csv")
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "Imported: 9 records." in out
    assert "Rejected: 7 lines." in out
    assert "line 12: No e-mail address" in out
    run = ImportRun.objects.get(shop=usd_shop)
    assert (run.status, run.filename, run.orders_imported) == (
        ImportRun.Status.DONE,
        "shopify_orders.csv",
        9,
    )
    assert [entry["line"] for entry in run.rejected] == [10, 11, 12, 13, 14, 18, 21]


def test_a_dry_run_prints_the_same_report_and_writes_nothing(usd_shop, capsys):
    """Given --dry-run, then the report is printed and no customer, order or run is stored."""
    status = _run(
        "--shop",
        "vinyl-club",
        "--format",
        "shopify-orders",
        "--dry-run",
        str(FILES / "shopify_orders.csv"),
    )
    out = capsys.readouterr().out
    assert status == 0 and "Dry run" in out and "Imported: 9 records." in out
    assert not Customer.objects.exists()
    assert not Interaction.objects.exists()
    assert not ImportRun.objects.exists()


def test_a_generic_csv_takes_its_mapping_and_date_layout(usd_shop, capsys):
    """Given --map and --date-format, then the generic CSV imports with them."""
    status = _run(
        "--shop",
        "vinyl-club",
        "--format",
        "generic",
        str(FILES / "generic.csv"),
        "--map",
        "email=Customer e-mail",
        "--map",
        "date=Ordered on",
        "--map",
        "total=Amount",
        "--map",
        "order_id=Order",
        "--date-format",
        "%d/%m/%Y %H:%M",
    )
    assert status == 0
    assert "Imported: 2 records." in capsys.readouterr().out


def test_a_file_that_cannot_be_read_exits_non_zero_with_the_reason(usd_shop, capsys, tmp_path):
    """Given a file of the wrong kind, then the command exits 2 and says which columns lack;
    the run is recorded as failed."""
    status = _run("--shop", "vinyl-club", "--format", "bandcamp", str(FILES / "shopify_orders.csv"))
    err = capsys.readouterr().err
    assert status == EXIT_UNREADABLE
    assert "“item type”" in err
    assert ImportRun.objects.get().status == ImportRun.Status.FAILED
    missing = tmp_path / "missing.csv"
    assert _run("--shop", "vinyl-club", "--format", "bandcamp", str(missing)) == EXIT_UNREADABLE


def test_a_mapping_for_a_shopify_file_is_a_usage_error(usd_shop):
    """Given --map with a Shopify export, then the command line is refused."""
    with pytest.raises(SystemExit) as stop:
        _run(
            "--shop",
            "vinyl-club",
            "--format",
            "shopify-orders",
            "--map",
            "email=Email",
            str(FILES / "shopify_orders.csv"),
        )
    assert stop.value.code == 2


def test_a_generic_csv_maps_its_status_and_refunded_columns(usd_shop, capsys, tmp_path):
    """Given --map status=... and refunded=..., then a refunded order is imported as refunded."""
    path = tmp_path / "orders.csv"
    path.write_text(
        "Order,E-mail,Date,Amount,State,Back\n"
        "R-1,ada@example.com,2024-04-01,40.00,refunded,40.00\n"
        "R-2,ada@example.com,2024-04-02,25.00,paid,\n"
    )
    status = _run(
        "--shop",
        "vinyl-club",
        "--format",
        "generic",
        str(path),
        *("--map", "email=E-mail", "--map", "date=Date", "--map", "total=Amount"),
        *("--map", "order_id=Order", "--map", "status=State", "--map", "refunded=Back"),
    )
    assert status == 0 and "Imported: 2 records." in capsys.readouterr().out
    kinds = set(Interaction.objects.filter(subject_id="R-1").values_list("kind", flat=True))
    assert kinds == {Interaction.Kind.ORDER_PLACED, Interaction.Kind.ORDER_REFUNDED}
