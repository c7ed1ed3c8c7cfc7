"""The maker's side of releases: a release made with its product, its price rule, and files
recognised by their bytes, stored in the private storage and removed from it."""

from __future__ import annotations

import io
import math
import struct
import wave
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from kinfolk.catalog.models import Product, Variant
from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.core.storage import private_storage
from kinfolk.releases.models import Release, ReleaseFile
from kinfolk.releases.services.setup import (
    release_create,
    release_file_add,
    release_file_move,
    release_file_remove,
    release_update,
)

pytestmark = pytest.mark.django_db


def wav_bytes(seconds: float = 0.2, rate: int = 8000) -> bytes:
    """Return a real WAV file: a 440 Hz tone."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
            for n in range(int(seconds * rate))
        )
        out.writeframes(frames)
    return buffer.getvalue()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "#6c5ce7").save(buffer, format="PNG")
    return buffer.getvalue()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("liner-notes.txt", "Recorded in Mangwon-dong.")
    return buffer.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def release(shop) -> Release:
    return release_create(shop=shop, name="Night Drive", pricing="free")


def test_a_release_is_made_with_a_digital_product_of_unlimited_stock(shop):
    """Given a KRW shop, when a pay-what-you-want release with a minimum of 3,000 is created,
    then one digital product with one unlimited variant at the minimum and its release exist."""
    release = release_create(
        shop=shop,
        name="Paper Moons EP",
        pricing="pwyw",
        price=3000,
        suggested_price=8000,
        email_gate=False,
        download_limit=3,
        link_hours=48,
        status="active",
    )
    product = Product.objects.get(pk=release.product_id)
    variant = Variant.objects.get(product=product)
    assert (product.kind, product.status, product.shop_id) == ("digital", "active", shop.pk)
    assert (variant.price, variant.stock) == (3000, None)
    assert (release.pricing, release.suggested_price) == ("pwyw", 8000)
    assert (release.email_gate, release.download_limit, release.link_hours) == (False, 3, 48)


@pytest.mark.parametrize(
    ("pricing", "price", "suggested", "variant_price", "kept_suggested"),
    [
        ("free", 5000, 9000, 0, None),
        ("fixed", 12000, 15000, 12000, None),
        ("pwyw", 0, None, 0, None),
        ("pwyw", 1000, 1000, 1000, 1000),
    ],
)
def test_the_variant_price_follows_the_price_rule(
    shop, pricing, price, suggested, variant_price, kept_suggested
):
    release = release_create(
        shop=shop, name="Song", pricing=pricing, price=price, suggested_price=suggested
    )
    assert Variant.objects.get(product=release.product).price == variant_price
    assert release.suggested_price == kept_suggested


@pytest.mark.parametrize(
    ("pricing", "price", "suggested", "field"),
    [
        ("fixed", None, None, "price"),
        ("fixed", 0, None, "price"),
        ("pwyw", None, None, "price"),
        ("pwyw", 5000, 4000, "suggested_price"),
        ("gift", 0, None, "pricing"),
    ],
)
def test_a_bad_price_rule_is_refused_and_nothing_is_made(shop, pricing, price, suggested, field):
    with pytest.raises(InvalidInput) as refused:
        release_create(
            shop=shop, name="Song", pricing=pricing, price=price, suggested_price=suggested
        )
    assert refused.value.field == field
    assert not Product.objects.filter(shop=shop).exists()
    assert not Release.objects.filter(shop=shop).exists()


def test_an_update_changes_the_rule_the_price_and_the_status(shop, release):
    """Given a free draft release, when it becomes a fixed-price active one, then the variant
    costs the price and the product is active; back to free, the price is 0 again."""
    release_update(
        shop=shop,
        release=release,
        name="Night Drive (deluxe)",
        pricing="fixed",
        price=7000,
        email_gate=False,
        download_limit=2,
        link_hours=12,
        status="active",
    )
    release.refresh_from_db()
    variant = Variant.objects.get(product=release.product)
    assert (release.product.name, release.product.status) == ("Night Drive (deluxe)", "active")
    assert (release.pricing, variant.price, release.download_limit) == ("fixed", 7000, 2)
    release_update(
        shop=shop,
        release=release,
        name="Night Drive",
        pricing="free",
        price=None,
        email_gate=True,
        download_limit=2,
        link_hours=12,
        status="active",
    )
    assert Variant.objects.get(product=release.product).price == 0


def test_limits_out_of_range_are_refused(shop, release):
    with pytest.raises(InvalidInput) as refused:
        release_update(
            shop=shop,
            release=release,
            name="x",
            pricing="free",
            price=None,
            email_gate=True,
            download_limit=0,
            link_hours=24,
            status="draft",
        )
    assert refused.value.field == "download_limit"


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("01 - Night Drive.wav", wav_bytes(), "audio/wav"),
        ("cover.png", png_bytes(), "image/png"),
        ("lyrics.pdf", PDF_BYTES, "application/pdf"),
        ("stems.zip", zip_bytes(), "application/zip"),
    ],
)
def test_real_files_are_recognised_by_their_bytes_and_stored_privately(
    shop, release, name, content, content_type
):
    """Given a real file sent with a misleading browser type, when it is added, then its kind
    comes from its bytes, and the private storage holds exactly its bytes."""
    row = release_file_add(shop=shop, release=release, upload=upload(name, content, "text/plain"))
    assert (row.name, row.content_type, row.size) == (name, content_type, len(content))
    with private_storage().open(row.file.name, "rb") as stored:
        assert stored.read() == content


def test_a_renamed_text_file_is_refused_and_nothing_is_stored(shop, release, tmp_path):
    before = set(_stored_files())
    with pytest.raises(InvalidInput) as refused:
        release_file_add(
            shop=shop,
            release=release,
            upload=upload("song.mp3", b"just some text, not a song\n" * 10, "audio/mpeg"),
        )
    assert refused.value.field == "file"
    assert not ReleaseFile.objects.filter(release=release).exists()
    assert set(_stored_files()) == before


def test_an_oversized_file_is_refused(shop, release, settings):
    settings.RELEASE_MAX_FILE_BYTES = 1000
    with pytest.raises(InvalidInput) as refused:
        release_file_add(shop=shop, release=release, upload=upload("long.wav", wav_bytes()))
    assert refused.value.code == "too_large"
    assert not ReleaseFile.objects.filter(release=release).exists()


def test_a_preview_must_be_audio(shop, release):
    with pytest.raises(InvalidInput):
        release_file_add(
            shop=shop, release=release, upload=upload("cover.png", png_bytes()), role="preview"
        )
    row = release_file_add(
        shop=shop, release=release, upload=upload("clip.wav", wav_bytes()), role="preview"
    )
    assert row.role == "preview"


def test_files_take_the_next_position_and_move(shop, release):
    rows = [
        release_file_add(shop=shop, release=release, upload=upload(f"{n}.wav", wav_bytes(0.01)))
        for n in range(3)
    ]
    assert [row.position for row in rows] == [0, 1, 2]
    release_file_move(shop=shop, release=release, file_id=rows[2].pk, offset=-1)
    order = list(ReleaseFile.objects.filter(release=release).values_list("name", flat=True))
    assert order == ["0.wav", "2.wav", "1.wav"]
    release_file_move(shop=shop, release=release, file_id=rows[0].pk, offset=-1)
    order = list(ReleaseFile.objects.filter(release=release).values_list("name", flat=True))
    assert order == ["0.wav", "2.wav", "1.wav"]


def test_removing_a_file_deletes_it_from_storage_after_commit(
    shop, release, django_capture_on_commit_callbacks
):
    row = release_file_add(shop=shop, release=release, upload=upload("a.wav", wav_bytes()))
    stored = row.file.name
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        release_file_remove(shop=shop, release=release, file_id=row.pk)
    assert private_storage().exists(stored)  # not before the commit
    for callback in callbacks:
        callback()
    assert not private_storage().exists(stored)
    assert not ReleaseFile.objects.filter(pk=row.pk).exists()


def test_a_file_of_another_release_cannot_be_removed(shop, release):
    other = release_create(shop=shop, name="Other", pricing="free")
    row = release_file_add(shop=shop, release=other, upload=upload("a.wav", wav_bytes()))
    with pytest.raises(NotFound):
        release_file_remove(shop=shop, release=release, file_id=row.pk)
    assert ReleaseFile.objects.filter(pk=row.pk).exists()


def test_a_failed_transaction_around_a_refused_file_keeps_the_release(shop, release):
    with pytest.raises(InvalidInput), transaction.atomic():
        release_file_add(shop=shop, release=release, upload=upload("x.wav", b"RIFF"))
    assert Release.objects.filter(pk=release.pk).exists()


def _stored_files() -> list[str]:
    storage = private_storage()
    found = []

    def walk(path: str) -> None:
        if not storage.exists(path or "."):
            return
        folders, files = storage.listdir(path)
        found.extend(f"{path}/{name}" for name in files)
        for folder in folders:
            walk(f"{path}/{folder}" if path else folder)

    walk("")
    return found
