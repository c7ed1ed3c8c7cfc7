"""How much one fan may send one shop: a number of files a day and a number of bytes waiting
for review, both from settings, counted in the database whatever process serves the request."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
from collections import Counter

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from kinfolk.core.errors import InvalidInput
from kinfolk.gallery.models import FanUpload
from kinfolk.gallery.services import upload_approve, upload_submit
from tests.gallery.conftest import jpeg_with_gps, stored_files, upload_file

pytestmark = pytest.mark.django_db


def submit(shop, account, name="a.jpg"):
    return upload_submit(
        shop=shop, account=account, file=upload_file(name, jpeg_with_gps()), rights_confirmed=True
    )


def refused_code(shop, account) -> str:
    before = (FanUpload.objects.count(), stored_files())
    with pytest.raises(InvalidInput) as refused:
        submit(shop, account)
    assert refused.value.field == "file"
    assert (FanUpload.objects.count(), stored_files()) == before  # nothing stored
    return refused.value.code


@override_settings(GALLERY_UPLOADS_PER_DAY=2)
def test_a_fan_sends_a_shop_at_most_the_daily_number(shop, fan, make_user, make_shop):
    """Given a limit of 2 a day,
    when a fan sends a shop a third file within 24 hours, then it is refused (nothing stored),
    while another fan and another shop are not affected;
    once the first two are more than 24 hours old, the fan may send again."""
    submit(shop, fan)
    submit(shop, fan)

    assert refused_code(shop, fan) == "daily_limit"
    submit(shop, make_user("jun@example.com", name="Jun"))
    submit(make_shop(slug="sunrise"), fan)

    FanUpload.objects.filter(shop=shop, account=fan).update(
        submitted_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
    )
    submit(shop, fan)
    assert FanUpload.objects.filter(shop=shop, account=fan).count() == 3


def test_files_waiting_for_review_fill_a_quota_that_review_empties(shop, fan, staff):
    """Given a quota of pending bytes that one photo fills,
    when the fan sends a second before the shop reviews the first, then it is refused;
    once the first is approved, the second is taken."""
    first = submit(shop, fan)
    with override_settings(GALLERY_MAX_PENDING_BYTES=first.size + 100):
        assert refused_code(shop, fan) == "pending_limit"
        upload_approve(shop=shop, upload=first, by=staff)
        second = submit(shop, fan)
    assert second.status == FanUpload.Status.PENDING


@override_settings(GALLERY_UPLOADS_PER_DAY=1)
def test_the_form_says_the_limit_is_reached_next_to_the_file(client, shop, fan):
    """Given a fan who has sent today's one file,
    when they post another with the form, then they get 429 with the message next to the file
    field and their caption kept."""
    submit(shop, fan)
    client.force_login(fan)

    response = client.post(
        reverse("storefront:gallery-upload", args=[shop.slug]),
        {"file": upload_file("b.jpg", jpeg_with_gps()), "caption": "Second set", "rights": "on"},
    )

    assert response.status_code == 429
    html = response.content.decode()
    assert 'id="file-error"' in html and "Please try again tomorrow" in html
    assert "Second set" in html and FanUpload.objects.count() == 1


PROCESSES = 4
PER_PROCESS = 3
PER_DAY = 5


@pytest.mark.django_db(transaction=True)
def test_processes_uploading_at_once_stay_within_the_daily_number(shop, fan):
    """Given a limit of 5 a day and one fan,
    when 4 processes each submit 3 photos for that fan at the same moment,
    then exactly 5 are stored and the 7 others are refused as over the daily limit."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    database_name = connection.settings_dict["NAME"]
    from tests.gallery.race_uploaders import submit_photos

    processes = [
        context.Process(
            target=submit_photos,
            args=(database_name, shop.pk, fan.pk, PER_PROCESS, PER_DAY, barrier, results),
        )
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    outcomes: list[str] = []
    try:
        for _ in processes:
            _pid, theirs = results.get(timeout=300)
            outcomes.extend(theirs)
    except queue.Empty:
        pytest.fail("an uploader process did not report within 300 s")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()

    assert Counter(outcomes) == {
        "stored": PER_DAY,
        "daily_limit": PROCESSES * PER_PROCESS - PER_DAY,
    }
    assert FanUpload.objects.filter(shop=shop, account=fan).count() == PER_DAY
