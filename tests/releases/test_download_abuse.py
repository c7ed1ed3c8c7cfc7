"""Ways round a release's limits, each closed: a byte range is free only as the rest of a
download counted within the hour; a gated release's downloads never play from its page; the
open links of an ungated release count each visitor once per file and hour."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from tests.releases.conftest import PREVIEW, SONG

from kinfolk.crm.services import customer_get_or_create
from kinfolk.releases.links import download_token
from kinfolk.releases.models import Download, DownloadAllowance
from kinfolk.releases.selectors import open_links
from kinfolk.releases.services import grant_give

pytestmark = pytest.mark.django_db


def _link(shop, release):
    customer = customer_get_or_create(shop=shop, email="fan@example.com")
    grant = grant_give(shop=shop, release=release, customer=customer, source="free")
    file = release.files.get(role="download")
    token = download_token(grant_id=grant.pk, file_id=file.pk, lifetime=dt.timedelta(hours=24))
    return grant, file, reverse("storefront:release-download", args=[shop.slug, token])


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_range_after_the_limit_is_refused_like_a_download(
    client, shop, make_release, moving_clock
):
    """Given a release allowing one download, downloaded once and refused once, when the link
    is asked for ``bytes=1-`` ten times, then every answer is the 403 page and the allowance
    stays at 1 (a range gets no free download)."""
    release = make_release("Once", download_limit=1)
    grant, file, url = _link(shop, release)
    assert client.get(url).status_code == 200
    # Two hours later the first download is not one a range could continue
    moving_clock.advance(hours=2)
    assert client.get(url).status_code == 403
    answers = [client.get(url, HTTP_RANGE="bytes=1-") for _ in range(10)]
    assert [a.status_code for a in answers] == [403] * 10
    assert "No downloads left" in answers[0].content.decode()
    assert DownloadAllowance.objects.get(grant=grant, file=file).used == 1
    assert Download.objects.filter(grant=grant).count() == 1


def test_a_range_with_no_download_before_counts_as_a_new_one(client, shop, make_release):
    """Given a fresh grant that never downloaded, when its first request is ``bytes=100-``,
    then it streams and counts one download (it is not the rest of anything)."""
    release = make_release("Fresh", download_limit=2)
    grant, file, url = _link(shop, release)
    response = client.get(url, HTTP_RANGE="bytes=100-")
    assert response.status_code == 206 and _body(response) == SONG[100:]
    assert DownloadAllowance.objects.get(grant=grant, file=file).used == 1


def test_a_resume_within_the_hour_is_free_and_after_it_counts(
    client, shop, make_release, moving_clock
):
    """Given a download counted at noon, when the rest is asked for at 12:59, then it streams
    without counting; when asked for at 14:00, then it counts like a new download."""
    release = make_release("Resume", download_limit=3)
    grant, file, url = _link(shop, release)
    client.get(url, HTTP_RANGE="bytes=0-99")
    moving_clock.advance(minutes=59)
    assert client.get(url, HTTP_RANGE="bytes=100-").status_code == 206
    assert DownloadAllowance.objects.get(grant=grant, file=file).used == 1
    moving_clock.advance(minutes=61)
    assert client.get(url, HTTP_RANGE="bytes=100-").status_code == 206
    assert DownloadAllowance.objects.get(grant=grant, file=file).used == 2


def test_a_resume_of_another_grants_download_counts(client, shop, make_release):
    """Given one fan's download counted a moment ago, when a second fan's link of the same file
    asks for a range from byte 100, then the second fan's allowance is taken."""
    release = make_release("Shared", download_limit=2)
    _grant, _file, first_url = _link(shop, release)
    client.get(first_url)
    other = customer_get_or_create(shop=shop, email="other@example.com")
    grant = grant_give(shop=shop, release=release, customer=other, source="free")
    file = release.files.get(role="download")
    token = download_token(grant_id=grant.pk, file_id=file.pk, lifetime=dt.timedelta(hours=1))
    client.get(
        reverse("storefront:release-download", args=[shop.slug, token]), HTTP_RANGE="bytes=100-"
    )
    assert DownloadAllowance.objects.get(grant=grant, file=file).used == 1


def _preview_url(shop, release, file) -> str:
    return reverse("storefront:release-preview", args=[shop.slug, release.product.slug, file.pk])


def test_a_gated_release_plays_only_its_previews(client, shop, make_release):
    """Given a free release behind the e-mail gate with a download and a preview, when its page
    and the preview address of the download file are asked for, then only the preview plays
    and the download file is a 404 (the address is what the download costs)."""
    release = make_release("Gated", preview=PREVIEW)
    download = release.files.get(role="download")
    preview = release.files.get(role="preview")
    assert client.get(_preview_url(shop, release, download)).status_code == 404
    assert _body(client.get(_preview_url(shop, release, preview))) == PREVIEW
    html = client.get(reverse("storefront:release", args=[shop.slug, release.product.slug]))
    assert _preview_url(shop, release, download) not in html.content.decode()


def test_an_ungated_free_release_plays_its_downloads(client, shop, make_release):
    """Given a free release anyone may download, then its song also plays from the page."""
    release = make_release("Open", email_gate=False)
    download = release.files.get(role="download")
    assert _body(client.get(_preview_url(shop, release, download))) == SONG


def test_an_open_link_counts_each_visitor_once_per_file_and_hour(client, shop, make_release):
    """Given a free release without a gate, when one visitor downloads its file five times
    (and seeks once), then every download streams but one is counted; a second visitor's is
    counted too (the hour's window is django-ratelimit's, on the real clock)."""
    release = make_release("Open Song", email_gate=False)
    release.refresh_from_db()
    [link] = open_links(release)
    url = reverse("storefront:release-download", args=[shop.slug, link.token])
    for _ in range(5):
        assert _body(client.get(url)) == SONG
    assert client.get(url, HTTP_RANGE="bytes=100-").status_code == 206
    assert Download.objects.filter(release=release).count() == 1
    assert _body(client.get(url, REMOTE_ADDR="198.51.100.7")) == SONG
    assert Download.objects.filter(release=release).count() == 2
