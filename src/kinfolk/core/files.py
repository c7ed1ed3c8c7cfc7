"""Private files handed out by the platform's own views, streamed, with one HTTP byte range.

A file is never read into memory: the response is a FileResponse over the storage's file, so
gunicorn hands a file-system file to the kernel (sendfile) and other storages stream it in
blocks. One byte range is honoured (``Range: bytes=a-b``; 206 with Content-Range, 416 when it
lies outside the file); several ranges get the whole file, which HTTP allows. Release downloads,
release previews and the fan gallery all go through ``file_response``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.files.storage import Storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header

_RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")


class BadRange(Exception):
    """The Range header names bytes outside the file (answered with 416)."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_range(header: str, size: int) -> ByteRange | None:
    """Return the single byte range ``header`` asks for in a file of ``size`` bytes; None for
    the whole file (no header, several ranges, another unit); raise BadRange when unsatisfiable.
    """
    header = (header or "").strip().replace(" ", "")
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        if header.startswith("bytes=") and "," not in header:
            raise BadRange()
        return None
    first, last = match.groups()
    if not first and not last:
        raise BadRange()
    if not first:  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise BadRange()
        return ByteRange(max(0, size - length), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise BadRange()
    return ByteRange(start, end)


class _Slice:
    """A read-only view of ``length`` bytes of an open file from its current position."""

    def __init__(self, file, length: int):
        self._file, self._left = file, length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._file.read(size)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()


def file_response(
    request: HttpRequest,
    *,
    storage: Storage,
    name: str,
    size: int,
    content_type: str,
    filename: str = "",
    attachment: bool = False,
    byte_range: ByteRange | None = None,
) -> HttpResponse:
    """Return the stored file ``name`` of ``size`` bytes (or its byte range) as a streamed
    response, an attachment saved as ``filename`` or shown inline; HEAD gets the headers only.
    The caller sets Cache-Control."""
    content_type = content_type or "application/octet-stream"
    if request.method == "HEAD":
        response = HttpResponse(content_type=content_type)
        response["Content-Length"] = str(byte_range.length if byte_range else size)
    else:
        handle = storage.open(name, "rb")
        body = handle
        if byte_range is not None:
            handle.seek(byte_range.start)
            if byte_range.end < size - 1:
                # A bounded range cannot go to sendfile, which sends to the end of the file.
                body = _Slice(handle, byte_range.length)
        response = FileResponse(
            body, as_attachment=attachment, filename=filename, content_type=content_type
        )
        response["Content-Length"] = str(byte_range.length if byte_range else size)
    if byte_range is not None:
        response.status_code = 206
        response["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{size}"
    response["Content-Disposition"] = content_disposition_header(attachment, filename) or "inline"
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def range_not_satisfiable(size: int) -> HttpResponse:
    """Return the 416 answer to a range outside a file of ``size`` bytes."""
    response = HttpResponse(status=416)
    response["Content-Range"] = f"bytes */{size}"
    return response
