"""The fan's side of a drop: its page (countdown, copies left, reserve, waitlist), the page of a
hold (buy the copy held, or give it back), and clear answers to bad input and to bots.

Before it opens a drop's page is the same for every visitor: it is rendered once per language
and kept in Django's cache until the opening, with the few per-visitor bits (the CSRF token, the
cart badge, the server's clock) filled in on each request, and browsers may keep it until then
too. From the opening on, the page shows each fan their own hold, and the copies left counted at
most a few seconds ago (``edition_availability_cached``). A visitor with nothing of their own on
an open or sold-out drop (logged out, no hold, no place on the waitlist, no message) sees what
every such visitor sees: each process keeps that page for a second (``_shared_drop``), which
also answers the many "sold out" replies to reserving in the minutes after a sell-out.
"""

from __future__ import annotations

import datetime as dt
import math
import time

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.core import is_ratelimited

from kinfolk.accounts.models import normalize_email
from kinfolk.catalog.changes import catalog_generation
from kinfolk.core import clock
from kinfolk.core.errors import KinfolkError, NotFound
from kinfolk.drops.models import Edition, Hold
from kinfolk.drops.selectors import (
    Phase,
    edition_availability_cached,
    edition_availability_forget,
    edition_get_for_page,
    edition_next_change,
    edition_phase,
    holds_of_fan,
    waitlist_entry_get,
)
from kinfolk.drops.services import hold_take, waitlist_join, waitlist_leave
from kinfolk.drops.services.holds import SoldOut
from kinfolk.shops.models import Shop
from kinfolk.storefront import hold_session
from kinfolk.storefront.cart_session import badge_count
from kinfolk.storefront.drop_cart import put_edition_in_cart
from kinfolk.storefront.views.shop_request import (
    cart_link_html,
    is_htmx,
    open_shop_or_404,
    see_other,
    shop_context,
)

# Reserve attempts one visitor may make; a bot past them gets a 429 page, costing no query, while
# every other fan's counters stay their own. Settings may change them ("<count>/<period>").
RESERVE_RATE_PER_IP = "30/m"
RESERVE_RATE_PER_EMAIL = "6/m"
# The longest a drop's page before opening stays in the cache: a maker's edit shows within it.
UPCOMING_PAGE_SECONDS = 60

_CSRF_SLOT = "csrf-slot-5d0c2e91"
_CART_SLOT = mark_safe("<!--cart-slot-5d0c2e91-->")
_NOW_SLOT = "now-slot-5d0c2e91"
_EMAIL_SLOT = "email-slot-5d0c2e91"
# How long a process keeps the page of an open or sold-out drop that every visitor without a
# hold or waitlist place sees (for the same copies left, phase and language), and how many such
# pages at most.
SHARED_PAGE_SECONDS = 1.0
SHARED_PAGES = 256
_SHARED_PHASES = frozenset({Phase.OPEN, Phase.SOLD_OUT})
_shared_pages: dict[tuple, tuple[float, str]] = {}


def edition_or_404(shop: Shop, product: str, *, images: bool = True) -> Edition:
    """Return the shop's edition of the product ``product`` on sale, or raise Http404."""
    try:
        return edition_get_for_page(shop=shop, product_slug=product[:80], images=images)
    except NotFound:
        raise Http404("No such drop.") from None


def _ip_limited(request: HttpRequest) -> bool:
    """Count this attempt against the visitor's IP address; return whether it is over the limit.

    The address is django-ratelimit's: ``REMOTE_ADDR``, or the header named by
    ``RATELIMIT_IP_META_KEY`` behind a proxy; IPv6 addresses count per /64 network.
    """
    return is_ratelimited(
        request,
        group="drops.reserve.ip",
        key="ip",
        rate=getattr(settings, "DROPS_RESERVE_RATE_PER_IP", RESERVE_RATE_PER_IP),
        increment=True,
    )


def _email_limited(request: HttpRequest, email: str) -> bool:
    """Count this attempt against the e-mail address; return whether it is over the limit."""
    return is_ratelimited(
        request,
        group="drops.reserve.email",
        key=lambda _group, _request: email,
        rate=getattr(settings, "DROPS_RESERVE_RATE_PER_EMAIL", RESERVE_RATE_PER_EMAIL),
        increment=True,
    )


def too_many_tries(request: HttpRequest, shop: Shop, edition: Edition) -> HttpResponse:
    """Answer a visitor over the reserve limit: a 429 page in their language."""
    context = shop_context(request, shop)
    context.update(edition=edition, product=edition.product)
    response = render(request, "storefront/drop_busy.html", context, status=429)
    response["Retry-After"] = "60"
    return response


