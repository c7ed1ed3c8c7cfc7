"""Signed download links: a valid link streams the file and counts once; an expired, tampered or
foreign link gets a clear page; ranges resume without counting; HEAD never counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import FileResponse
from django.urls import reverse
from tests.releases.conftest import SONG

from kinfolk.crm.models import Interaction
from kinfolk.crm.services import customer_get_or_create
from kinfolk.releases.links import download_token
from kinfolk.releases.models import Download, DownloadAllowance
from kinfolk.releases.services import grant_give

pytestmark = pytest.mark.django_db


@pytest.fixture
def grant(shop, free_release):
    customer = customer_get_or_create(shop=shop, email="fan@example.com")
    return grant_give(shop=shop, release=free_release, customer=customer, source="free")


def _url(shop, grant, file, hours: int = 24) -> str:
    token = download_token(grant_id=grant.pk, file_id=file.pk, lifetime=dt.timedelta(hours=hours))
    return reverse("storefront:release-download", args=[shop.slug, token])


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_valid_link_streams_the_file_and_counts_one_download(client, shop, grant):
    # Given a fan's grant and a fresh link to its file
    file = grant.release.files.get()
    # When the fan follows it
    response = client.get(_url(shop, grant, file))
    # Then the file streams (never built in memory) as an attachment with its length
    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert response["Content-Length"] == str(len(SONG))
    assert "attachment" in response["Content-Disposition"]
    assert _body(response) == SONG
    # And one download is counted, recorded and put on the fan's timeline
    assert DownloadAllowance.objects.get(grant=grant, file=file).used == 1
    assert Download.objects.filter(grant=grant, file=file).count() == 1
    assert (
        Interaction.objects.filter(
            customer=grant.customer, kind="download", subject_type="release"
        ).count()
        == 1
    )


def test_a_korean_file_name_reaches_the_browser(client, shop, make_release):
    # Given a release whose file has a Korean name
    release = make_release("밤의 드라이브", file_name="01 - 밤의 드라이브.wav")
    customer = customer_get_or_create(shop=shop, email="fan@example.com")
    grant = grant_give(shop=shop, release=release, customer=customer, source="free")
    # When it is downloaded
    response = client.get(_url(shop, grant, release.files.get()))
    # Then the name travels encoded (RFC 5987) and the bytes are the file's
    assert "filename*=utf-8''01%20-%20%EB%B0%A4" in response["Content-Disposition"]
    assert _body(response) == SONG


@pytest.mark.django_db(transaction=True)
def test_an_expired_link_offers_a_fresh_one_and_counts_nothing(
    client, shop, grant, moving_clock, smtp_server, run_tasks
):
    # Given a link issued for one hour
    file = grant.release.files.get()
    url = _url(shop, grant, file, hours=1)
    # When it is used two hours later
    moving_clock.advance(hours=2)
    response = client.get(url)
    # Then a clear page says so and offers to send a fresh link, and nothing was counted
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert "Send me a fresh link" in response.content.decode()
    assert not DownloadAllowance.objects.filter(grant=grant, used__gt=0).exists()
    # When the fan asks for a fresh link
    fresh = client.post(url + "fresh/")
    run_tasks()
    # Then it goes to the grant's own address (never one typed in) and works
    assert fresh.status_code == 200
    assert [m["To"] for m in smtp_server.messages] == ["fan@example.com"]
    from tests.releases.conftest import body_of, link_in

    path = link_in(body_of(smtp_server.messages[0]), "/downloads/")
    assert _body(client.get(path)) == SONG
    # And asking again at once is refused with a clear message (throttled)
    again = client.post(url + "fresh/")
    assert again.status_code == 429
    assert len(smtp_server.messages) == 1


def test_a_tampered_link_is_a_clear_404(client, shop, grant):
    # Given a genuine link with one character changed in its signature
    url = _url(shop, grant, grant.release.files.get())
    tampered = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]
    # When it is followed
    response = client.get(tampered)
    # Then a clear page answers and nothing is counted
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    assert not Download.objects.exists()


@pytest.mark.parametrize("token", ["x", "a" * 5000, "%00", "W1swLDAsMF0:abc:def"])
def test_garbage_tokens_never_500(client, shop, token):
    response = client.get(f"/{shop.slug}/downloads/{token}/")
    assert response.status_code == 404


def test_a_link_to_another_release_file_is_refused(client, shop, grant, make_release):
    # Given a genuine signature over the fan's grant and a file of another release
    other = make_release("Other Song")
    url = _url(shop, grant, other.files.get())
    # Then it is not a way into that release
    assert client.get(url).status_code == 404


def test_the_limit_stops_downloads_with_a_clear_page(client, shop, make_release):
    release = make_release("Limited", download_limit=2)
    customer = customer_get_or_create(shop=shop, email="fan@example.com")
    grant = grant_give(shop=shop, release=release, customer=customer, source="free")
    url = _url(shop, grant, release.files.get())
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 403]
    assert "No downloads left" in client.get(url).content.decode()
    assert DownloadAllowance.objects.get(grant=grant).used == 2


def test_a_range_resumes_without_counting_and_a_range_from_zero_counts(client, shop, grant):
    url = _url(shop, grant, grant.release.files.get())
    # Given a download started (and counted) a moment ago
    assert _body(client.get(url, HTTP_RANGE="bytes=0-99")) == SONG[:100]
    assert DownloadAllowance.objects.get(grant=grant).used == 1
    # A resume from byte 100 gets the rest, counts nothing
    resume = client.get(url, HTTP_RANGE="bytes=100-")
    assert resume.status_code == 206
    assert resume["Content-Range"] == f"bytes 100-{len(SONG) - 1}/{len(SONG)}"
    assert resume["Content-Length"] == str(len(SONG) - 100)
    assert _body(resume) == SONG[100:]
    assert DownloadAllowance.objects.get(grant=grant).used == 1
    # A bounded range in the middle gets exactly those bytes
    middle = client.get(url, HTTP_RANGE="bytes=10-19")
    assert _body(middle) == SONG[10:20]
    # A suffix range gets the last bytes
    assert _body(client.get(url, HTTP_RANGE="bytes=-5")) == SONG[-5:]
    assert DownloadAllowance.objects.get(grant=grant).used == 1
    # A range from 0 is a fresh start: it counts
    start = client.get(url, HTTP_RANGE="bytes=0-99")
    assert _body(start) == SONG[:100]
    assert DownloadAllowance.objects.get(grant=grant).used == 2


@pytest.mark.parametrize("header", ["bytes=999999-", "bytes=50-10", "bytes=-0", "bytes=x-y"])
def test_an_unsatisfiable_range_is_416(client, shop, grant, header):
    response = client.get(_url(shop, grant, grant.release.files.get()), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(SONG)}"


def test_head_gives_the_headers_and_counts_nothing(client, shop, grant):
    response = client.head(_url(shop, grant, grant.release.files.get()))
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(SONG))
    assert response.content == b""
    assert not Download.objects.exists()


def test_the_library_link_of_another_fan_is_404(client, shop, grant, make_user):
    # Given a fan's grant, and another fan logged in
    client.force_login(make_user("stranger@example.com"))
    file = grant.release.files.get()
    # When the stranger asks the library for it
    response = client.get(reverse("storefront:library-download", args=[grant.pk, file.pk]))
    # Then it is not theirs
    assert response.status_code == 404


def test_the_library_issues_a_fresh_link_to_the_owner(client, shop, free_release, make_user):
    fan = make_user("owner@example.com")
    client.force_login(fan)
    client.post(reverse("storefront:release-get", args=[shop.slug, free_release.product.slug]))
    grant = free_release.grants.get()
    file = free_release.files.get()
    response = client.get(reverse("storefront:library-download", args=[grant.pk, file.pk]))
    assert response.status_code == 302
    assert _body(client.get(response["Location"])) == SONG
    # An unknown file id is a 404, not an error
    assert (
        client.get(reverse("storefront:library-download", args=[grant.pk, 10**17])).status_code
        == 404
    )


def test_the_preview_player_streams_with_ranges(client, shop, make_release):
    from tests.releases.conftest import PREVIEW

    release = make_release("Paid Song", pricing="fixed", price=5000, preview=PREVIEW)
    preview = release.files.get(role="preview")
    download = release.files.get(role="download")
    base = f"/{shop.slug}/releases/{release.product.slug}/preview/"
    response = client.get(f"{base}{preview.pk}/", HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206
    assert _body(response) == PREVIEW[:10]
    # A paid release's download file is not streamed to anyone
    assert client.get(f"{base}{download.pk}/").status_code == 404
    assert client.get(f"{base}999999/").status_code == 404
