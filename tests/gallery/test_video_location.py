"""Where a video was shot is blanked out of MP4 and MOV files in place: the same length, the
same boxes at the same offsets, the location's bytes gone, everything else untouched."""

from __future__ import annotations

import struct
import tracemalloc

import pytest
from django.core.files.base import File
from django.core.files.uploadedfile import TemporaryUploadedFile

from kinfolk.gallery.models import FanUpload
from kinfolk.gallery.services import upload_submit
from kinfolk.gallery.video_location import location_scrub
from tests.gallery.conftest import SEOUL_ISO6709, box, full_box, upload_file

pytestmark = pytest.mark.django_db

FTYP = box(b"ftyp", b"mp42" + struct.pack(">I", 0) + b"mp42isom")
QT_FTYP = box(b"ftyp", b"qt  " + struct.pack(">I", 0) + b"qt  ")
MVHD = full_box(b"mvhd", b"\x00" * 96)
MDAT = box(b"mdat", b"\x11" * 64)
CONTAINERS = {b"moov", b"trak", b"udta", b"meta", b"ilst"}


def xyz(text: bytes) -> bytes:
    """Return a QuickTime user-data text atom: 2-byte length, 2-byte language, the text."""
    return box(b"\xa9xyz", struct.pack(">HH", len(text), 0x15C7) + text)


def structure(data: bytes, start: int = 0, end: int | None = None, meta_full: bool = True):
    """Return (offset, size, type) of every box, walking containers, as a plain reader would."""
    end = len(data) if end is None else end
    found, at = [], start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[at + 8 : at + 16])[0], 16
        found.append((at, size, kind))
        first = at + header + (4 if kind == b"meta" and meta_full else 0)
        if kind in CONTAINERS:
            found += structure(data, first, at + size, meta_full)
        at += size
    return found


def submit_video(shop, fan, content: bytes, name="clip.mp4") -> tuple[FanUpload, bytes]:
    upload = upload_submit(
        shop=shop,
        account=fan,
        file=upload_file(name, content, "video/mp4"),
        rights_confirmed=True,
    )
    with upload.file.storage.open(upload.file.name, "rb") as handle:
        return upload, handle.read()


def test_the_udta_location_of_an_mp4_is_blanked_in_place(shop, fan):
    """Given a minimal MP4 (ftyp, moov with mvhd and udta/©xyz "+37.5665+126.9780/", mdat),
    when it is uploaded,
    then the stored file has the same length and the same boxes at the same offsets, the
    coordinates are gone (the atom's length and language stay), and nothing else changed."""
    content = FTYP + box(b"moov", MVHD + box(b"udta", xyz(SEOUL_ISO6709))) + MDAT
    assert SEOUL_ISO6709 in content

    upload, stored = submit_video(shop, fan, content)

    assert len(stored) == len(content) == upload.size
    assert structure(stored) == structure(content)
    assert SEOUL_ISO6709 not in stored and b"37.5665" not in stored
    at = content.index(SEOUL_ISO6709)
    assert stored[at : at + len(SEOUL_ISO6709)] == b" " * len(SEOUL_ISO6709)
    assert stored[:at] == content[:at] and stored[at + len(SEOUL_ISO6709) :] == content[at + 18 :]


def quicktime_meta(*, full: bool) -> bytes:
    """Return an iPhone-style ``meta``: keys naming a location and a make, ilst with values."""
    hdlr = full_box(b"hdlr", b"\x00" * 4 + b"mdta" + b"\x00" * 13)
    names = [b"com.apple.quicktime.location.ISO6709", b"com.apple.quicktime.make"]
    keys = full_box(
        b"keys",
        struct.pack(">I", len(names))
        + b"".join(struct.pack(">I", 8 + len(name)) + b"mdta" + name for name in names),
    )

    def item(number: int, value: bytes) -> bytes:
        data = box(b"data", struct.pack(">II", 1, 0) + value)
        return box(struct.pack(">I", number), data)

    ilst = box(b"ilst", item(1, b"+37.5665+126.9780+025.000/") + item(2, b"Apple"))
    payload = hdlr + keys + ilst
    return box(b"meta", (b"\x00" * 4 if full else b"") + payload)


