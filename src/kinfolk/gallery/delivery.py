"""Handing out a gallery file from the private storage, streamed, with byte ranges for video
players (a phone's player asks for ``Range: bytes=0-`` and then seeks)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse

from kinfolk.gallery.models import FanUpload

CHUNK_BYTES = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """Return the (first, last) bytes a single-range ``Range`` header asks for; None when there
    is no usable header (serve the whole file); False when the range lies outside the file."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        # "bytes=-500": the last 500 bytes.
        length = int(last[:18])
        if length == 0:
            return False
        return (max(0, size - length), size - 1)
    start = int(first[:18])
    end = min(int(last[:18]), size - 1) if last else size - 1
    if start >= size or start > end:
        return False
    return (start, end)


def _chunks(handle, start: int, length: int) -> Iterator[bytes]:
    try:
        handle.seek(start)
        left = length
        while left > 0:
            chunk = handle.read(min(CHUNK_BYTES, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()


def upload_file_response(request: HttpRequest, upload: FanUpload, *, public: bool) -> HttpResponse:
    """Return the upload's file (whole, or the one range asked for) without reading it whole.

    ``public`` files may be kept by the viewer's own browser for five minutes, never by a
    shared cache (a CDN or proxy), so that a file taken down or erased stops being served at
    once; previews for staff are not kept at all.
    """
    storage = upload.file.storage
    size = upload.size
    wanted = parse_range(request.headers.get("Range", ""), size)
    if wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        handle = storage.open(upload.file.name, "rb")
        if wanted is None:
            response = FileResponse(handle, content_type=upload.content_type)
            response["Content-Length"] = str(size)
        else:
            start, end = wanted
            response = StreamingHttpResponse(
                _chunks(handle, start, end - start + 1),
                status=206,
                content_type=upload.content_type,
            )
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
            response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=300" if public else "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # Nothing in a served file may run: the bytes are media, whatever a browser might think.
    response["Content-Security-Policy"] = "default-src 'none'; media-src 'self'; sandbox"
    response["Content-Disposition"] = "inline"
    return response
