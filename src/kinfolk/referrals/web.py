"""What the storefront's pages need to show a visitor their share link and share buttons.

A page calls ``share_context(request, shop=, path=, title=)`` and includes
``storefront/_share.html`` with it. The link is the visitor's own (``?via=CODE``) when the shop
knows them: a logged-in account with a customer record in the shop, or a visitor whose customer
id a page kept in their session with ``remember_customer`` (the release page does after the
e-mail gate). Everyone else gets the page's plain link to share.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from kinfolk.crm.models import Customer
from kinfolk.referrals.models import Channel
from kinfolk.referrals.services import first_touch_from_request, share_link_get_or_create
from kinfolk.shops.models import Shop

# Session key: shop id (as text) → the id of the visitor's customer record in that shop.
SESSION_KEY = "kf_customers"
MAX_REMEMBERED = 20


def remember_customer(request: HttpRequest, customer: Customer) -> None:
    """Keep in the visitor's session that they are ``customer`` in its shop (e.g. after they
    confirmed their address at an e-mail gate), so that pages show them their share link."""
    known = dict(request.session.get(SESSION_KEY, {}))
    known[str(customer.shop_id)] = customer.pk
    if len(known) > MAX_REMEMBERED:
        known = dict(list(known.items())[-MAX_REMEMBERED:])
    request.session[SESSION_KEY] = known


def remembered_customer_id(request: HttpRequest, shop: Shop) -> int | None:
    """Return the customer id the session keeps for ``shop`` (no query), or None."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    value = session.get(SESSION_KEY, {}).get(str(shop.pk))
    return value if isinstance(value, int) else None


def visitor_customer(request: HttpRequest, shop: Shop) -> Customer | None:
    """Return the shop's customer record of the visitor, if the shop knows them."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        customer = Customer.objects.filter(shop=shop, account=user).order_by("id").first()
        if customer is not None:
            return customer
    customer_id = remembered_customer_id(request, shop)
    if customer_id is None:
        return None
    return Customer.objects.filter(shop=shop, pk=customer_id).first()


def _with(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def share_buttons(url: str, title: str) -> list[dict]:
    """Return plain share-intent links for ``url`` (no scripts), each marking its channel."""
    text = title or url
    return [
        {
            "channel": Channel.X,
            "label": "X",
            "href": "https://twitter.com/intent/tweet?"
            + urlencode({"text": text, "url": _with(url, ch=Channel.X)}),
        },
        {
            "channel": Channel.FACEBOOK,
            "label": "Facebook",
            "href": "https://www.facebook.com/sharer/sharer.php?"
            + urlencode({"u": _with(url, ch=Channel.FACEBOOK)}),
        },
        {
            "channel": Channel.WHATSAPP,
            "label": "WhatsApp",
            "href": "https://wa.me/?"
            + urlencode({"text": f"{text} {_with(url, ch=Channel.WHATSAPP)}"}),
        },
        {
            "channel": Channel.TELEGRAM,
            "label": "Telegram",
            "href": "https://t.me/share/url?"
            + urlencode({"url": _with(url, ch=Channel.TELEGRAM), "text": text}),
        },
        {
            "channel": Channel.EMAIL,
            "label": _("E-mail"),
            "href": "mailto:?"
            + urlencode(
                {"subject": text, "body": f"{text}\n{_with(url, ch=Channel.EMAIL)}"},
                quote_via=_quote,
            ),
        },
    ]


def _quote(value, safe="", encoding=None, errors=None):
    # mailto: wants %20 for spaces, not "+".
    return quote(value, safe=safe, encoding=encoding, errors=errors)


def share_context(request: HttpRequest, *, shop: Shop, path: str, title: str = "") -> dict:
    """Return the context of ``storefront/_share.html`` for the page at ``path``: the visitor's
    personal link to it (when the shop knows them) and plain share-intent links; {} when there
    is nothing to show."""
    if not path.startswith("/"):
        return {}
    page_url = settings.BASE_URL + path
    customer = visitor_customer(request, shop)
    if customer is None:
        url, personal = page_url, False
    else:
        link = share_link_get_or_create(shop=shop, customer=customer)
        url, personal = _with(page_url, via=link.code), True
    return {
        "share": {
            "url": url,
            "personal": personal,
            "title": title or shop.name,
            "buttons": share_buttons(url, title or shop.name),
            "sharing_url": reverse("storefront:sharing")
            if personal and request.user.is_authenticated
            else "",
        }
    }


def referral_kwargs(request: HttpRequest, *, shop: Shop) -> dict:
    """Return the first-touch keywords of ``referral_credit`` (``referral_code``, ``channel``,
    ``first_visit_at``) for the visitor in ``shop``; {} when they hold no valid cookie."""
    touch = first_touch_from_request(request, shop=shop)
    if touch is None:
        return {}
    return {"referral_code": touch.code, "channel": touch.channel, "first_visit_at": touch.at}
