"""Signed, expiring tokens for e-mail confirmation links.

A token carries the account's id and a digest of its address (so a link stops working if the
address changes, without writing the address into URLs and logs) and optional extra data the
caller wants back when the link is followed.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

from django.core import signing
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from kinfolk.core.errors import InvalidInput

CONFIRM_SALT = "kinfolk.accounts.confirm-email"
CONFIRM_MAX_AGE = dt.timedelta(days=3)


def email_digest(email: str) -> str:
    """Return a short keyed digest of ``email`` (lower-cased) for a token to carry."""
    return salted_hmac(CONFIRM_SALT, email.strip().lower()).hexdigest()[:20]


def email_matches(payload: dict[str, Any], email: str) -> bool:
    """Return whether the token's digest is that of ``email``."""
    return hmac.compare_digest(str(payload.get("e", "")), email_digest(email))


def confirm_token_make(
    *, user, password_hash: str = "", extra: dict[str, Any] | None = None
) -> str:
    """Return a URL-safe token that confirms ``user``'s e-mail address for three days.

    ``password_hash`` (from ``make_password``) is the password chosen at sign-up; it becomes the
    account's password when the link is followed, so that only the mailbox's owner sets it.
    """
    payload = {"u": user.pk, "e": email_digest(user.email), "x": extra or {}}
    if password_hash:
        payload["p"] = password_hash
    return signing.dumps(payload, salt=CONFIRM_SALT, compress=True)


def confirm_token_read(token: str) -> dict[str, Any]:
    """Return the token's payload ``{"u": user id, "e": address digest, "x": extra}`` (and
    ``"p"``, the chosen password's hash, when the token carries one).

    Raises InvalidInput when the token is expired, altered or not a token at all.
    """
    try:
        payload = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidInput(
            _("This link has expired. Sign up again with the same address to get a new one."),
            code="expired",
        ) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidInput(_("This link is not valid."), code="bad_token") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise InvalidInput(_("This link is not valid."), code="bad_token")
    payload.setdefault("x", {})
    return payload