@pytest.mark.parametrize("full_meta", [False, True], ids=["quicktime-meta", "iso-meta"])
def test_apple_location_keys_are_blanked_and_other_keys_kept(shop, fan, full_meta):
    """Given a MOV whose moov/meta (QuickTime style without version, or ISO style with it) has
    keys com.apple.quicktime.location.ISO6709 and .make, and whose mdat comes first with a
    64-bit size,
    when it is uploaded,
    then the location value is spaces, the make is still "Apple", and length and structure
    are the same."""
    mdat = box(b"mdat", b"\x22" * 40, large=True)
    content = QT_FTYP + mdat + box(b"moov", MVHD + quicktime_meta(full=full_meta))

    upload, stored = submit_video(shop, fan, content, name="IMG_0042.MOV")

    assert upload.content_type == "video/quicktime"
    assert len(stored) == len(content)
    assert structure(stored, meta_full=full_meta) == structure(content, meta_full=full_meta)
    assert b"+37.5665" not in stored and b"126.9780" not in stored
    assert b"Apple" in stored and b"com.apple.quicktime.location.ISO6709" in stored
    assert stored.replace(b" " * 26, b"+37.5665+126.9780+025.000/") == content


def test_a_3gpp_loci_box_and_an_ilst_xyz_item_are_blanked(shop, fan):
    """Given an MP4 whose udta holds a 3GPP ``loci`` box and an iTunes-style meta/ilst/©xyz
    item, when it is uploaded, then both places are gone and the structure is the same."""
    loci = full_box(b"loci", b"\x15\xc7" + b"Home\x00" + b"\x00" + b"\x00\x7e\x00\x00" * 3)
    ilst_xyz = box(b"\xa9xyz", box(b"data", struct.pack(">II", 1, 0) + SEOUL_ISO6709))
    meta = full_box(b"meta", full_box(b"hdlr", b"\x00" * 20) + box(b"ilst", ilst_xyz))
    content = FTYP + box(b"moov", MVHD + box(b"udta", loci + meta)) + MDAT

    _upload, stored = submit_video(shop, fan, content)

    assert len(stored) == len(content) and structure(stored) == structure(content)
    assert b"Home" not in stored and b"\x00\x7e\x00\x00" not in stored
    assert SEOUL_ISO6709 not in stored


def test_a_damaged_box_tree_is_stored_without_error(shop, fan):
    """Given an MP4 whose udta claims more bytes than its parent holds, after a ©xyz that does
    fit, when it is uploaded, then it is stored, the same length, with that location blanked."""
    udta = box(b"udta", xyz(SEOUL_ISO6709))
    broken = struct.pack(">I", 10_000) + b"udta" + b"junk"
    content = FTYP + box(b"moov", MVHD + udta + broken) + MDAT

    _upload, stored = submit_video(shop, fan, content)

    assert len(stored) == len(content) and SEOUL_ISO6709 not in stored


def test_a_large_video_on_disk_is_scrubbed_without_being_read_into_memory():
    """Given a 24 MB MP4 uploaded to a temporary file (as Django keeps large uploads), whose
    moov with a location comes after the mdat,
    when it is scrubbed, then the location is gone in the same file, and Python never held
    more than 1 MB of it at once."""
    file = TemporaryUploadedFile("clip.mp4", "video/mp4", 0, None)
    file.write(FTYP)
    file.write(struct.pack(">I", 8 + 24 * 1024 * 1024) + b"mdat")
    for _ in range(24):
        file.write(b"\x33" * 1024 * 1024)
    moov = box(b"moov", MVHD + box(b"udta", xyz(SEOUL_ISO6709)))
    file.write(moov)
    file.flush()
    size = file.tell()

    tracemalloc.start()
    try:
        scrubbed = location_scrub(file)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert scrubbed is file and peak < 1024 * 1024
    with open(file.temporary_file_path(), "rb") as handle:
        handle.seek(size - len(moov))
        tail = handle.read()
        assert handle.tell() == size
    assert SEOUL_ISO6709 not in tail and tail[:8] == moov[:8]
    file.close()


def test_a_file_that_cannot_be_written_is_scrubbed_in_a_copy(tmp_path):
    """Given an MP4 with a location opened read-only from disk,
    when it is scrubbed, then a copy without the location is returned and the original file
    is left as it was."""
    content = FTYP + box(b"moov", MVHD + box(b"udta", xyz(SEOUL_ISO6709))) + MDAT
    path = tmp_path / "clip.mp4"
    path.write_bytes(content)
    with open(path, "rb") as handle:
        original = File(handle, name="clip.mp4")
        scrubbed = location_scrub(original)
        copy = scrubbed.read()
    scrubbed.close()

    assert scrubbed is not original and len(copy) == len(content)
    assert SEOUL_ISO6709 not in copy and structure(copy) == structure(content)
    assert path.read_bytes() == content
