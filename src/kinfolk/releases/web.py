"""The e-mail gate's limits on the web: how many gate e-mails one IP address and one inbox may
be sent, counted by django-ratelimit so that the form cannot be turned on someone's inbox.

Only e-mails on their way count (a refused or mistyped address does not). The counters live in
``RATELIMIT_USE_CACHE``: shared by every worker process with Redis, or with a cache every
process reaches; an in-memory cache (LocMem) counts per process.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

from kinfolk.core.errors import InvalidInput
from kinfolk.releases.services.gates import email_clean, inbox_key

# Gate e-mails sent: per visitor's IP address, and per inbox across every release and shop
# (lower-case, ``+tag`` removed). Settings may change them ("<count>/<period>").
GATE_RATE_PER_IP = "10/h"
GATE_RATE_PER_INBOX = "5/h"


def gate_limits(request: HttpRequest, typed: str) -> list[tuple[str, object, str, str]]:
    """Return the counters a gate request for ``typed`` answers to, with the words of each when
    full: (group, key, rate, message); none for an address that is not one (the form's own
    error answers it, and nothing is sent)."""
    try:
        inbox = inbox_key(email_clean(typed))
    except InvalidInput:
        return []
    return [
        (
            "releases.gate.ip",
            "ip",
            getattr(settings, "RELEASES_GATE_RATE_PER_IP", GATE_RATE_PER_IP),
            _(
                "Many download links were asked for from your connection in the last hour. "
                "Try again later; what you typed is kept."
            ),
        ),
        (
            "releases.gate.inbox",
            lambda _group, _request: inbox,
            getattr(settings, "RELEASES_GATE_RATE_PER_INBOX", GATE_RATE_PER_INBOX),
            _(
                "Several download links were sent to this inbox in the last hour. Check it "
                "(and the spam folder), or try again later."
            ),
        ),
    ]


def gate_full(request: HttpRequest, limits: list) -> str:
    """Return why another gate e-mail may not go now ("" when it may): a counter is full."""
    for group, key, rate, message in limits:
        usage = get_usage(request, group=group, key=key, rate=rate, increment=False)
        if usage is None or usage["should_limit"] or usage["count"] >= usage["limit"]:
            return message
    return ""


def gate_count(request: HttpRequest, limits: list) -> None:
    """Count a gate e-mail on its way against every counter (only e-mails sent count)."""
    for group, key, rate, _message in limits:
        get_usage(request, group=group, key=key, rate=rate, increment=True)
