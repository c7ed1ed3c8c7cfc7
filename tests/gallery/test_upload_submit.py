"""Uploads with real files: photos come out decoded and without metadata, videos are known by
their container, and anything else is refused with nothing stored."""

from __future__ import annotations

import io

import pytest
from django.test import override_settings
from PIL import Image

from kinfolk.core.errors import InvalidInput
from kinfolk.crm.models import Interaction
from kinfolk.gallery.models import FanUpload
from kinfolk.gallery.services import upload_submit
from tests.gallery.conftest import (
    GPS_IFD,
    jpeg_with_gps,
    mp4_bytes,
    png_bomb,
    png_bytes,
    stored_files,
    upload_file,
    webm_bytes,
)

pytestmark = pytest.mark.django_db


def submit(shop, fan, file, **extra):
    extra.setdefault("rights_confirmed", True)
    return upload_submit(shop=shop, account=fan, file=file, **extra)


def stored_image(upload: FanUpload) -> Image.Image:
    with upload.file.storage.open(upload.file.name, "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def assert_refused(shop, fan, file, code: str, **extra) -> InvalidInput:
    """Submit ``file``; assert it is refused on the file field with nothing stored."""
    files_before = stored_files()
    with pytest.raises(InvalidInput) as refused:
        submit(shop, fan, file, **extra)
    assert refused.value.field == "file"
    assert refused.value.code == code
    assert not FanUpload.objects.exists()
    assert not Interaction.objects.filter(kind=Interaction.Kind.UPLOAD).exists()
    assert stored_files() == files_before
    return refused.value


def test_a_jpeg_with_gps_comes_out_without_any_metadata(shop, fan):
    """Given a phone photo whose EXIF holds a GPS position, camera and comment,
    when it is submitted,
    then the stored JPEG decodes, has the same size and holds no EXIF, GPS, XMP or comment."""
    original = jpeg_with_gps()
    source = Image.open(io.BytesIO(original))
    assert source.getexif().get_ifd(GPS_IFD)  # the fixture really carries a position

    upload = submit(shop, fan, upload_file("IMG_2041.jpg", original), caption="Front row!")

    image = stored_image(upload)
    assert image.format == "JPEG"
    assert (image.width, image.height) == (64, 32) == (upload.width, upload.height)
    assert len(image.getexif()) == 0
    assert not image.getexif().get_ifd(GPS_IFD)
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(image.info)
    with upload.file.storage.open(upload.file.name, "rb") as handle:
        raw = handle.read()
    assert b"Exif" not in raw and b"PhoneMaker" not in raw and b"taken at home" not in raw
    assert upload.kind == "image" and upload.content_type == "image/jpeg"
    assert upload.status == FanUpload.Status.PENDING
    assert upload.size == len(raw)
    # The fan's own file name (it may carry a name or a date) is not kept.
    assert "IMG_2041" not in upload.file.name and upload.file.name.endswith(".jpg")


def test_a_photo_is_turned_upright_by_its_orientation_tag(shop, fan):
    """Given a JPEG stored sideways with Orientation 6 (rotate 90° clockwise),
    when it is submitted,
    then the stored picture is upright (portrait) and has no orientation tag left."""
    upload = submit(shop, fan, upload_file("side.jpg", jpeg_with_gps((60, 20), orientation=6)))

    image = stored_image(upload)
    assert (image.width, image.height) == (20, 60)
    assert len(image.getexif()) == 0


def test_a_png_stays_a_png_without_its_text_chunks(shop, fan):
    """Given a PNG with transparency and an Author text chunk, when submitted, then it is
    stored as a PNG with its alpha and without the text."""
    upload = submit(shop, fan, upload_file("shirt.png", png_bytes(), "image/png"))

    image = stored_image(upload)
    assert image.format == "PNG" and image.mode == "RGBA"
    assert upload.content_type == "image/png" and upload.file.name.endswith(".png")
    assert "Author" not in image.info and "Mina" not in str(image.info)


def test_a_renamed_text_file_is_refused(shop, fan):
    """Given a text file named .jpg and sent as image/jpeg, when submitted, then it is refused
    with a clear message and nothing is stored."""
    error = assert_refused(
        shop, fan, upload_file("photo.jpg", b"just some text, not a photo\n" * 20), "not_media"
    )
    assert "JPEG" in error.message


def test_a_truncated_jpeg_is_refused(shop, fan):
    """Given a JPEG cut off halfway, when submitted, then it is refused as damaged."""
    whole = jpeg_with_gps((300, 200))
    assert_refused(shop, fan, upload_file("cut.jpg", whole[: len(whole) // 2]), "damaged")


@override_settings(GALLERY_MAX_IMAGE_BYTES=1000)
def test_an_oversized_photo_is_refused(shop, fan):
    """Given a photo limit of 1000 bytes, when a larger real photo is submitted, then it is
    refused for its size."""
    content = jpeg_with_gps((300, 200))
    assert len(content) > 1000
    error = assert_refused(shop, fan, upload_file("big.jpg", content), "too_large")
    assert "MB" in error.message


def test_a_decompression_bomb_is_refused_from_its_header(shop, fan):
    """Given a small PNG that claims 40,000 × 40,000 pixels, when submitted, then it is refused
    for its pixel count (without being decoded)."""
    content = png_bomb()
    assert len(content) < 200_000
    assert_refused(shop, fan, upload_file("bomb.png", content, "image/png"), "too_many_pixels")


@override_settings(GALLERY_MAX_IMAGE_PIXELS=1000)
def test_the_pixel_limit_comes_from_settings(shop, fan):
    """Given a limit of 1000 pixels, when a 64 × 32 photo is submitted, then it is refused."""
    assert_refused(shop, fan, upload_file("a.jpg", jpeg_with_gps()), "too_many_pixels")


def test_a_real_mp4_header_is_taken_as_a_video(shop, fan):
    """Given the start of a real MP4 (ftyp box, brand mp42) named .mov and sent as text/plain,
    when submitted, then it is stored as an MP4 video, byte for byte, from its container."""
    content = mp4_bytes()
    upload = submit(shop, fan, upload_file("concert.mov", content, "text/plain"))

    assert (upload.kind, upload.content_type) == ("video", "video/mp4")
    assert upload.file.name.endswith(".mp4") and upload.size == len(content)
    with upload.file.storage.open(upload.file.name, "rb") as handle:
        assert handle.read() == content


def test_a_webm_header_is_taken_as_a_video(shop, fan):
    """Given the start of a real WebM file, when submitted, then it is a WebM video."""
    upload = submit(shop, fan, upload_file("clip.webm", webm_bytes(), "video/webm"))
    assert (upload.kind, upload.content_type) == ("video", "video/webm")


def test_a_text_file_named_mp4_is_refused(shop, fan):
    """Given a text file named .mp4 and sent as video/mp4, when submitted, then it is refused."""
    assert_refused(
        shop,
        fan,
        upload_file("clip.mp4", b"ftyp is not at the start\n" * 10, "video/mp4"),
        "not_media",
    )


@override_settings(GALLERY_MAX_VIDEO_BYTES=20)
def test_an_oversized_video_is_refused(shop, fan):
    """Given a video limit of 20 bytes, when a 40-byte MP4 is submitted, then it is refused."""
    assert_refused(shop, fan, upload_file("clip.mp4", mp4_bytes(), "video/mp4"), "too_large")


def test_the_fan_must_confirm_they_may_share_it(shop, fan):
    """Given the sharing box unticked, when a photo is submitted, then it is refused on that
    field and nothing is stored."""
    before = stored_files()
    with pytest.raises(InvalidInput) as refused:
        submit(shop, fan, upload_file("a.jpg", jpeg_with_gps()), rights_confirmed=False)
    assert refused.value.field == "rights"
    assert not FanUpload.objects.exists() and stored_files() == before


def test_an_unconfirmed_account_cannot_upload(shop, make_user):
    """Given an account whose address is not confirmed, when it submits, then it is refused."""
    stranger = make_user("unconfirmed@example.com", email_confirmed_at=None)
    with pytest.raises(InvalidInput) as refused:
        submit(shop, stranger, upload_file("a.jpg", jpeg_with_gps()))
    assert refused.value.code == "unconfirmed"
    assert not FanUpload.objects.exists()


def test_a_product_of_another_shop_is_refused(shop, fan, make_shop, make_product):
    """Given a product of another shop, when named with an upload, then it is refused."""
    other = make_product(make_shop("elsewhere"))
    with pytest.raises(InvalidInput) as refused:
        submit(shop, fan, upload_file("a.jpg", jpeg_with_gps()), product_id=other.pk)
    assert refused.value.field == "product"
    assert not FanUpload.objects.exists()


def test_an_upload_lands_on_the_fans_timeline(shop, fan, product):
    """Given a fan, when they upload a photo of a product, then their customer record (linked
    to their account) gets an UPLOAD interaction naming it."""
    upload = submit(
        shop, fan, upload_file("a.jpg", jpeg_with_gps()), credit="Mina", product_id=product.pk
    )

    assert upload.customer.account_id == fan.pk and upload.product_id == product.pk
    event = Interaction.objects.get(shop=shop, kind=Interaction.Kind.UPLOAD)
    assert event.customer_id == upload.customer_id
    assert (event.subject_type, event.subject_id) == ("fan_upload", str(upload.pk))
