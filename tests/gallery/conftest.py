"""Real media files for the gallery tests, made with Pillow or written byte by byte."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kinfolk.core.storage import private_storage

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(size=(64, 32), orientation: int | None = None) -> bytes:
    """Return a real JPEG whose EXIF holds a GPS position (Seoul), a camera make and a comment."""
    image = Image.new("RGB", size, (200, 40, 40))
    for x in range(size[0] // 2):
        for y in range(size[1]):
            image.putpixel((x, y), (30, 90, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    if orientation:
        exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {
        1: "N",
        2: (37.0, 33.0, 59.0),
        3: "E",
        4: (126.0, 58.0, 40.0),
    }
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, comment=b"taken at home")
    return buffer.getvalue()


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGBA", size, (10, 120, 60, 200))
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Mina Kim")
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """Return a small PNG that claims 1.6 billion pixels: a decompression bomb's header."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * (width * 3)
    data = zlib.compress(row * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def mp4_bytes() -> bytes:
    """Return the start of a real MP4: an ``ftyp`` box (brand mp42) and an empty ``mdat``."""
    ftyp = struct.pack(">I", 24) + b"ftyp" + b"mp42" + struct.pack(">I", 0) + b"mp42isom"
    mdat = struct.pack(">I", 16) + b"mdat" + b"\x00" * 8
    return ftyp + mdat


def webm_bytes() -> bytes:
    """Return the start of a real WebM file: its EBML header with DocType "webm"."""
    body = (
        b"\x42\x86\x81\x01"  # EBMLVersion 1
        b"\x42\xf7\x81\x01"  # EBMLReadVersion 1
        b"\x42\xf2\x81\x04"  # EBMLMaxIDLength 4
        b"\x42\xf3\x81\x08"  # EBMLMaxSizeLength 8
        b"\x42\x82\x84webm"  # DocType "webm"
        b"\x42\x87\x81\x04"  # DocTypeVersion 4
        b"\x42\x85\x81\x02"  # DocTypeReadVersion 2
    )
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67\x01"


def upload_file(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files() -> set[str]:
    """Return every file under the private storage's gallery folder."""
    root = Path(private_storage().path("gallery"))
    if not root.exists():
        return set()
    return {str(path) for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def fan(make_user):
    return make_user("mina@example.com", name="Mina Kim")


@pytest.fixture
def staff(shop):
    from kinfolk.shops.models import Membership

    return Membership.objects.get(shop=shop).user


def jpeg_with_exif(exif_payload: bytes, size=(8, 8)) -> bytes:
    """Return a real JPEG with ``exif_payload`` written as its APP1 segment after "Exif\\0\\0",
    as they come: whatever the bytes say, damaged ones included."""
    image = Image.new("RGB", size, "red")
    for x in range(size[0] // 2):
        for y in range(size[1]):
            image.putpixel((x, y), (30, 90, 200))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    data = buffer.getvalue()
    app1 = b"Exif\x00\x00" + exif_payload
    segment = b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1
    return data[:2] + segment + data[2:]


def box(kind: bytes, payload: bytes = b"", *, large: bool = False) -> bytes:
    """Return one ISO base media box: its size, type and payload (a 64-bit size if ``large``)."""
    if large:
        return struct.pack(">I", 1) + kind + struct.pack(">Q", 16 + len(payload)) + payload
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, payload: bytes = b"") -> bytes:
    """Return a full box: version 0 and no flags before the payload."""
    return box(kind, b"\x00\x00\x00\x00" + payload)


SEOUL_ISO6709 = b"+37.5665+126.9780/"
