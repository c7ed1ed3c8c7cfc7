"""Signed callbacks: ``Testpay-Signature: t=<unix ts>,v1=<hex HMAC-SHA256>``.

The signed message is ``f"{t}.".encode() + body``; binding the timestamp into the MAC lets a
receiver refuse replays of an old, captured callback.
"""

from __future__ import annotations

import hashlib
import hmac

from kinfolk.core import clock

SIGNATURE_HEADER = "Testpay-Signature"
SCHEME = "v1"


def _digest(body: bytes, *, secret: str, timestamp: int) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(body: bytes, *, secret: str, timestamp: int) -> str:
    """Return the signature header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},{SCHEME}={_digest(body, secret=secret, timestamp=timestamp)}"


def _parse(header: str) -> tuple[int, list[str]] | None:
    """Return the timestamp and the v1 signatures of a header, or None when it is malformed."""
    timestamp = None
    signatures = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep or not value:
            return None
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return None
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None or not signatures:
        return None
    return timestamp, signatures


def verify(
    body: bytes, header: str, *, secret: str, tolerance: int = 300, now: int | None = None
) -> bool:
    """Return whether ``header`` is a valid signature of ``body`` made within ``tolerance`` s."""
    parsed = _parse(header or "")
    if parsed is None:
        return False
    timestamp, signatures = parsed
    if now is None:
        now = int(clock.now().timestamp())
    if abs(now - timestamp) > tolerance:
        return False
    expected = _digest(body, secret=secret, timestamp=timestamp)
    # Several v1 entries are allowed so a secret can be rotated; compare each in constant time.
    matches = [hmac.compare_digest(expected.encode(), c.encode()) for c in signatures]
    return any(matches)
