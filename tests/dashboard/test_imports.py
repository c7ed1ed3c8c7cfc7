"""Importing history from the dashboard: an upload checked at once, imported by the background
worker, followed on a page that polls itself, and a report with every rejected line."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from kinfolk.core import clock
from kinfolk.crm.models import ImportRun, Interaction

pytestmark = pytest.mark.django_db
# Tests that run the worker commit for real: a task closes the connection of a test transaction.
worker = pytest.mark.django_db(transaction=True)
FILES = Path(__file__).parents[1] / "crm" / "import_files"


def _upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    data = (FILES / name).read_bytes() if content is None else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


def _imports_url(world) -> str:
    return reverse("dashboard:imports", kwargs={"shop": world.shop.slug})


def _new_runs(world):
    """Return the runs of the world's shop besides the one it was built with."""
    return ImportRun.objects.filter(shop=world.shop).exclude(pk=world.import_run.pk)


def _stored_imports() -> list[str]:
    if not default_storage.exists("imports"):
        return []
    found = []
    for year in default_storage.listdir("imports")[0]:
        for month in default_storage.listdir(f"imports/{year}")[0]:
            found += default_storage.listdir(f"imports/{year}/{month}")[1]
    return found


@worker
def test_an_uploaded_export_is_imported_by_the_worker_and_reported(
    staff_client, world_a, run_tasks
):
    """Given a Shopify orders export uploaded, when the worker runs, then the run is done with
    its counts, its page shows every rejected line, and the stored file is deleted."""
    response = staff_client.post(
        _imports_url(world_a),
        {"format": "shopify_orders", "file": _upload("shopify_orders.csv")},
    )
    run = _new_runs(world_a).get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "dashboard:import", kwargs={"shop": world_a.shop.slug, "import_id": run.pk}
    )
    assert run.status == ImportRun.Status.PENDING and run.created_by == world_a.owner
    stored = run.file.name
    assert default_storage.exists(stored)

    assert run_tasks() == 1
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE
    assert (run.orders_imported, run.customers_created, run.already_imported) == (9, 6, 0)
    assert run.processed_lines == run.total_lines == 20  # lines 2 to 21
    assert [entry["line"] for entry in run.rejected] == [10, 11, 12, 13, 14, 18, 21]
    assert not run.file and not default_storage.exists(stored)
    assert Interaction.objects.filter(shop=world_a.shop, source="import").count() == 18

    page = staff_client.get(response["Location"]).content.decode()
    assert "No e-mail address" in page and "2024-13-45 99:00:00 -0800" in page
    assert "hx-trigger" not in page


@worker
def test_the_run_page_polls_every_second_until_the_import_is_done(staff_client, world_a, run_tasks):
    """Given an upload waiting for the worker, then its page polls itself every second (a
    partial for htmx), and stops polling once the run is done."""
    response = staff_client.post(
        _imports_url(world_a),
        {"format": "bandcamp", "file": _upload("bandcamp_sales.csv")},
    )
    url = response["Location"]
    waiting = staff_client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in waiting and f'hx-get="{url}"' in waiting
    partial = staff_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="import-report"') and "<html" not in partial
    run_tasks()
    done = staff_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done and "Rejected lines" in done


@worker
def test_importing_the_same_upload_again_counts_everything_as_already_there(
    staff_client, world_a, run_tasks
):
    """Given an export imported once, when it is uploaded again, then nothing is added and the
    second run counts every order as already imported."""
    for _ in range(2):
        staff_client.post(
            _imports_url(world_a),
            {"format": "shopify_orders", "file": _upload("shopify_orders.csv")},
        )
        run_tasks()
    first, second = _new_runs(world_a).order_by("pk")
    assert (second.orders_imported, second.already_imported) == (0, first.orders_imported)


