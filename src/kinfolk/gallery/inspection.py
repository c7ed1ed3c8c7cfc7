"""What a fan's file really is, read from its bytes: a photo decoded and re-encoded clean, or a
video whose container is known. The file's name and the browser's content type are never trusted.

Photos (JPEG, PNG, WebP) are decoded whole with Pillow, which proves they are images and not
something renamed; a picture of more pixels than ``GALLERY_MAX_IMAGE_PIXELS`` is refused from its
header alone, before decoding (a small file can unpack to gigabytes: a decompression bomb). The
decoded picture is turned upright by its orientation tag and written again in its own format
without any of the original's metadata: no EXIF (GPS position, camera serial, time), no XMP, no
comments; a colour profile is applied to the pixels (converted to sRGB) rather than kept. Of the
EXIF only the Orientation entry of its first directory is read, by ``exif_orientation`` and not by
Pillow, so a damaged EXIF (a phone app's bad GPS directory) loses nothing but itself.

Videos are checked by their container's header: an ISO base media file (MP4, MOV, 3GP) starts
with an ``ftyp`` box naming a brand, a WebM or Matroska file with an EBML header naming its
document type. They are stored as they came, but for the location an MP4 or MOV file carries,
blanked in place (``video_location``).

A file whose reading fails in a way nothing here foresaw is refused as unreadable (and the error
logged): an upload never ends in a server error.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.utils.translation import gettext as _
from PIL import Image, ImageCms

from kinfolk.core.errors import InvalidInput
from kinfolk.gallery.video_location import location_scrub

logger = logging.getLogger(__name__)

MB = 1024 * 1024
MAX_IMAGE_BYTES = 15 * MB
MAX_VIDEO_BYTES = 200 * MB
# 50 million pixels: more than any phone camera takes (a 200 MP sensor saves 50 MP by default).
MAX_IMAGE_PIXELS = 50_000_000

# Pillow format → (content type, extension) of the re-encoded file. MPO is a JPEG with extra
# frames (phones' depth or burst shots): the first frame is kept, as a JPEG.
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", "jpg", "JPEG"),
    "MPO": ("image/jpeg", "jpg", "JPEG"),
    "PNG": ("image/png", "png", "PNG"),
    "WEBP": ("image/webp", "webp", "WEBP"),
}
# The decoders tried (JPEG's also opens MPO files): nothing else of Pillow's many formats.
OPEN_FORMATS = ["JPEG", "PNG", "WEBP"]
# Brands of an ISO base media file's ``ftyp`` box that phones and cameras write.
MP4_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"M4V ",
        b"M4VH",
        b"M4VP",
        b"mmp4",
        b"MSNV",
        b"XAVC",
        b"dash",
        b"3gp4",
        b"3gp5",
        b"3gp6",
        b"3g2a",
    }
)
QUICKTIME_BRAND = b"qt  "
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
# How much of a file's start is read to tell its kind.
HEADER_BYTES = 4096
ORIENTATION_TAG = 0x0112
EXIF_SHORT = 3
# Orientation → the turn or flip that makes the picture upright (as the EXIF standard says).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(?:="|>)([1-8])')


@dataclass(frozen=True)
class Inspected:
    """A file found acceptable: what to store and what it is."""

    kind: str  # "image" or "video" (FanUpload.Kind)
    content: File
    content_type: str
    extension: str
    size: int
    width: int | None = None
    height: int | None = None


def max_image_bytes() -> int:
    return getattr(settings, "GALLERY_MAX_IMAGE_BYTES", MAX_IMAGE_BYTES)


def max_video_bytes() -> int:
    return getattr(settings, "GALLERY_MAX_VIDEO_BYTES", MAX_VIDEO_BYTES)


def max_image_pixels() -> int:
    return getattr(settings, "GALLERY_MAX_IMAGE_PIXELS", MAX_IMAGE_PIXELS)


def _megabytes(size: int) -> str:
    return f"{size / MB:.0f}" if size >= MB else f"{size / MB:.2f}"


def _refuse(message: str, code: str) -> InvalidInput:
    return InvalidInput(message, field="file", code=code)


def inspect_upload(file: File) -> Inspected:
    """Return what ``file`` is, ready to store; raise InvalidInput (field "file") when it is not
    a photo or video the gallery takes, is too large, or cannot be read at all."""
    try:
        return _inspect(file)
    except InvalidInput:
        raise
    except Exception:
        # A decoder's unforeseen failure on a strange file is the file's fault, not the fan's
        # to see as a server error; it is logged to find what the file did.
        logger.exception("A gallery upload could not be inspected.")
        raise _refuse(
            _("This file could not be read. It may be damaged: try another photo or video."),
            "unreadable",
        ) from None


def _inspect(file: File) -> Inspected:
    file.seek(0)
    header = file.read(HEADER_BYTES)
    file.seek(0)
    if not header:
        raise _refuse(_("This file is empty."), "empty")
    video_type = video_container(header)
    if video_type is not None:
        return _inspect_video(file, header, video_type)
    return _inspect_image(file)


def video_container(header: bytes) -> tuple[str, str] | None:
    """Return (content type, extension) of the video container ``header`` starts, or None."""
    if len(header) >= 12 and header[4:8] == b"ftyp":
        box_size = int.from_bytes(header[0:4], "big")
        if box_size < 16 and box_size != 0:
            return None
        major = header[8:12]
        end = min(len(header), box_size) if box_size else min(len(header), 64)
        compatible = {header[i : i + 4] for i in range(16, end - 3, 4)}
        if major == QUICKTIME_BRAND:
            return ("video/quicktime", "mov")
        if major in MP4_BRANDS or compatible & MP4_BRANDS:
            return ("video/mp4", "mp4")
        if QUICKTIME_BRAND in compatible:
            return ("video/quicktime", "mov")
        return None
    if header.startswith(EBML_MAGIC):
        # The DocType element (id 0x4282) is among the EBML header's first few bytes.
        head = header[:64]
        at = head.find(b"\x42\x82")
        if at != -1:
            doc_type = head[at + 3 : at + 3 + 8]
            if doc_type.startswith(b"webm"):
                return ("video/webm", "webm")
            if doc_type.startswith(b"matroska"):
                return ("video/x-matroska", "mkv")
    return None


def _inspect_video(file: File, header: bytes, container: tuple[str, str]) -> Inspected:
    size = _size_of(file)
    limit = max_video_bytes()
    if size > limit:
        raise _refuse(
            _("This video is %(size)s MB; videos may be up to %(limit)s MB.")
            % {"size": _megabytes(size), "limit": _megabytes(limit)},
            "too_large",
        )
    content_type, extension = container
    if extension in ("mp4", "mov"):
        file = location_scrub(file)
    return Inspected(
        kind="video", content=file, content_type=content_type, extension=extension, size=size
    )


def _size_of(file: File) -> int:
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
        file.seek(0)
    return size


def _not_a_photo() -> InvalidInput:
    return _refuse(
        _(
            "This file is not a photo or video the gallery can show. Choose a JPEG, PNG or WebP "
            "photo, or an MP4, MOV or WebM video."
        ),
        "not_media",
    )


def _inspect_image(file: File) -> Inspected:
    size = _size_of(file)
    limit = max_image_bytes()
    if size > limit:
        raise _refuse(
            _("This photo is %(size)s MB; photos may be up to %(limit)s MB.")
            % {"size": _megabytes(size), "limit": _megabytes(limit)},
            "too_large",
        )
    data = file.read()
    file.seek(0)
    with warnings.catch_warnings():
        # Pillow's own bomb guard warns below its hard limit; here any warning refuses the file.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # Pillow reads the EXIF's first directory on opening a JPEG (for its resolution) and
        # warns of what is damaged there: nothing of it is kept, so nothing to hear.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.TiffImagePlugin")
        try:
            image = Image.open(io.BytesIO(data), formats=OPEN_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except (Image.UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
            raise _not_a_photo() from None
        if image.width * image.height > max_image_pixels():
            raise _too_many_pixels()
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except (OSError, ValueError, SyntaxError, EOFError):
            raise _refuse(
                _("This photo is damaged or incomplete: it could not be read to the end."),
                "damaged",
            ) from None
    content_type, extension, save_as = IMAGE_FORMATS[image.format]
    clean = _clean_copy(image, save_as)
    buffer = io.BytesIO()
    options = {"PNG": {}, "JPEG": {"quality": 90}, "WEBP": {"quality": 90}}[save_as]
    clean.save(buffer, format=save_as, **options)
    return Inspected(
        kind="image",
        content=ContentFile(buffer.getvalue()),
        content_type=content_type,
        extension=extension,
        size=buffer.tell(),
        width=clean.width,
        height=clean.height,
    )


def _too_many_pixels() -> InvalidInput:
    return _refuse(
        _("This photo has too many pixels (at most %(megapixels)s million). Send a smaller one.")
        % {"megapixels": max_image_pixels() // 1_000_000},
        "too_many_pixels",
    )


def exif_orientation(exif: bytes | None) -> int:
    """Return the Orientation (1 to 8) raw EXIF bytes (a TIFF structure, with or without the
    ``Exif`` mark) give their picture: 1 when absent, or not where and what it should be.

    Only the first directory's entries are read, each 12 bytes at a known place: nothing the
    rest of the EXIF holds (offsets, sub-directories, strings) is followed or decoded.
    """
    if not exif:
        return 1
    # The mark may come twice (once from the JPEG segment, once from a writer that added it).
    for _mark in range(2):
        if exif.startswith(b"Exif\x00\x00"):
            exif = exif[6:]
    order = {b"II*\x00": "little", b"MM\x00*": "big"}.get(exif[:4])
    if order is None:
        return 1
    directory = int.from_bytes(exif[4:8], order)
    if directory < 8 or directory + 2 > len(exif):
        return 1
    count = int.from_bytes(exif[directory : directory + 2], order)
    for index in range(min(count, (len(exif) - directory - 2) // 12)):
        entry = exif[directory + 2 + 12 * index : directory + 14 + 12 * index]
        if int.from_bytes(entry[0:2], order) != ORIENTATION_TAG:
            continue
        if int.from_bytes(entry[2:4], order) != EXIF_SHORT:
            return 1
        value = int.from_bytes(entry[8:10], order)
        return value if value in UPRIGHT else 1
    return 1


def _orientation(image: Image.Image) -> int:
    """Return the picture's orientation from its EXIF, else from its XMP (as phones write)."""
    exif = image.info.get("exif")
    if isinstance(exif, bytes) and exif_orientation(exif) != 1:
        return exif_orientation(exif)
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    match = _XMP_ORIENTATION.search(xmp) if isinstance(xmp, bytes) else None
    return int(match.group(1)) if match else 1


def _clean_copy(image: Image.Image, save_as: str) -> Image.Image:
    """Return the picture upright, in sRGB, in a mode ``save_as`` can write, with no metadata."""
    turn = UPRIGHT.get(_orientation(image))
    upright = image.transpose(turn) if turn is not None else image
    icc = image.info.get("icc_profile")
    if icc and upright.mode in ("RGB", "RGBA"):
        try:
            upright = ImageCms.profileToProfile(
                upright,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                outputMode=upright.mode,
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # A broken profile: the pixels are kept as they are.
    if save_as == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    elif save_as == "WEBP" and upright.mode not in ("RGB", "RGBA"):
        upright = upright.convert("RGBA" if "A" in upright.getbands() else "RGB")
    elif upright is image:
        upright = image.copy()
    # Encoders look in ``info`` for EXIF, XMP, ICC and text chunks to write back: only a
    # palette's transparent colour (pixels, not metadata) stays.
    transparency = upright.info.get("transparency")
    upright.info = {} if transparency is None else {"transparency": transparency}
    return upright
