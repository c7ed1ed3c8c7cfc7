"""Handing out a gallery file from the private storage, streamed, with byte ranges for video
players (a phone's player asks for ``Range: bytes=0-`` and then seeks)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from kinfolk.core.files import BadRange, file_response, parse_range, range_not_satisfiable
from kinfolk.gallery.models import FanUpload


def upload_file_response(request: HttpRequest, upload: FanUpload, *, public: bool) -> HttpResponse:
    """Return the upload's file (whole, or the one range asked for) without reading it whole.

    ``public`` files may be kept by the viewer's own browser for five minutes, never by a
    shared cache (a CDN or proxy), so that a file taken down or erased stops being served at
    once; previews for staff are not kept at all.
    """
    try:
        byte_range = parse_range(request.headers.get("Range", ""), upload.size)
    except BadRange:
        response = range_not_satisfiable(upload.size)
    else:
        response = file_response(
            request,
            storage=upload.file.storage,
            name=upload.file.name,
            size=upload.size,
            content_type=upload.content_type,
            byte_range=byte_range,
        )
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=300" if public else "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # Nothing in a served file may run: the bytes are media, whatever a browser might think.
    response["Content-Security-Policy"] = "default-src 'none'; media-src 'self'; sandbox"
    return response
