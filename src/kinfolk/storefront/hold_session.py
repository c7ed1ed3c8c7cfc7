"""Which drops holds are the visitor's: ``{edition id: hold token}`` in their (signed) session.

A hold belongs to the browser that took it (and, for a logged-in fan, to their account): the
checkout sells a copy only through a hold this session took or claimed from an offer e-mail, so a
hold token seen elsewhere pays for nothing. Beside it the session remembers the waitlists the
visitor joined and the e-mail address a guest last reserved with, to fill in the forms.
"""

from __future__ import annotations

from django.http import HttpRequest

HOLDS_KEY = "drop_holds"  # {edition id: hold token}
WAITLIST_KEY = "drop_waitlist"  # {edition id: e-mail address}
EMAIL_KEY = "drop_email"


def _mapping(request: HttpRequest, key: str) -> dict[str, str]:
    value = request.session.get(key)
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def held_tokens(request: HttpRequest) -> list[str]:
    """Return the tokens of the holds this session took or claimed."""
    return list(_mapping(request, HOLDS_KEY).values())


def remember_hold(request: HttpRequest, edition_id: int, token: str) -> None:
    """Keep ``token`` as this session's hold on the edition (replacing an older one)."""
    holds = _mapping(request, HOLDS_KEY)
    if holds.get(str(edition_id)) != token:
        holds[str(edition_id)] = token
        request.session[HOLDS_KEY] = holds


def forget_hold(request: HttpRequest, edition_id: int) -> None:
    """Drop this session's hold on the edition."""
    holds = _mapping(request, HOLDS_KEY)
    if holds.pop(str(edition_id), None) is not None:
        request.session[HOLDS_KEY] = holds


def session_holds(request: HttpRequest, token: str) -> bool:
    """Return whether this session took or claimed the hold ``token``."""
    return bool(token) and token in held_tokens(request)


def remember_waitlist(request: HttpRequest, edition_id: int, email: str) -> None:
    """Note that the visitor joined the edition's waitlist with ``email``."""
    joined = _mapping(request, WAITLIST_KEY)
    joined[str(edition_id)] = email
    request.session[WAITLIST_KEY] = joined


def forget_waitlist(request: HttpRequest, edition_id: int) -> None:
    joined = _mapping(request, WAITLIST_KEY)
    if joined.pop(str(edition_id), None) is not None:
        request.session[WAITLIST_KEY] = joined


def waitlist_email(request: HttpRequest, edition_id: int) -> str:
    """Return the address the visitor joined the edition's waitlist with, or ""."""
    return _mapping(request, WAITLIST_KEY).get(str(edition_id), "")


def remembered_email(request: HttpRequest) -> str:
    """Return the address this visitor last reserved or queued with (a guest's), or ""."""
    value = request.session.get(EMAIL_KEY)
    return value if isinstance(value, str) else ""


def remember_email(request: HttpRequest, email: str) -> None:
    if request.session.get(EMAIL_KEY) != email:
        request.session[EMAIL_KEY] = email
