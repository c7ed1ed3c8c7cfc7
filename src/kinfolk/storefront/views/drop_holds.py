"""A hold's own page: the copy a fan holds (reserved, or offered from the waitlist by e-mail), with
"buy it" and "give it back". Only its fan reaches it: the session that took it, their account, or
the link of the offer e-mail (the offered hold's token is the key in it). Anything else, a
tampered or unknown token included, is a 404 page leading back to the drop.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kinfolk.core import clock
from kinfolk.core.errors import KinfolkError
from kinfolk.drops.models import Edition, Hold
from kinfolk.drops.selectors import hold_get_for_shop
from kinfolk.drops.services.checkout import hold_give_back
from kinfolk.shops.models import Shop
from kinfolk.storefront import hold_session
from kinfolk.storefront.drop_cart import put_edition_in_cart, take_edition_out_of_cart
from kinfolk.storefront.views.drops import edition_or_404, hold_left_text
from kinfolk.storefront.views.shop_request import open_shop_or_404, see_other, shop_context


def _may_see(request: HttpRequest, hold: Hold) -> bool:
    if hold_session.session_holds(request, hold.token):
        return True
    if request.user.is_authenticated and hold.account_id == request.user.pk:
        return True
    return hold.source == Hold.Source.WAITLIST


def _hold_or_missing(
    request: HttpRequest, shop: Shop, edition: Edition, token: str
) -> tuple[Hold | None, HttpResponse | None]:
    """Return the fan's hold ``token`` on the edition, or the 404 page to answer with."""
    hold = hold_get_for_shop(shop=shop, token=token)
    if hold is None or hold.edition_id != edition.pk or not _may_see(request, hold):
        context = shop_context(request, shop)
        context.update(edition=edition, product=edition.product)
        return None, render(request, "storefront/drop_hold_missing.html", context, status=404)
    return hold, None


def _render_hold(
    request: HttpRequest, shop: Shop, edition: Edition, hold: Hold, *, status: int = 200, error=""
) -> HttpResponse:
    now = clock.now()
    context = shop_context(request, shop)
    context.update(
        edition=edition,
        product=edition.product,
        hold=hold,
        live=hold.is_live(now),
        hold_left=hold_left_text(hold, now),
        server_now=now.isoformat(),
        error=error,
    )
    return render(request, "storefront/drop_hold.html", context, status=status)


@require_GET
def drop_hold(request: HttpRequest, shop: str, product: str, token: str) -> HttpResponse:
    """Show the fan's hold: its timer, "buy it" and "give it back" (or that it has ended)."""
    shop_obj = open_shop_or_404(shop)
    edition = edition_or_404(shop_obj, product)
    hold, missing = _hold_or_missing(request, shop_obj, edition, token[:40])
    if missing:
        return missing
    return _render_hold(request, shop_obj, edition, hold)


@require_POST
def drop_hold_claim(request: HttpRequest, shop: str, product: str, token: str) -> HttpResponse:
    """Take the held copy to checkout: this session now holds it, and the cart has the copy."""
    shop_obj = open_shop_or_404(shop)
    edition = edition_or_404(shop_obj, product)
    hold, missing = _hold_or_missing(request, shop_obj, edition, token[:40])
    if missing:
        return missing
    if not hold.is_live(clock.now()):
        message = _("This hold has ended, so the copy is no longer held for you.")
        return _render_hold(request, shop_obj, edition, hold, status=409, error=message)
    hold_session.remember_hold(request, edition.pk, hold.token)
    try:
        put_edition_in_cart(request, shop_obj, edition)
    except KinfolkError as exc:
        return _render_hold(request, shop_obj, edition, hold, status=exc.status, error=exc.message)
    return see_other("storefront:checkout", shop_obj.slug)


@require_POST
def drop_hold_release(request: HttpRequest, shop: str, product: str, token: str) -> HttpResponse:
    """Give the held copy back: it goes to the next fan on the waitlist, or to anyone."""
    shop_obj = open_shop_or_404(shop)
    edition = edition_or_404(shop_obj, product)
    hold, missing = _hold_or_missing(request, shop_obj, edition, token[:40])
    if missing:
        return missing
    if hold.status == Hold.Status.PAID:
        message = _("This copy is paid for; to give it back, ask the shop to cancel the order.")
        return _render_hold(request, shop_obj, edition, hold, status=409, error=message)
    hold_give_back(shop=shop_obj, token=hold.token, email=hold.email)
    hold_session.forget_hold(request, edition.pk)
    take_edition_out_of_cart(request, shop_obj, edition)
    messages.success(request, _("You gave your copy back. Thank you: another fan gets it."))
    return see_other("storefront:drop", shop_obj.slug, edition.product.slug)
