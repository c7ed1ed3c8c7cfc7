"""The mailing list's fan pages: confirming a request to join (double opt-in) and leaving."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kinfolk.core.errors import NotFound
from kinfolk.crm.models import ConsentRequest
from kinfolk.crm.services.consent import (
    consent_request_confirm,
    marketing_consent_withdraw,
    unsubscribe_token_read,
)
from kinfolk.storefront.views.releases import client_ip
from kinfolk.storefront.views.shop_request import open_shop_or_404, shop_context


@require_http_methods(["GET", "POST"])
def subscribe_confirm(request: HttpRequest, shop: str, token: str) -> HttpResponse:
    """The e-mailed mailing-list link: GET shows the choice and a button, POST confirms it."""
    shop_obj = open_shop_or_404(shop)
    pending = ConsentRequest.objects.filter(shop=shop_obj, token=token[:64]).first()
    context = shop_context(request, shop_obj)
    if pending is None:
        context.update(state="gone")
        return render(request, "storefront/subscribe.html", context, status=404)
    context.update(pending=pending, state="ask")
    if request.method == "POST":
        try:
            consent_request_confirm(token=pending.token, ip_address=client_ip(request))
        except NotFound:
            context.update(state="gone")
            return render(request, "storefront/subscribe.html", context, status=404)
        context.update(state="done")
    elif pending.confirmed_at is not None:
        context.update(state="done")
    return render(request, "storefront/subscribe.html", context)


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, shop: str, signed: str) -> HttpResponse:
    """Leave the shop's mailing list from the link in its e-mails (GET asks, POST leaves)."""
    shop_obj = open_shop_or_404(shop)
    context = shop_context(request, shop_obj)
    try:
        customer = unsubscribe_token_read(shop=shop_obj, value=signed)
    except NotFound:
        context.update(state="gone")
        return render(request, "storefront/unsubscribe.html", context, status=404)
    context.update(state="ask", signed=signed[:200])
    if request.method == "POST":
        marketing_consent_withdraw(
            shop=shop_obj,
            customer=customer,
            source="unsubscribe_link",
            ip_address=client_ip(request),
            wording=_("Unsubscribe from %(shop)s's mailing list") % {"shop": shop_obj.name},
        )
        context.update(state="done")
    return render(request, "storefront/unsubscribe.html", context)