@pytest.mark.parametrize(
    ("format", "name", "content", "words"),
    [
        ("shopify_orders", "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "not a CSV"),
        ("shopify_orders", "sheet.xlsx", b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "workbook"),
        ("shopify_orders", "empty.csv", b"", "empty"),
        ("shopify_orders", "shopify_customers.csv", None, "“Lineitem quantity”"),
        (
            "bandcamp",
            "header.csv",
            b"date,item type,item name,currency,item total,buyer email\n",
            "no lines under it",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_is_answered_at_once_and_nothing_is_stored(
    staff_client, world_a, format, name, content, words, django_capture_on_commit_callbacks
):
    """Given an image, a workbook, an empty file, the wrong kind of export or a header alone,
    then the form says what is wrong next to the file, and no run, file or task is left."""
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            _imports_url(world_a), {"format": format, "file": _upload(name, content)}
        )
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not _new_runs(world_a).exists()
    assert _stored_imports() == []
    assert HUEY.pending_count() == 0


def test_a_file_over_the_size_limit_is_refused(staff_client, world_a, settings):
    """Given a limit of 1 KB, when a 6 KB export is uploaded, then it is refused by size."""
    settings.KINFOLK_IMPORT_MAX_BYTES = 1024
    response = staff_client.post(
        _imports_url(world_a), {"format": "shopify_orders", "file": _upload("shopify_orders.csv")}
    )
    assert response.status_code == 400
    assert "files of up to 1.0" in response.content.decode()
    assert not _new_runs(world_a).exists()


def test_a_generic_csv_needs_its_columns_named_and_is_shown_the_columns_it_has(
    staff_client, world_a
):
    """Given a generic CSV without a mapping, then the required fields say so; given a mapping
    to a column the file lacks, then that field says so and the file's columns are listed."""
    response = staff_client.post(
        _imports_url(world_a), {"format": "generic", "file": _upload("generic.csv")}
    )
    assert response.status_code == 400
    assert response.content.decode().count("Name the column of the file that holds this.") == 3
    response = staff_client.post(
        _imports_url(world_a),
        {
            "format": "generic",
            "file": _upload("generic.csv"),
            "map_email": "Email",
            "map_date": "Ordered on",
            "map_total": "Amount",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "The file has no column “Email”." in page
    assert "“Customer e-mail”" in page and "“Ordered on”" in page
    assert not _new_runs(world_a).exists()


@worker
def test_a_generic_csv_imports_with_its_mapping_and_date_layout(staff_client, world_a, run_tasks):
    """Given a generic CSV with its columns named and its date layout, then it is imported."""
    staff_client.post(
        _imports_url(world_a),
        {
            "format": "generic",
            "file": _upload("generic.csv"),
            "map_email": "Customer e-mail",
            "map_date": "Ordered on",
            "map_total": "Amount",
            "map_order_id": "Order",
            "date_format": "%d/%m/%Y %H:%M",
        },
    )
    run_tasks()
    run = _new_runs(world_a).get()
    assert run.mapping["date_format"] == "%d/%m/%Y %H:%M"
    assert (run.status, run.orders_imported) == (ImportRun.Status.DONE, 2)


def test_the_list_of_imports_takes_the_same_queries_however_many_runs(
    staff_client, world_a, django_assert_max_num_queries
):
    """Given 30 runs, then the list page answers in a fixed number of queries, newest first."""
    now = clock.now()
    ImportRun.objects.bulk_create(
        ImportRun(
            shop=world_a.shop,
            format="shopify_orders",
            filename=f"orders-{n}.csv",
            status="done",
            created_at=now,
            created_by=world_a.owner,
            rejected=[{"line": 2, "reason": "x"}] * 100,
        )
        for n in range(30)
    )
    with django_assert_max_num_queries(8):
        response = staff_client.get(_imports_url(world_a))
    page = response.content.decode()
    assert response.status_code == 200
    assert "orders-29.csv" in page and "orders-0.csv" not in page  # 20 a page, newest first


def test_a_run_that_stopped_says_why_and_does_not_poll(staff_client, world_a):
    """Given a run that failed, then its page shows the reason and that importing the file
    again is safe, and does not poll."""
    run = world_a.import_run
    run.status, run.error = ImportRun.Status.FAILED, "The file has no header line."
    run.save()
    url = reverse("dashboard:import", kwargs={"shop": world_a.shop.slug, "import_id": run.pk})
    page = staff_client.get(url).content.decode()
    assert "The file has no header line." in page
    assert "importing the file again adds only what is missing" in page
    assert "hx-trigger" not in page