def fan_email(request: HttpRequest) -> tuple[str, str]:
    """Return the address the fan acts with (a logged-in fan's own, else the one posted) and an
    error message when it is not one ("" when it is)."""
    if request.user.is_authenticated:
        return request.user.email, ""
    typed = normalize_email(request.POST.get("email", "").replace("\x00", ""))[:254]
    try:
        validate_email(typed)
    except ValidationError:
        return typed, _("Enter a valid e-mail address, e.g. name@example.com.")
    return typed, ""


def _fan_hold(request: HttpRequest, shop: Shop, edition: Edition, now: dt.datetime) -> Hold | None:
    """Return the fan's live hold on the edition (by session or account), or None."""
    tokens = hold_session.held_tokens(request)
    if not tokens and not request.user.is_authenticated:
        return None
    hold = holds_of_fan(shop=shop, editions=[edition], tokens=tokens, account=request.user).get(
        edition.pk
    )
    return hold if hold is not None and hold.is_live(now) else None


def hold_left_text(hold: Hold, now: dt.datetime) -> str:
    """Return how long the hold still holds its copy, as the timer shows it ("9:41")."""
    seconds = max(0, math.ceil((hold.expires_at - now).total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _on_waitlist(request: HttpRequest, edition: Edition) -> bool:
    email = hold_session.waitlist_email(request, edition.pk)
    if request.user.is_authenticated:
        email = request.user.email
    entry = waitlist_entry_get(edition=edition, email=email) if email else None
    return entry is not None and entry.status == entry.Status.WAITING


def drop_context(
    request: HttpRequest, shop: Shop, edition: Edition, *, now: dt.datetime, **extra
) -> dict:
    """Return the context of the drop's page for this visitor at ``now``."""
    phase = edition_phase(edition=edition, now=now)
    availability = None
    if phase in {Phase.OPEN, Phase.EARLY_ACCESS, Phase.CLOSED}:
        availability = edition_availability_cached(edition=edition, now=now)
        phase = edition_phase(edition=edition, now=now, free=availability.free)
    shared = phase == Phase.UPCOMING
    hold = None if shared else _fan_hold(request, shop, edition, now)
    context = shop_context(request, shop)
    context.update(
        edition=edition,
        product=edition.product,
        phase=phase,
        availability=availability,
        next_change=edition_next_change(edition=edition, now=now),
        server_now=now.isoformat(),
        hold=hold,
        hold_left=hold_left_text(hold, now) if hold else "",
        on_waitlist=phase == Phase.SOLD_OUT and _on_waitlist(request, edition),
        email=hold_session.remembered_email(request),
        error="",
        errors={},
    )
    context.update(extra)
    return context


def render_drop(
    request: HttpRequest, shop: Shop, edition: Edition, *, status: int = 200, **extra
) -> HttpResponse:
    """Render the drop's page for this visitor (``extra``: an error, the typed e-mail, ...)."""
    now = clock.now()
    context = drop_context(request, shop, edition, now=now, **extra)
    response = render(request, "storefront/drop.html", context, status=status)
    if context["phase"] == Phase.UPCOMING and status == 200:
        _cache_until(response, context["next_change"], now, private=True)
    return response


def _cache_until(
    response: HttpResponse, change: dt.datetime | None, now: dt.datetime, *, private: bool
) -> None:
    """Let browsers keep the page until the drop next opens (never past it)."""
    if change is None:
        return
    seconds = max(0, math.floor((change - now).total_seconds()))
    if private:
        patch_cache_control(response, private=True, max_age=seconds)
    else:
        patch_cache_control(response, max_age=seconds)


def _shareable(request: HttpRequest) -> bool:
    """Return whether the visitor sees the page everybody sees before opening."""
    return not (request.GET or request.user.is_authenticated or len(messages.get_messages(request)))


def _upcoming_key(shop: Shop, product: str) -> str:
    return f"drops:upcoming:{shop.pk}:{product[:80]}:{translation.get_language()}"


def _serve_shared(
    request: HttpRequest, shop: Shop, page: str, change: float, now: dt.datetime
) -> HttpResponse:
    """Fill the visitor's slots into the page everybody sees and answer with it."""
    response = HttpResponse(_filled(request, shop, page, now))
    _cache_until(response, dt.datetime.fromtimestamp(change, dt.UTC), now, private=False)
    return response


def _filled(request: HttpRequest, shop: Shop, page: str, now: dt.datetime, email: str = "") -> str:
    """Return a page kept for every visitor with this visitor's own bits in its slots."""
    return (
        page.replace(_CSRF_SLOT, get_token(request))
        .replace(_CART_SLOT, cart_link_html(shop.slug, badge_count(request, shop)))
        .replace(_NOW_SLOT, now.isoformat())
        .replace(_EMAIL_SLOT, escape(email))
    )


def _page_with_slots(
    request: HttpRequest, shop: Shop, edition: Edition, now: dt.datetime, **extra
) -> tuple[str, str]:
    """Render the page every visitor without a hold or waitlist place sees at ``now``, with
    slots for the per-visitor bits; return it and the phase it shows."""
    context = drop_context(request, shop, edition, now=now, **extra)
    context.update(
        cart_count=0,
        cart_link_html=_CART_SLOT,
        csrf_token=_CSRF_SLOT,
        messages=(),
        server_now=_NOW_SLOT,
        email=_EMAIL_SLOT,
    )
    return render_to_string("storefront/drop.html", context, request=request), context["phase"]


def _shared_drop(
    request: HttpRequest,
    shop: Shop,
    edition: Edition,
    *,
    error: str = "",
    email: str = "",
    status: int = 200,
) -> HttpResponse | None:
    """Answer with the page of an open or sold-out drop kept for visitors with nothing of their
    own on it (``error`` shown above it, ``email`` in its form), or return None when this
    visitor or the drop's phase needs the page rendered for them."""
    if not _shareable(request) or hold_session.held_tokens(request):
        return None
    if hold_session.waitlist_email(request, edition.pk):
        return None
    now = clock.now()
    availability = edition_availability_cached(edition=edition, now=now)
    phase = edition_phase(edition=edition, now=now, free=availability.free)
    if phase not in _SHARED_PHASES:
        return None
    key = (
        shop.pk,
        edition.pk,
        phase,
        translation.get_language(),
        request.path,
        error,
        catalog_generation(),
        # The copies it shows: the page is the one rendered for the same figures, so that it is
        # never older than the counts every fan's page reads (edition_availability_cached).
        (availability.size, availability.free, availability.held, availability.sold),
    )
    moment = time.monotonic()
    kept = _shared_pages.get(key)
    if kept is None or kept[0] <= moment:
        page, shown = _page_with_slots(request, shop, edition, now, error=error)
        if shown != phase:  # the phase changed this very moment: not a page to keep
            return None
        if len(_shared_pages) >= SHARED_PAGES:
            _shared_pages.clear()
        kept = _shared_pages[key] = (moment + SHARED_PAGE_SECONDS, page)
    return HttpResponse(_filled(request, shop, kept[1], now, email), status=status)


@require_GET
def drop_page(request: HttpRequest, shop: str, product: str) -> HttpResponse:
    """Show the drop: countdown, copies left, reserve, the fan's hold, or the waitlist."""
    shop_obj = open_shop_or_404(shop)
    now = clock.now()
    shareable = _shareable(request)
    if shareable:
        hit = cache.get(_upcoming_key(shop_obj, product))
        if isinstance(hit, tuple) and len(hit) == 2 and now.timestamp() < hit[0]:
            return _serve_shared(request, shop_obj, hit[1], hit[0], now)
    edition = edition_or_404(shop_obj, product, images=False)
    change = edition_next_change(edition=edition, now=now)
    if shareable and edition_phase(edition=edition, now=now) == Phase.UPCOMING and change:
        page, _phase = _page_with_slots(request, shop_obj, edition, now)
        seconds = min(UPCOMING_PAGE_SECONDS, math.floor((change - now).total_seconds()))
        if seconds > 0:
            cache.set(_upcoming_key(shop_obj, product), (change.timestamp(), page), seconds)
        return _serve_shared(request, shop_obj, page, change.timestamp(), now)
    shared = _shared_drop(request, shop_obj, edition, email=hold_session.remembered_email(request))
    return shared or render_drop(request, shop_obj, edition)


@require_GET
def drop_left(request: HttpRequest, shop: str, product: str) -> HttpResponse:
    """Return the copies-left figure alone (polled by htmx); asks for a reload when the drop's
    phase is no longer the one the page shows (``?p=``)."""
    shop_obj = open_shop_or_404(shop)
    edition = edition_or_404(shop_obj, product, images=False)
    now = clock.now()
    availability = edition_availability_cached(edition=edition, now=now)
    phase = edition_phase(edition=edition, now=now, free=availability.free)
    if request.GET.get("p") != phase:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    context = {"shop": shop_obj, "edition": edition, "availability": availability, "phase": phase}
    return render(request, "storefront/drop_left.html", context)


def _owns(request: HttpRequest, hold: Hold) -> bool:
    """Return whether the visitor may act on ``hold``: their session took it, or their account."""
    if hold_session.session_holds(request, hold.token):
        return True
    return request.user.is_authenticated and hold.account_id == request.user.pk


@require_POST
def drop_reserve(request: HttpRequest, shop: str, product: str) -> HttpResponse:
    """Hold a copy for the fan and send them to checkout with it in their cart."""
    shop_obj = open_shop_or_404(shop)
    edition = edition_or_404(shop_obj, product, images=False)
    if _ip_limited(request):
        return too_many_tries(request, shop_obj, edition)
    email, problem = fan_email(request)
    if problem:
        return render_drop(
            request, shop_obj, edition, status=400, errors={"email": problem}, email=email
        )
    if _email_limited(request, email):
        return too_many_tries(request, shop_obj, edition)
    try:
        outcome = hold_take(shop=shop_obj, edition=edition, email=email, account=request.user)
    except SoldOut as exc:
        edition_availability_forget(edition=edition)
        shared = _shared_drop(
            request, shop_obj, edition, error=exc.message, email=email, status=409
        )
        return shared or render_drop(
            request, shop_obj, edition, status=409, error=exc.message, email=email
        )
    except KinfolkError as exc:
        return render_drop(
            request, shop_obj, edition, status=exc.status, error=exc.message, email=email
        )
    hold = outcome.hold
    if not outcome.created and not _owns(request, hold):
        message = _(
            "This e-mail address already holds a copy. Finish buying it where you reserved it, "
            "or try again when its hold runs out."
        )
        return render_drop(request, shop_obj, edition, status=409, error=message, email=email)
    hold_session.remember_hold(request, edition.pk, hold.token)
    if not request.user.is_authenticated:
        hold_session.remember_email(request, email)
    put_edition_in_cart(request, shop_obj, edition)
    if not outcome.created:
        messages.info(
            request, _("You already hold a copy: it is still yours until the timer ends.")
        )
    return see_other("storefront:checkout", shop_obj.slug)


@require_POST
def drop_waitlist(request: HttpRequest, shop: str, product: str) -> HttpResponse:
    """Put the fan on the sold-out drop's waitlist."""
    shop_obj = open_shop_or_404(shop)
    edition = edition_or_404(shop_obj, product)
    if _ip_limited(request):
        return too_many_tries(request, shop_obj, edition)
    email, problem = fan_email(request)
    context = drop_context(request, shop_obj, edition, now=clock.now())
    template = "storefront/drop_waitlist.html" if is_htmx(request) else "storefront/drop.html"
    if problem:
        context.update(errors={"email": problem}, email=email)
        return render(request, template, context, status=400)
    if context["phase"] != Phase.SOLD_OUT:
        messages.info(request, _("Copies are available again: reserve one now."))
        return see_other("storefront:drop", shop_obj.slug, edition.product.slug)
    waitlist_join(
        shop=shop_obj,
        edition=edition,
        email=email,
        account=request.user,
        language=translation.get_language(),
    )
    hold_session.remember_waitlist(request, edition.pk, email)
    if not request.user.is_authenticated:
        hold_session.remember_email(request, email)
    if is_htmx(request):
        context.update(on_waitlist=True)
        return render(request, template, context)
    messages.success(request, _("You're on the waitlist. We'll e-mail you if a copy comes free."))
    return see_other("storefront:drop", shop_obj.slug, edition.product.slug)


@require_POST
def drop_waitlist_leave(request: HttpRequest, shop: str, product: str) -> HttpResponse:
    """Take the fan off the drop's waitlist."""
    shop_obj = open_shop_or_404(shop)
    edition = edition_or_404(shop_obj, product)
    email = hold_session.waitlist_email(request, edition.pk)
    if request.user.is_authenticated:
        email = request.user.email
    if email:
        waitlist_leave(shop=shop_obj, edition=edition, email=email)
    hold_session.forget_waitlist(request, edition.pk)
    messages.info(request, _("You left the waitlist."))
    return see_other("storefront:drop", shop_obj.slug, edition.product.slug)
