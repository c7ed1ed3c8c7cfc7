"""What a release file is, told by its first bytes (magic numbers) rather than by its name or
the type the browser claims: audio (MP3, WAV, FLAC, Ogg, M4A, AAC), images (JPEG, PNG, WebP),
PDF and ZIP. Anything else is refused.

The ``filetype`` package holds the signatures; only the matchers of the accepted types are
tried, in a fixed order, so that the answer never depends on the package's wider list (a
Word document is a ZIP file, and is accepted as one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _
from filetype.types import archive, audio, image

from kinfolk.core.errors import InvalidInput

# Enough for every accepted signature (M4A's brand ends at byte 11, WebP's at byte 12).
HEAD_BYTES = 64


@dataclass(frozen=True)
class FileKind:
    """An accepted kind of file: its MIME type, its usual extension and its group."""

    content_type: str
    extension: str
    group: str  # "audio", "image", "document" or "archive"

    @property
    def is_audio(self) -> bool:
        return self.group == "audio"


# (matcher, what it is); the MIME types are the ones browsers play or open without a plug-in.
_ACCEPTED = (
    (audio.Mp3(), FileKind("audio/mpeg", "mp3", "audio")),
    (audio.Aac(), FileKind("audio/aac", "aac", "audio")),
    (audio.M4a(), FileKind("audio/mp4", "m4a", "audio")),
    (audio.Flac(), FileKind("audio/flac", "flac", "audio")),
    (audio.Ogg(), FileKind("audio/ogg", "ogg", "audio")),
    (audio.Wav(), FileKind("audio/wav", "wav", "audio")),
    (image.Jpeg(), FileKind("image/jpeg", "jpg", "image")),
    (image.Png(), FileKind("image/png", "png", "image")),
    (image.Webp(), FileKind("image/webp", "webp", "image")),
    (archive.Pdf(), FileKind("application/pdf", "pdf", "document")),
    (archive.Zip(), FileKind("application/zip", "zip", "archive")),
)


def kind_of_head(head: bytes) -> FileKind | None:
    """Return the accepted kind whose signature ``head`` (a file's first bytes) starts with,
    or None."""
    buffer = bytearray(head[:HEAD_BYTES])
    if len(buffer) < 4:
        return None
    for matcher, kind in _ACCEPTED:
        if matcher.match(buffer):
            return kind
    return None


def release_file_kind(upload: IO[bytes], *, field: str = "file") -> FileKind:
    """Return what ``upload`` is by its first bytes; raise InvalidInput (on ``field``) when it
    is none of the accepted kinds. Reads only the head and leaves the file at its start."""
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    kind = kind_of_head(head or b"")
    if kind is None:
        raise InvalidInput(
            _(
                "This file is not one a release can hold: use audio (MP3, WAV, FLAC, Ogg, "
                "M4A or AAC), an image (JPEG, PNG or WebP), a PDF or a ZIP file."
            ),
            field=field,
            code="file_type",
        )
    return kind
