"""The first-touch cookie of a visit through a share link, and what a visit's request says.

One signed cookie per shop, ``kf_via_<shop id>``, holds the share code, the time of the first
visit and its channel. It is set only when none valid is present (the first link a person
followed wins) and lives as long as the shop's attribution window; reading it checks the
signature and the window again, so an altered or old cookie counts as none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core import signing
from django.http import HttpRequest

from kinfolk.core import clock
from kinfolk.referrals.models import Channel

COOKIE_PREFIX = "kf_via_"
_SALT = "kinfolk.referrals.first-touch"
_CODE = re.compile(r"^[A-Za-z0-9_-]{4,32}$")

# Link-preview fetchers and other robots: their requests are not visits (a shared link is
# fetched by every chat app it is pasted into).
_CRAWLER = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|facebookexternalhit|facebookcatalog|meta-externalagent|"
    r"twitterbot|slackbot|whatsapp|telegrambot|kakaotalk-scrap|discordbot|linkedinbot|"
    r"embedly|pinterest|skypeuripreview|vkshare|redditbot|applebot|bingpreview|yeti|"
    r"python-requests|curl/|wget/|go-http-client|preview",
    re.IGNORECASE,
)

# The referring site's host (its last labels) → the channel it stands for.
_REFERER_CHANNELS = {
    "t.co": Channel.X,
    "x.com": Channel.X,
    "twitter.com": Channel.X,
    "facebook.com": Channel.FACEBOOK,
    "fb.com": Channel.FACEBOOK,
    "fb.me": Channel.FACEBOOK,
    "messenger.com": Channel.FACEBOOK,
    "whatsapp.com": Channel.WHATSAPP,
    "wa.me": Channel.WHATSAPP,
    "t.me": Channel.TELEGRAM,
    "telegram.org": Channel.TELEGRAM,
    "telegram.me": Channel.TELEGRAM,
    "kakao.com": Channel.KAKAOTALK,
    "kakaocorp.com": Channel.KAKAOTALK,
    "mail.google.com": Channel.EMAIL,
    "outlook.live.com": Channel.EMAIL,
    "mail.yahoo.com": Channel.EMAIL,
    "mail.naver.com": Channel.EMAIL,
    "mail.daum.net": Channel.EMAIL,
}


@dataclass(frozen=True)
class FirstTouch:
    """What the cookie remembers: the code followed first, when, and through which channel."""

    code: str
    at: dt.datetime
    channel: str

    @property
    def visitor(self) -> str:
        """Return a hash standing for this visitor (unique visitors without keeping who)."""
        seed = f"{self.code}|{self.at.isoformat()}"
        return hashlib.sha256(seed.encode()).hexdigest()[:32]


def cookie_name(shop_id: int) -> str:
    return f"{COOKIE_PREFIX}{shop_id}"


def is_share_code(value: str) -> bool:
    """Return whether ``value`` is shaped like a share code (anything else is never looked up)."""
    return bool(_CODE.match(value or ""))


def is_crawler(request: HttpRequest) -> bool:
    """Return whether the request comes from a robot or a link-preview fetcher."""
    agent = request.headers.get("User-Agent", "")
    return not agent or bool(_CRAWLER.search(agent))


def channel_of(request: HttpRequest) -> str:
    """Return the visit's channel: ``ch`` when the share button set a known one, else the
    referring site's, else direct (a copied link, an app that sends no referrer)."""
    named = request.GET.get("ch", "")
    if named in Channel.values:
        return named
    host = (urlsplit(request.headers.get("Referer", "")).hostname or "").lower()
    if not host or host == request.get_host().split(":")[0].lower():
        return Channel.DIRECT
    labels = host.split(".")
    for size in range(len(labels), 1, -1):
        channel = _REFERER_CHANNELS.get(".".join(labels[-size:]))
        if channel is not None:
            return channel
    return Channel.OTHER


def touch_dump(touch: FirstTouch) -> str:
    """Return the signed cookie value of ``touch``."""
    value = {"c": touch.code, "t": int(touch.at.timestamp()), "h": touch.channel}
    return signing.dumps(value, salt=_SALT, compress=False)


def touch_read(request: HttpRequest, *, shop_id: int, window_days: int) -> FirstTouch | None:
    """Return the visitor's valid first touch for the shop; None when absent, altered, or older
    than ``window_days`` by the clock (the cookie's own expiry may be gone or lie)."""
    raw = request.COOKIES.get(cookie_name(shop_id))
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=_SALT)
        code, stamp, channel = str(value["c"]), int(value["t"]), str(value.get("h", ""))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if not is_share_code(code):
        return None
    at = dt.datetime.fromtimestamp(stamp, tz=dt.UTC)
    now = clock.now()
    if at > now + dt.timedelta(minutes=5) or now - at > dt.timedelta(days=window_days):
        return None
    return FirstTouch(code=code, at=at, channel=channel if channel in Channel.values else "")
