"""Following a shop from any of its pages: one click, with htmx or as a plain form."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kinfolk.core.errors import KinfolkError
from kinfolk.crm.services.follows import follow_start, follow_stop
from kinfolk.storefront.templatetags.follows import follow_button_context
from kinfolk.storefront.views.shop_request import is_htmx, open_shop_or_404, see_other


def safe_next(request: HttpRequest, value: str, fallback: str) -> str:
    """Return ``value`` when it is a path on this site, else ``fallback``."""
    value = (value or "").replace("\x00", "")[:2000]
    if value.startswith("/") and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return fallback


@require_POST
def follow(request: HttpRequest, shop: str) -> HttpResponse:
    """Follow the shop (``action=follow``) or stop (``action=unfollow``), then show the button
    again (htmx) or go back to the page (``next``)."""
    shop_obj = open_shop_or_404(shop)
    next_url = safe_next(
        request, request.POST.get("next", ""), reverse("storefront:shop", args=[shop_obj.slug])
    )
    source = request.POST.get("source", "")[:60]
    if not request.user.is_authenticated:
        login = f"{reverse('accounts:login')}?{urlencode({'next': next_url})}"
        if is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = login
            return response
        return see_other(login)
    stopping = request.POST.get("action") == "unfollow"
    error = ""
    try:
        if stopping:
            follow_stop(shop=shop_obj, account=request.user, source=source)
        else:
            follow_start(shop=shop_obj, account=request.user, source=source)
    except KinfolkError as exc:
        error = exc.message
    if is_htmx(request):
        context = follow_button_context(
            request,
            shop_obj,
            next_url=next_url,
            source=source,
            following=None if error else not stopping,
        )
        return render(request, "storefront/_follow_button.html", {**context, "error": error})
    if error:
        messages.error(request, error)
    elif stopping:
        messages.info(request, _("You no longer follow %(shop)s.") % {"shop": shop_obj.name})
    else:
        messages.success(request, _("You follow %(shop)s now.") % {"shop": shop_obj.name})
    return see_other(next_url)
