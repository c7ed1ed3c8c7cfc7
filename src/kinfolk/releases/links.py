"""Signed, expiring download links: a token names one grant and one file and says until when it
works; nobody can make one without the SECRET_KEY, nor change what it names or how long it lasts.

The expiry is inside the signed value (rather than a signing timestamp checked against the
release's ``link_hours`` on use) so that a link keeps the lifetime it was issued with when the
shop later changes the setting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core import signing

from kinfolk.core import clock

SALT = "kinfolk.releases.download-link"


class LinkInvalid(Exception):
    """The token was not made by this installation, or was changed."""


class LinkExpired(Exception):
    """The token is genuine but its time is up; ``grant_id`` says whose it was."""

    def __init__(self, grant_id: int, file_id: int):
        super().__init__("expired")
        self.grant_id, self.file_id = grant_id, file_id


@dataclass(frozen=True)
class LinkTarget:
    grant_id: int
    file_id: int
    expires_at: dt.datetime


def download_token(*, grant_id: int, file_id: int, lifetime: dt.timedelta) -> str:
    """Return a URL-safe token for downloading ``file_id`` under ``grant_id`` until now +
    ``lifetime``."""
    expires = int((clock.now() + lifetime).timestamp())
    return signing.dumps([grant_id, file_id, expires], salt=SALT, compress=False)


def download_token_read(token: str) -> LinkTarget:
    """Return what ``token`` names; raise LinkInvalid if it is not genuine, LinkExpired if its
    time is up."""
    try:
        grant_id, file_id, expires = signing.loads(token, salt=SALT)
        grant_id, file_id, expires = int(grant_id), int(file_id), int(expires)
    except (signing.BadSignature, ValueError, TypeError):
        raise LinkInvalid() from None
    expires_at = dt.datetime.fromtimestamp(expires, tz=dt.UTC)
    if clock.now() >= expires_at:
        raise LinkExpired(grant_id, file_id)
    return LinkTarget(grant_id=grant_id, file_id=file_id, expires_at=expires_at)
