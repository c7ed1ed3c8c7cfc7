"""A release's page (cover, description, price, preview player) and getting it: a free download
through the e-mail gate or in one click, or an amount into the cart for a paid one."""

from __future__ import annotations

import ipaddress

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kinfolk.core.errors import InvalidInput, KinfolkError, NotFound
from kinfolk.core.files import BadRange, parse_range, range_not_satisfiable
from kinfolk.core.money import Money
from kinfolk.orders.services.cart import cart_add, cart_get_or_create
from kinfolk.referrals.services import referral_code_from_request, referral_credit
from kinfolk.referrals.web import referral_kwargs, remember_customer, share_context
from kinfolk.releases.models import Grant, Release
from kinfolk.releases.selectors import (
    gate_get,
    grant_links,
    open_links,
    preview_file_get,
    release_get_for_page,
    release_is_free_now,
    release_playable,
    release_price,
)
from kinfolk.releases.services import email_gate_confirm, email_gate_request, free_claim
from kinfolk.releases.services.gates import NoLongerFree, release_is_free_to_get
from kinfolk.releases.web import gate_count, gate_full, gate_limits
from kinfolk.shops.models import Shop
from kinfolk.storefront.cart_session import cart_token, forget_count, remember_cart
from kinfolk.storefront.views.downloads import stream_file
from kinfolk.storefront.views.shop_request import open_shop_or_404, see_other, shop_context

TYPED_MAX = 254


def client_ip(request: HttpRequest) -> str | None:
    """Return the visitor's IP address (the socket's; a proxy in front sets REMOTE_ADDR)."""
    value = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def release_or_404(shop: Shop, slug: str) -> Release:
    """Return the release of the shop's active product ``slug`` or raise Http404."""
    try:
        return release_get_for_page(shop=shop, slug=slug)
    except NotFound:
        raise Http404("No such release.") from None


def marketing_wording(shop: Shop) -> str:
    """Return the words beside the mailing-list box, in the active language (kept as shown)."""
    return _("Also join %(shop)s's mailing list") % {"shop": shop.name}


def _fan_confirmed(request: HttpRequest) -> bool:
    return request.user.is_authenticated and request.user.email_confirmed


def _owned_grant(request: HttpRequest, release: Release) -> Grant | None:
    if not request.user.is_authenticated:
        return None
    return (
        Grant.objects.filter(release=release, revoked_at__isnull=True)
        .filter(customer__account=request.user)
        .first()
    )


def release_context(request: HttpRequest, shop: Shop, release: Release, **form) -> dict:
    """Return the release page's context; ``form`` holds typed values, errors and flags."""
    product = release.product
    price = release_price(release)
    images = list(product.images.all())
    suggested = release.suggested_price if release.suggested_price else price
    context = shop_context(request, shop)
    context.update(
        release=release,
        product=product,
        images=images,
        price=price,
        free_to_get=release.is_free,
        pwyw=release.pricing == Release.Pricing.PAY_WHAT_YOU_WANT,
        gated=release.email_gate and not _fan_confirmed(request),
        playable=[
            (file, reverse("storefront:release-preview", args=[shop.slug, product.slug, file.pk]))
            for file in release_playable(release)
        ],
        owned=_owned_grant(request, release),
        wording=marketing_wording(shop),
        values={
            "amount": str(Money(suggested, shop.currency).to_decimal()),
            "email": request.user.email if request.user.is_authenticated else "",
            **form.pop("values", {}),
        },
        errors=form.pop("errors", {}),
        show_gate=form.pop("show_gate", False),
        og=_open_graph(request, shop, release, images),
        release_source=f"release:{release.pk}",
        **share_context(
            request,
            shop=shop,
            path=reverse("storefront:release", args=[shop.slug, product.slug]),
            title=f"{product.name} · {shop.name}",
        ),
    )
    context.update(form)
    return context


def _open_graph(request: HttpRequest, shop: Shop, release: Release, images: list) -> dict:
    product = release.product
    summary = " ".join(strip_tags(product.description_html).split())
    return {
        "title": f"{product.name} · {shop.name}",
        "description": Truncator(summary or shop.description or product.name).chars(200),
        "url": request.build_absolute_uri(
            reverse("storefront:release", args=[shop.slug, product.slug])
        ),
        "image": request.build_absolute_uri(images[0].image.url) if images else "",
        "image_alt": (images[0].alt or product.name) if images else "",
    }


