"""The maker's releases: the list, a new release, its settings and its files.

Every POST calls one service of ``releases.services.setup``; a refusal shows the page again with
the message next to its field and everything staff typed (a refused file must be chosen again:
browsers never refill a file field).
"""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from kinfolk.core.errors import KinfolkError
from kinfolk.dashboard.forms import add_service_error, focus_first_error
from kinfolk.dashboard.release_forms import ReleaseFileForm, ReleaseForm
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.releases import stats
from kinfolk.releases.models import Release
from kinfolk.releases.services.setup import (
    max_file_bytes,
    release_create,
    release_file_add,
    release_file_move,
    release_file_remove,
    release_update,
)
from kinfolk.shops.models import Shop

SECTION = "releases"


def public_url(shop: Shop, release: Release) -> str:
    """Return the release's page for fans (``storefront:release``), or its path if the
    storefront does not name it yet."""
    try:
        return reverse(
            "storefront:release", kwargs={"shop": shop.slug, "product": release.product.slug}
        )
    except NoReverseMatch:
        return f"/{shop.slug}/releases/{release.product.slug}/"


def _render(request, shop, template, context, *, status=200) -> HttpResponse:
    return dashboard_render(request, shop, template, context, section=SECTION, status=status)


@shop_view()
def release_list(request: HttpRequest, shop: Shop) -> HttpResponse:
    """Every release of the shop with its price, files, downloads and public page."""
    rows = [
        {"release": release, "public_url": public_url(shop, release)}
        for release in stats.releases_for_dashboard(shop=shop)
    ]
    return _render(request, shop, "dashboard/releases.html", {"rows": rows})


def _save_error(form, exc: KinfolkError) -> None:
    add_service_error(form, exc)


@shop_view(methods=("GET", "POST"))
def release_new(request: HttpRequest, shop: Shop) -> HttpResponse:
    """A new release: a digital product and its price rule, made together."""
    form = ReleaseForm(request.POST if request.method == "POST" else None, currency=shop.currency)
    if request.method == "POST" and form.is_valid():
        try:
            release = release_create(shop=shop, **form.release_fields())
        except KinfolkError as exc:
            _save_error(form, exc)
        except IntegrityError:
            form.add_error("name", _("Another product already uses this address."))
        else:
            messages.success(
                request,
                _("%(name)s is created. Add its files next.") % {"name": release.product.name},
            )
            return redirect("dashboard:release", shop=shop.slug, release_id=release.pk)
    focus_first_error(form if form.is_bound else None)
    status = 400 if form.is_bound else 200
    return _render(request, shop, "dashboard/release_new.html", {"form": form}, status=status)


def _release_page(
    request: HttpRequest,
    shop: Shop,
    release: Release,
    *,
    form: ReleaseForm | None = None,
    file_form: ReleaseFileForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render a release's page; a bound form passed in replaces the blank one in its place."""
    if status != 200:
        # A refused service may have changed the objects in memory; show what is stored.
        release = Release.objects.select_related("product").get(pk=release.pk, shop=shop)
    price = stats.release_price(shop=shop, release=release)
    form = form or ReleaseForm.for_release(release, price=price, currency=shop.currency)
    focus_first_error(form if form.is_bound else None)
    focus_first_error(file_form)
    context = {
        "release": release,
        "price": price,
        "form": form,
        "file_form": file_form or ReleaseFileForm(),
        "files": stats.release_files(shop=shop, release=release),
        "download_count": stats.release_download_count(shop=shop, release=release),
        "public_url": public_url(shop, release),
        "max_file_bytes": max_file_bytes(),
    }
    return _render(request, shop, "dashboard/release.html", context, status=status)


@shop_view(methods=("GET", "POST"))
def release_detail(request: HttpRequest, shop: Shop, release: Release) -> HttpResponse:
    """A release's page; a POST saves its name, price rule, gate, limits and status."""
    if request.method != "POST":
        return _release_page(request, shop, release)
    price = stats.release_price(shop=shop, release=release)
    form = ReleaseForm.for_release(release, price=price, currency=shop.currency, data=request.POST)
    if form.is_valid():
        try:
            release_update(shop=shop, release=release, **form.release_fields())
        except KinfolkError as exc:
            _save_error(form, exc)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": release.product.name})
            return redirect("dashboard:release", shop=shop.slug, release_id=release.pk)
    return _release_page(request, shop, release, form=form, status=400)


@shop_view(methods=("POST",))
def release_file_new(request: HttpRequest, shop: Shop, release: Release) -> HttpResponse:
    """Upload a file to the release (its first bytes must show an accepted kind)."""
    form = ReleaseFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            row = release_file_add(
                shop=shop,
                release=release,
                upload=form.cleaned_data["file"],
                role=form.cleaned_data["role"],
            )
        except KinfolkError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("%(name)s is added.") % {"name": row.name})
            return redirect("dashboard:release", shop=shop.slug, release_id=release.pk)
    return _release_page(request, shop, release, file_form=form, status=400)


def _file_id(request: HttpRequest) -> int | None:
    value = request.POST.get("file_id", "")
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


@shop_view(methods=("POST",))
def release_file_delete(request: HttpRequest, shop: Shop, release: Release) -> HttpResponse:
    """Remove the file named by the POST field ``file_id`` from the release."""
    try:
        release_file_remove(shop=shop, release=release, file_id=_file_id(request) or 0)
    except KinfolkError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The file is removed."))
    return redirect("dashboard:release", shop=shop.slug, release_id=release.pk)


@shop_view(methods=("POST",))
def release_file_order(request: HttpRequest, shop: Shop, release: Release) -> HttpResponse:
    """Move the file named by ``file_id`` one place up or down (``move``)."""
    offset = {"up": -1, "down": 1}.get(request.POST.get("move", ""), 0)
    try:
        release_file_move(shop=shop, release=release, file_id=_file_id(request) or 0, offset=offset)
    except KinfolkError as exc:
        messages.error(request, exc.message)
    return redirect("dashboard:release", shop=shop.slug, release_id=release.pk)
