"""A fan downloads a free song in a real browser through the e-mail gate: gives their address,
reads the real e-mail (SMTP on loopback, sent by the Huey worker), confirms, and the file that
arrives through the browser's download has the song's bytes; then they copy their personal share
link, and a friend who opens it is counted as a visit through it. Screenshots at 390 and 1280 px."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

SEED_RELEASE = textwrap.dedent(
    """
    import io, json, math, struct, wave

    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kinfolk.releases.services.setup import release_create, release_file_add
    from kinfolk.shops.models import Shop

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1); out.setsampwidth(2); out.setframerate(8000)
        out.writeframes(b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / 8000)))
            for n in range(8000)
        ))
    song = buffer.getvalue()
    shop = Shop.objects.get(slug="moonlit")
    release = release_create(
        shop=shop, name="Night Drive (single)", status="active",
        description="Free for everyone who came to the show. **Thank you.**",
    )
    release_file_add(
        shop=shop, release=release,
        upload=SimpleUploadedFile("01 - 밤의 드라이브.wav", song, "audio/wav"),
    )
    # Behind the gate only a preview plays on the page.
    release_file_add(
        shop=shop, release=release, role="preview",
        upload=SimpleUploadedFile("preview.wav", song, "audio/wav"),
    )
    print(json.dumps({"slug": release.product.slug, "song": song.hex()}))
    """
)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_fan_downloads_a_free_song_through_the_email_gate(site, browser, tmp_path):
    # Given a free, e-mail-gated release on the running site
    done = subprocess.run(
        [sys.executable, "-c", SEED_RELEASE],
        env=site.env,
        cwd=site.data_dir,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    seeded = json.loads(done.stdout.strip().splitlines()[-1])
    song = bytes.fromhex(seeded["song"])
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        accept_downloads=True,
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    try:
        # When the fan opens its page, gives their address and leaves the list box unticked
        page.goto(f"{site.url}/moonlit/releases/{seeded['slug']}/")
        assert page.locator("audio").count() == 1
        assert not page.locator("input[name=marketing]").is_checked()
        _shot(page, "free-download-release-390")
        page.fill("input[name=email]", "listener@example.com")
        page.click("text=Send me the download link")
        page.wait_for_selector("text=Check your inbox")
        # Then the real e-mail arrives with the confirmation link
        message = site.inbox.wait_for(lambda m: m["To"] == "listener@example.com", timeout=30)
        assert message is not None, site.log_tail()
        text = message.get_body(preferencelist=("plain",)).get_content()
        link = re.search(r"https?://\S+/releases/get/\S+", text).group(0)
        # When they follow it and confirm
        page.goto(link)
        page.click("text=Confirm and download")
        page.wait_for_selector(".release-files")
        _shot(page, "free-download-files-390")
        # Then the file they download is the song
        with page.expect_download() as info:
            page.click(".release-files a")
        download = info.value
        path = tmp_path / "song.wav"
        download.save_as(path)
        assert path.read_bytes() == song
        assert download.suggested_filename == "01 - 밤의 드라이브.wav"
        page.set_viewport_size({"width": 1280, "height": 900})
        _shot(page, "free-download-files-1280")
        # When they copy their personal share link
        assert page.locator(".share-panel h2").inner_text() == "Your share link"
        page.click("[data-copy-button]")
        page.wait_for_selector("[data-copy-button][data-copied]")
        copied = page.evaluate("navigator.clipboard.readText()")
        # Then the clipboard holds the release page with their code
        assert copied.startswith(f"{site.url}/moonlit/releases/{seeded['slug']}/?via=")
        # And a friend opening it lands on the clean page, counted as a visit through the link
        friend = browser.new_context()
        try:
            friend_page = friend.new_page()
            friend_page.goto(copied)
            assert friend_page.url == f"{site.url}/moonlit/releases/{seeded['slug']}/"
        finally:
            friend.close()
        assert _share_visits(site) == 1
    finally:
        context.close()


def _share_visits(site) -> int:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import django; django.setup(); from kinfolk.referrals.models import ShareVisit; "
                "print(ShareVisit.objects.count())"
            ),
        ],
        env=site.env,
        cwd=site.data_dir,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return int(done.stdout.strip().splitlines()[-1])
