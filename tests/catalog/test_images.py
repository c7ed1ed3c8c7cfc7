"""Uploaded images are decoded before they are kept: a file that only claims to be one is refused."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kinfolk.catalog.models import ProductImage
from kinfolk.catalog.services import product_image_add
from kinfolk.core.errors import InvalidInput

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _image_bytes(fmt: str, size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "fmt", "content_type"),
    [("cover.png", "PNG", "image/png"), ("cover.jpg", "JPEG", "image/jpeg")],
)
def test_a_real_image_is_kept_with_its_size(shop, product, name, fmt, content_type):
    upload = SimpleUploadedFile(name, _image_bytes(fmt), content_type=content_type)
    image = product_image_add(shop=shop, product=product, upload=upload, alt="Front cover")
    image.refresh_from_db()
    assert (image.width, image.height) == (64, 48)
    assert image.alt == "Front cover"
    with Image.open(image.image.path) as stored:
        assert stored.format == fmt


def test_images_are_numbered_in_upload_order(shop, product):
    for name in ("a.png", "b.png"):
        product_image_add(
            shop=shop,
            product=product,
            upload=SimpleUploadedFile(name, _image_bytes("PNG"), content_type="image/png"),
        )
    assert list(product.images.values_list("position", flat=True)) == [0, 1]


def test_a_text_file_named_jpg_is_refused_with_a_clear_message(shop, product):
    upload = SimpleUploadedFile(
        "photo.jpg", b"just some text, not a photo\n", content_type="image/jpeg"
    )
    with pytest.raises(InvalidInput) as info:
        product_image_add(shop=shop, product=product, upload=upload)
    assert info.value.field == "image"
    assert info.value.message == "This file is not an image we can read."
    assert not ProductImage.objects.exists()


def test_a_truncated_image_is_refused(shop, product):
    data = _image_bytes("PNG", size=(300, 300))
    upload = SimpleUploadedFile("cut.png", data[: len(data) // 2], content_type="image/png")
    with pytest.raises(InvalidInput) as info:
        product_image_add(shop=shop, product=product, upload=upload)
    assert info.value.field == "image"


def test_an_image_in_an_unlisted_format_is_refused(shop, product):
    upload = SimpleUploadedFile("scan.bmp", _image_bytes("BMP"), content_type="image/bmp")
    with pytest.raises(InvalidInput, match="JPEG, PNG, WebP or GIF"):
        product_image_add(shop=shop, product=product, upload=upload)


def test_another_shop_s_product_cannot_get_images(make_shop, product):
    upload = SimpleUploadedFile("cover.png", _image_bytes("PNG"), content_type="image/png")
    with pytest.raises(InvalidInput, match="another shop"):
        product_image_add(shop=make_shop(), product=product, upload=upload)
