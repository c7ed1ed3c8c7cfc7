"""Where a video was taken, blanked out of its file without re-encoding it.

MP4 and MOV (ISO base media / QuickTime) files are a tree of boxes, each a size and a four-letter
type. Phones write the place a video was shot in one of three ways, all blanked here:

- ``©xyz`` in ``udta`` (Android, older iPhones): an ISO 6709 string such as
  ``+37.5665+126.9780/``, after a 2-byte length and a 2-byte language (kept); the text becomes
  spaces. An iTunes-style ``©xyz`` holding ``data`` boxes has the values blanked.
- ``com.apple.quicktime.location.*`` keys in a ``meta`` box (iPhones): ``keys`` names them, and
  the ``ilst`` item with the key's number holds the value in ``data`` boxes; the values (after
  their type and locale) become spaces.
- ``loci`` in ``udta`` (3GPP): everything after its version and flags becomes zeros.

Every change overwrites bytes with as many bytes, so no size and no offset (the sample tables
point into ``mdat`` by absolute offsets) moves: the file stays playable and the same length.
Only box headers are read, by seeking; a large ``mdat`` is stepped over, never read. A box
whose header does not fit in its parent ends the walk of that level (what was before it is still
blanked); the file is stored either way.

``meta`` is a full box (4 bytes of version and flags before its children) in ISO files but a
plain container in QuickTime files: it is told apart by whether a box type follows at once.

Not done: telemetry tracks (a GoPro's GPMF GPS stream) and XMP packets in ``uuid`` boxes are
left as they are. WebM and Matroska files are stored as they came: their ``Tags`` element could
hold any text, a place included, but browsers' and phones' recorders write none there, and
rewriting EBML element sizes in place is not possible without moving what follows.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator

from django.core.files.base import File

CHUNK_BYTES = 64 * 1024
# Boxes that only hold other boxes on the way to where a location is kept.
CONTAINERS = frozenset({b"moov", b"trak", b"udta", b"meta"})
XYZ = b"\xa9xyz"
LOCI = b"loci"
LOCATION_KEY_PREFIX = b"com.apple.quicktime.location."
# Key names longer than this are not location keys: skipped without being read.
MAX_KEY_BYTES = 256
# Deeper nesting than any real file's: a crafted file cannot make the walk recurse for ever.
MAX_DEPTH = 8


def location_scrub(file: File) -> File:
    """Blank the location metadata of the MP4 or MOV ``file`` and return the file to store: the
    same file, changed in place, when it can be written; else a temporary copy, changed."""
    target = file
    if not _writable(file):
        # Stays open: it is the content the storage saves, closed when the upload is done.
        target = File(tempfile.TemporaryFile(), name=getattr(file, "name", None))  # noqa: SIM115
        file.seek(0)
        shutil.copyfileobj(file, target.file, CHUNK_BYTES)
    target.seek(0, io.SEEK_END)
    size = target.tell()
    _walk(target, 0, size, 0)
    target.flush()
    target.seek(0)
    return target


def _writable(file: File) -> bool:
    try:
        return bool(file.writable())
    except (AttributeError, ValueError):
        return False


def _boxes(handle, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, first byte of the payload, end of the box) of each box from ``start`` to
    ``end``, stopping at the first header that does not fit."""
    at = start
    while at + 8 <= end:
        handle.seek(at)
        header = handle.read(8)
        if len(header) < 8:
            return
        size, kind, payload = int.from_bytes(header[:4], "big"), header[4:8], at + 8
        if size == 1:
            large = handle.read(8)
            if len(large) < 8:
                return
            size, payload = int.from_bytes(large, "big"), at + 16
        elif size == 0:
            size = end - at  # The box runs to the end of its parent.
        if size < payload - at or at + size > end:
            return
        if kind == b"uuid":
            payload = min(payload + 16, at + size)
        yield kind, payload, at + size
        at += size


def _walk(handle, start: int, end: int, depth: int) -> None:
    for kind, first, last in _boxes(handle, start, end):
        if kind == XYZ:
            _scrub_xyz(handle, first, last)
        elif kind == LOCI:
            _overwrite(handle, first + 4, last, b"\x00")
        elif kind == b"meta" and depth < MAX_DEPTH:
            _scrub_meta(handle, first, last, depth + 1)
        elif kind in CONTAINERS and depth < MAX_DEPTH:
            _walk(handle, first, last, depth + 1)


def _scrub_xyz(handle, first: int, last: int) -> None:
    handle.seek(first)
    head = handle.read(8)
    if head[4:8] == b"data":
        _scrub_data_boxes(handle, first, last)
    elif last - first > 4:
        _overwrite(handle, first + 4, last, b" ")
    else:
        _overwrite(handle, first, last, b"\x00")


def _looks_like_type(kind: bytes) -> bool:
    return len(kind) == 4 and all(0x20 <= byte < 0x7F or byte == 0xA9 for byte in kind)


def _scrub_meta(handle, first: int, last: int, depth: int) -> None:
    handle.seek(first)
    peek = handle.read(8)
    if not _looks_like_type(peek[4:8]):
        first += 4  # An ISO full box: version and flags come before the children.
    children = list(_boxes(handle, first, last))
    location_keys: set[int] = set()
    for kind, start, end in children:
        if kind == b"keys":
            location_keys |= _location_key_numbers(handle, start, end)
    for kind, start, end in children:
        if kind == b"ilst":
            _scrub_ilst(handle, start, end, location_keys)
        elif kind == XYZ:
            _scrub_xyz(handle, start, end)
        elif kind in CONTAINERS and depth < MAX_DEPTH:
            _walk(handle, start, end, depth + 1)


def _location_key_numbers(handle, first: int, last: int) -> set[int]:
    """Return the numbers (from 1) of the ``keys`` box's entries naming a location."""
    handle.seek(first + 4)  # Version and flags.
    count = int.from_bytes(handle.read(4), "big")
    numbers: set[int] = set()
    at = first + 8
    for number in range(1, count + 1):
        if at + 8 > last:
            break
        handle.seek(at)
        size = int.from_bytes(handle.read(4), "big")
        if size < 8 or at + size > last:
            break
        if size - 8 <= MAX_KEY_BYTES:
            handle.read(4)  # The namespace ("mdta").
            if handle.read(size - 8).startswith(LOCATION_KEY_PREFIX):
                numbers.add(number)
        at += size
    return numbers


def _scrub_ilst(handle, first: int, last: int, location_keys: set[int]) -> None:
    for kind, start, end in _boxes(handle, first, last):
        if kind == XYZ or int.from_bytes(kind, "big") in location_keys:
            _scrub_data_boxes(handle, start, end)


def _scrub_data_boxes(handle, first: int, last: int) -> None:
    for kind, start, end in _boxes(handle, first, last):
        if kind == b"data":
            # The value's type and locale (8 bytes) stay, so the item still reads as text.
            _overwrite(handle, start + 8, end, b" ")


def _overwrite(handle, first: int, last: int, fill: bytes) -> None:
    handle.seek(first)
    left = last - first
    while left > 0:
        step = min(CHUNK_BYTES, left)
        handle.write(fill * step)
        left -= step
