"""The storefront's header (``storefront/_header.html``), kept in memory once rendered.

Every storefront page shows it, and for one page, language, shop and cart count it is the same
for every visitor but for the CSRF token of its language form: each process keeps the header it
rendered, with a placeholder where the token goes, and fills in the visitor's token.
"""

from __future__ import annotations

from django import template
from django.urls import get_script_prefix
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

HEADER = "storefront/_header.html"
_TOKEN_SLOT = "csrf-slot-5d0c2e94"
# Headers kept per process (one per page, language, shop and cart count); beyond this many,
# all are forgotten and kept afresh.
_SIZE = 1024
_kept: dict[tuple, str] = {}


def _key(context: template.Context) -> tuple | None:
    """Return everything the header shows that differs between pages and visitors (but the
    token), or None when it cannot be told."""
    request = context.get("request")
    if request is None or request.GET:
        # A query string (an order page's access token, say) makes a page of its own, seldom
        # asked for twice: not worth keeping.
        return None
    shop = context.get("shop")
    user = context.get("user")
    return (
        get_language(),
        get_script_prefix(),
        request.get_full_path(),
        (shop.slug, shop.name) if shop else None,
        str(context.get("cart_link_html") or ""),
        context.get("cart_count"),
        bool(context.get("oob")),
        bool(user is not None and user.is_authenticated),
    )


@register.simple_tag(takes_context=True)
def shop_header(context: template.Context) -> SafeString:
    """Render the storefront's header as ``{% include "storefront/_header.html" %}`` would."""
    header = context.template.engine.get_template(HEADER)
    token = context.get("csrf_token")
    key = _key(context)
    if key is None or token is None or str(token) == "NOTPROVIDED":
        return header.render(context)
    html = _kept.get(key)
    if html is None:
        with context.push(csrf_token=_TOKEN_SLOT):
            html = str(header.render(context))
        if len(_kept) >= _SIZE:
            _kept.clear()
        _kept[key] = html
    return mark_safe(html.replace(_TOKEN_SLOT, str(conditional_escape(str(token)))))
