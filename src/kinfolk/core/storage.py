"""Where files that are not public live: release downloads and fans' uploads awaiting review.

Public files (product images) use the default storage under MEDIA_ROOT, which the app or a web
server serves to anyone. Private files use the ``private`` storage (settings.STORAGES): a folder
outside MEDIA_ROOT by default, an S3-compatible bucket by configuration. They are only ever
served by views that check who asks (signed download links, approved gallery items).
"""

from __future__ import annotations

from django.core.files.storage import Storage, storages


def private_storage() -> Storage:
    """Return the storage for files only the platform's own views hand out."""
    return storages["private"]
