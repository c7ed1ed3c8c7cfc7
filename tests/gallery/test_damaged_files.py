"""Damaged or strange files never end in a server error: a photo whose EXIF is broken is kept,
upright, without it; a file that fails to be read at all is refused with a clear message."""

from __future__ import annotations

import io
import logging
import random

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.urls import reverse
from PIL import Image

from kinfolk.core.errors import InvalidInput
from kinfolk.gallery.inspection import Inspected, exif_orientation, inspect_upload
from kinfolk.gallery.models import FanUpload
from kinfolk.gallery.services import upload_submit
from tests.gallery.conftest import ORIENTATION, jpeg_with_exif, stored_files, upload_file

pytestmark = pytest.mark.django_db

# The EXIF (after "Exif\0\0") of a photo that made Pillow's exif_transpose raise TypeError:
# Orientation 6 and a GPS directory whose entries were garbled, found by the mutation loop of
# ``test_no_mutation_of_an_exif_ends_in_anything_but_a_photo_or_a_refusal`` (seed 1).
DAMAGED_GPS_EXIF = bytes.fromhex(
    "4578696600004d4d002a00000008000201120003000000010006320088250004000000010000002600000000"
    "660200011302000000024e00000000020005000000030000004400000000000000010000000100000002000000"
    "015700000300000001"
)


def stored_image(upload: FanUpload) -> tuple[Image.Image, bytes]:
    with upload.file.storage.open(upload.file.name, "rb") as handle:
        raw = handle.read()
    image = Image.open(io.BytesIO(raw))
    image.load()
    return image, raw


def test_a_photo_with_a_damaged_gps_directory_is_kept_upright_without_its_exif(client, shop, fan):
    """Given a 16x8 JPEG (left half blue) whose EXIF says "turn 90° clockwise" and whose GPS
    directory is garbled (it made the upload page answer 500),
    when a fan posts it with the form,
    then it is stored, turned (8 wide, 16 high, the blue half on top), with no EXIF left."""
    content = jpeg_with_exif(DAMAGED_GPS_EXIF, size=(16, 8))
    client.force_login(fan)

    response = client.post(
        reverse("storefront:gallery-upload", args=[shop.slug]),
        {"file": upload_file("IMG_0001.jpg", content), "rights": "on"},
    )

    assert response.status_code == 303
    upload = FanUpload.objects.get()
    image, raw = stored_image(upload)
    assert (image.width, image.height) == (8, 16) == (upload.width, upload.height)
    top, bottom = image.getpixel((4, 2)), image.getpixel((4, 13))
    assert top[2] > 150 and top[0] < 100  # blue
    assert bottom[0] > 150 and bottom[2] < 100  # red
    assert len(image.getexif()) == 0 and b"Exif" not in raw


def test_no_mutation_of_an_exif_ends_in_anything_but_a_photo_or_a_refusal():
    """Given 400 photos whose EXIF (Orientation 6 and a GPS position) has random bytes changed
    or is cut short (the reproducer of the review's crash),
    when each is inspected,
    then each is either a clean photo (no EXIF written back) or refused with InvalidInput."""
    rnd = random.Random(1)
    base = Image.new("RGB", (8, 8)).getexif()
    base[ORIENTATION] = 6
    base[0x8825] = {1: "N", 2: (1.0, 2.0, 3.0)}
    good = base.tobytes()
    kept = refused = 0
    for index in range(400):
        payload = bytearray(good)
        for _ in range(rnd.randint(1, 6)):
            payload[rnd.randrange(len(payload))] = rnd.randrange(256)
        if index % 3 == 0:
            payload = payload[: rnd.randrange(8, len(payload))]
        try:
            inspected = inspect_upload(upload_file("x.jpg", jpeg_with_exif(bytes(payload))))
        except InvalidInput as exc:
            assert exc.field == "file"
            refused += 1
            continue
        assert isinstance(inspected, Inspected) and inspected.kind == "image"
        assert b"Exif" not in inspected.content.read()
        kept += 1
    assert kept + refused == 400 and kept > 0


def test_the_orientation_is_read_from_the_first_directory_only():
    """Given EXIF bytes in both byte orders, damaged, empty or with a wrong type,
    when their orientation is read, then only a well-placed SHORT from 1 to 8 counts."""
    assert exif_orientation(DAMAGED_GPS_EXIF) == 6
    little = (
        b"II*\x00\x08\x00\x00\x00\x01\x00" + b"\x12\x01\x03\x00\x01\x00\x00\x00\x08\x00\x00\x00"
    )
    assert exif_orientation(little) == 8
    assert exif_orientation(b"Exif\x00\x00" + little) == 8
    wrong_type = little.replace(b"\x12\x01\x03\x00", b"\x12\x01\x04\x00")
    assert exif_orientation(wrong_type) == 1
    out_of_range = little.replace(b"\x08\x00\x00\x00", b"\x09\x00\x00\x00")
    assert exif_orientation(out_of_range[:8] + b"\x01\x00" + out_of_range[10:]) == 1
    assert exif_orientation(little[:12]) == 1  # the directory is cut short
    assert exif_orientation(b"II*\x00\xff\xff\xff\x7f") == 1  # it points past the end
    assert exif_orientation(b"") == exif_orientation(None) == exif_orientation(b"junk") == 1


class DroppedStream(io.BytesIO):
    """The bytes of an upload whose reading fails after the first read, as a disk or
    connection that gives out does."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.reads = 0

    def read(self, *args):
        self.reads += 1
        if self.reads > 1:
            raise ConnectionResetError("the upload's stream was cut")
        return super().read(*args)


def test_a_file_that_fails_to_be_read_is_refused_as_unreadable_and_logged(shop, fan, caplog):
    """Given a photo whose bytes fail to be read part-way (nothing the checks foresee),
    when it is submitted,
    then it is refused on the file field as unreadable, the error is logged with its traceback,
    and nothing is stored."""
    from tests.gallery.conftest import jpeg_with_gps

    data = jpeg_with_gps()
    file = InMemoryUploadedFile(DroppedStream(data), "file", "a.jpg", "image/jpeg", len(data), None)
    before = stored_files()

    with (
        caplog.at_level(logging.ERROR, logger="kinfolk.gallery.inspection"),
        pytest.raises(InvalidInput) as refused,
    ):
        upload_submit(shop=shop, account=fan, file=file, rights_confirmed=True)

    assert refused.value.field == "file" and refused.value.code == "unreadable"
    assert "could not be read" in refused.value.message
    assert any(record.exc_info for record in caplog.records)
    assert not FanUpload.objects.exists() and stored_files() == before
