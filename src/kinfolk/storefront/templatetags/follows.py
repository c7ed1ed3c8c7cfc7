"""``{% follow_button shop %}``: the one-click button that follows a shop, for any shop page."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.http import HttpRequest
from django.urls import reverse

from kinfolk.crm.selectors.follows import follow_exists
from kinfolk.shops.models import Shop

register = template.Library()


def follow_button_context(
    request: HttpRequest, shop: Shop, *, next_url: str, source: str, following: bool | None = None
) -> dict:
    """Return the context of ``storefront/_follow_button.html``."""
    user = request.user
    if following is None:
        following = follow_exists(shop=shop, account=user)
    query = urlencode({"next": next_url})
    return {
        "shop": shop,
        "following": following,
        "logged_in": user.is_authenticated,
        "next_url": next_url,
        "source": source,
        "login_url": f"{reverse('accounts:login')}?{query}",
        "signup_url": f"{reverse('accounts:signup')}?{urlencode({'next': next_url, 'shop': shop.slug})}",
    }


@register.inclusion_tag("storefront/_follow_button.html", takes_context=True)
def follow_button(context, shop: Shop, source: str = "") -> dict:
    """Render the follow button of ``shop`` for the visitor of the page being rendered.

    ``source`` names the page in the follow's record ("release:12"); by default the page's URL
    name ("shop", "product", ...).
    """
    request = context["request"]
    match = getattr(request, "resolver_match", None)
    source = source or (match.url_name if match is not None else "") or ""
    return follow_button_context(
        request, shop, next_url=request.get_full_path(), source=str(source)
    )