def render_release(
    request: HttpRequest, shop: Shop, release: Release, *, status: int = 200, **form
) -> HttpResponse:
    context = release_context(request, shop, release, **form)
    return render(request, "storefront/release.html", context, status=status)


@require_GET
def release_page(request: HttpRequest, shop: str, product: str) -> HttpResponse:
    """Show the release: cover, price, description, the preview player and how to get it."""
    shop_obj = open_shop_or_404(shop)
    release = release_or_404(shop_obj, product)
    return render_release(request, shop_obj, release, show_gate=request.GET.get("free") == "1")


@require_http_methods(["GET", "HEAD"])
def release_preview(request: HttpRequest, shop: str, product: str, file_id: int) -> HttpResponse:
    """Stream a preview (or a free release's audio) to the page's player, seekable by range."""
    shop_obj = open_shop_or_404(shop)
    release = release_or_404(shop_obj, product)
    try:
        file = preview_file_get(shop=shop_obj, release=release, file_id=file_id)
    except NotFound:
        raise Http404("No such file.") from None
    try:
        byte_range = parse_range(request.headers.get("Range", ""), file.size)
    except BadRange:
        return range_not_satisfiable(file.size)
    return stream_file(request, file, attachment=False, byte_range=byte_range)


@require_POST
def release_get(request: HttpRequest, shop: str, product: str) -> HttpResponse:
    """Get a free release: one click for a known fan or an ungated release, else the e-mail gate."""
    shop_obj = open_shop_or_404(shop)
    release = release_or_404(shop_obj, product)
    if not release_is_free_to_get(release, price=release_price(release)):
        messages.info(request, _("This release is not free: choose your amount."))
        return see_other("storefront:release", shop_obj.slug, release.product.slug)
    return _get_free(request, shop_obj, release)


def _get_free(request: HttpRequest, shop: Shop, release: Release) -> HttpResponse:
    if _fan_confirmed(request):
        claim = free_claim(shop=shop, release=release, account=request.user)
        referral_credit(
            shop=shop,
            customer=claim.customer,
            kind="download",
            subject_id=release.pk,
            **referral_kwargs(request, shop=shop),
        )
        return render_downloads(request, shop, release, grant=claim.grant)
    if not release.email_gate:
        return render_downloads(request, shop, release, grant=None)
    typed = request.POST.get("email", "")[:TYPED_MAX]
    wants = request.POST.get("marketing") == "1"
    values = {"email": typed, "marketing": wants, "amount": request.POST.get("amount", "")[:40]}
    limits = gate_limits(request, typed)
    busy = gate_full(request, limits)
    if busy:
        response = render_release(
            request,
            shop,
            release,
            status=429,
            values=values,
            errors={"email": busy},
            show_gate=True,
        )
        response["Retry-After"] = "3600"
        return response
    try:
        gate = email_gate_request(
            shop=shop,
            release=release,
            email=typed,
            wants_marketing=wants,
            marketing_wording=marketing_wording(shop),
            ip_address=client_ip(request),
            language=translation.get_language() or "en",
            referral_code=referral_code_from_request(request, shop=shop),
        )
    except KinfolkError as exc:
        errors = {exc.field or "email": exc.message}
        return render_release(
            request,
            shop,
            release,
            status=exc.status,
            values=values,
            errors=errors,
            show_gate=True,
        )
    gate_count(request, limits)
    context = shop_context(request, shop)
    context.update(release=release, product=release.product, email=gate.email)
    return render(request, "storefront/release_sent.html", context)


def render_downloads(
    request: HttpRequest,
    shop: Shop,
    release: Release,
    *,
    grant: Grant | None,
    consent_asked: bool = False,
) -> HttpResponse:
    """Render the download page: the files with their signed links and the share box."""
    links = grant_links(grant) if grant is not None else open_links(release)
    path = reverse("storefront:release", args=[shop.slug, release.product.slug])
    context = shop_context(request, shop)
    context.update(
        release=release,
        product=release.product,
        grant=grant,
        links=links,
        consent_asked=consent_asked,
        **share_context(request, shop=shop, path=path, title=release.product.name),
    )
    return render(request, "storefront/release_downloads.html", context)


