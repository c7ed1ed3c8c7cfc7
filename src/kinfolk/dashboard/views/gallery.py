"""The fan gallery's moderation queue: uploads waiting for review, approved and not shown, with
previews, and the decision on each (approve, or reject with a reason; a decision may be changed).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from kinfolk.core.errors import KinfolkError
from kinfolk.dashboard.views.access import dashboard_render, shop_view
from kinfolk.gallery.delivery import upload_file_response
from kinfolk.gallery.models import FanUpload
from kinfolk.gallery.selectors import upload_counts, uploads_for_review
from kinfolk.gallery.services import REASON_LENGTH, upload_approve, upload_reject
from kinfolk.shops.models import Shop

PER_PAGE = 24


def _status_of(value: str | None) -> str:
    return value if value in FanUpload.Status.values else FanUpload.Status.PENDING


def _queue(request: HttpRequest, shop: Shop, status: str, *, page_number, errors=None, typed=None):
    counts = upload_counts(shop=shop)
    tabs = [(value, label, counts[value]) for value, label in FanUpload.Status.choices]
    page = Paginator(uploads_for_review(shop=shop, status=status), PER_PAGE).get_page(page_number)
    context = {
        "status": status,
        "tabs": tabs,
        "page": page,
        "uploads": list(page.object_list),
        "errors": errors or {},
        "typed": typed or {},
        "reason_length": REASON_LENGTH,
    }
    return dashboard_render(
        request,
        shop,
        "dashboard/gallery.html",
        context,
        section="gallery",
        status=400 if errors else 200,
    )


@shop_view()
def gallery_queue(request: HttpRequest, shop: Shop) -> HttpResponse:
    """One tab of the queue (``?status=pending|approved|rejected``), 24 a page."""
    status = _status_of(request.GET.get("status"))
    return _queue(request, shop, status, page_number=request.GET.get("page"))


@shop_view()
def gallery_file(request: HttpRequest, shop: Shop, upload: FanUpload) -> HttpResponse:
    """The upload's file for staff to look at, whatever its status; never kept by browsers."""
    return upload_file_response(request, upload, public=False)


@shop_view(methods=("POST",))
def gallery_moderate(request: HttpRequest, shop: Shop, upload: FanUpload) -> HttpResponse:
    """Approve the upload (``decision=approve``) or reject it with a reason, then go back to
    the tab it was on."""
    back = _status_of(request.POST.get("tab") or upload.status)
    page = (request.POST.get("page") or "")[:9]
    reason = request.POST.get("reason", "")
    try:
        if request.POST.get("decision") == "approve":
            upload_approve(shop=shop, upload=upload, by=request.user)
            messages.success(request, _("Approved: it is in the gallery now."))
        else:
            upload_reject(shop=shop, upload=upload, by=request.user, reason=reason)
            messages.info(request, _("Rejected: it is not shown in the gallery."))
    except KinfolkError as exc:
        return _queue(
            request,
            shop,
            back,
            page_number=page,
            errors={upload.pk: exc.message},
            typed={upload.pk: reason[:REASON_LENGTH]},
        )
    url = reverse("dashboard:gallery", kwargs={"shop": shop.slug}) + f"?status={back}"
    if page.isdigit():
        url += f"&page={page}"
    return redirect(url, permanent=False)