@require_http_methods(["GET", "POST"])
def release_confirm(request: HttpRequest, shop: str, token: str) -> HttpResponse:
    """The e-mailed link: GET shows a button (mail scanners fetch links), POST confirms."""
    shop_obj = open_shop_or_404(shop)
    gate = gate_get(shop=shop_obj, token=token)
    if gate is None:
        return _unknown_gate(request, shop_obj)
    if gate.confirmed_at is None and not release_is_free_now(gate.release):
        return _no_longer_free(request, shop_obj, gate.release)
    if request.method == "GET":
        context = shop_context(request, shop_obj)
        context.update(gate=gate, release=gate.release, product=gate.release.product)
        return render(request, "storefront/release_confirm.html", context)
    try:
        claim = email_gate_confirm(shop=shop_obj, token=token, ip_address=client_ip(request))
    except NotFound:
        return _unknown_gate(request, shop_obj)
    except NoLongerFree:
        return _no_longer_free(request, shop_obj, gate.release)
    referral_credit(
        shop=shop_obj,
        customer=claim.customer,
        kind="download",
        subject_id=gate.release_id,
        referral_code=gate.referral_code,
    )
    # The visitor is known to the shop now: its pages show them their own share link.
    remember_customer(request, claim.customer)
    return render_downloads(
        request,
        shop_obj,
        gate.release,
        grant=claim.grant,
        consent_asked=claim.first and gate.wants_marketing,
    )


def _no_longer_free(request: HttpRequest, shop: Shop, release: Release) -> HttpResponse:
    """A confirmation link of a release made paid or taken off sale since: say so, grant
    nothing, and point to its page while it is on sale."""
    product = release.product
    context = shop_context(request, shop)
    context.update(
        kind="no_longer_free",
        product=product,
        release_url=(
            reverse("storefront:release", args=[shop.slug, product.slug])
            if product.status == product.Status.ACTIVE
            else ""
        ),
    )
    return render(request, "storefront/download_problem.html", context, status=410)


def _unknown_gate(request: HttpRequest, shop: Shop) -> HttpResponse:
    """A link whose request is gone (never confirmed within a week) or never was: say so and
    offer the release's form again when the link names it (``?r=<slug>``)."""
    release = None
    slug = request.GET.get("r", "")[:80]
    if slug:
        try:
            release = release_get_for_page(shop=shop, slug=slug)
        except NotFound:
            release = None
    if release is not None:
        return render_release(
            request,
            shop,
            release,
            status=404,
            show_gate=True,
            link_gone=True,
        )
    context = shop_context(request, shop)
    context.update(kind="gate_gone")
    return render(request, "storefront/download_problem.html", context, status=404)


@require_POST
def release_buy(request: HttpRequest, shop: str, product: str) -> HttpResponse:
    """Put a paid release in the cart at the fan's amount (at least its price); a pay-what-you-
    want amount of 0 gets it free instead."""
    shop_obj = open_shop_or_404(shop)
    release = release_or_404(shop_obj, product)
    if release.is_free:
        return _get_free(request, shop_obj, release)
    typed = request.POST.get("amount", "")[:40]
    price = release_price(release)
    try:
        amount = _parse_amount(typed, shop_obj.currency)
    except InvalidInput as exc:
        return render_release(
            request,
            shop_obj,
            release,
            status=400,
            values={"amount": typed},
            errors={"amount": exc.message},
        )
    if amount == 0 and release_is_free_to_get(release, price=price):
        if _fan_confirmed(request) or not release.email_gate:
            return _get_free(request, shop_obj, release)
        return render_release(request, shop_obj, release, values={"amount": typed}, show_gate=True)
    variant = release.product.variants.all()[0]
    account = request.user if request.user.is_authenticated else None
    cart = cart_get_or_create(shop=shop_obj, token=cart_token(request, shop_obj), account=account)
    remember_cart(request, shop_obj, cart)
    try:
        cart_add(
            shop=shop_obj,
            cart=cart,
            variant_id=variant.pk,
            unit_price=None if amount == price and release.pricing == "fixed" else amount,
        )
    except KinfolkError as exc:
        return render_release(
            request,
            shop_obj,
            release,
            status=400,
            values={"amount": typed},
            errors={"amount": exc.message},
        )
    forget_count(request, shop_obj)
    messages.success(
        request, _("Added %(product)s to your cart.") % {"product": release.product.name}
    )
    return see_other("storefront:cart", shop_obj.slug)


def _parse_amount(typed: str, currency: str) -> int:
    """Return the typed amount in minor units; InvalidInput (field ``amount``) when it is not a
    non-negative amount in ``currency``."""
    text = typed.strip().lstrip("₩$€£¥").strip()
    if not text:
        raise InvalidInput(_("Enter an amount, e.g. 5000."), field="amount")
    amount = Money.from_major(text, currency).amount
    if amount < 0:
        raise InvalidInput(_("Enter an amount of 0 or more."), field="amount")
    return amount
