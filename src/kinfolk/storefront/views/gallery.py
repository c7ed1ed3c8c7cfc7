"""The shop's fan gallery: approved photos and videos with each fan's credit and share link,
the form to add one, and the files themselves."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from kinfolk.catalog.selectors import products_active
from kinfolk.core.errors import KinfolkError, NotFound
from kinfolk.gallery.delivery import upload_file_response
from kinfolk.gallery.inspection import max_image_bytes, max_video_bytes
from kinfolk.gallery.models import FanUpload
from kinfolk.gallery.selectors import upload_get_public, uploads_approved
from kinfolk.gallery.services import (
    CAPTION_LENGTH,
    CREDIT_LENGTH,
    QUOTA_CODES,
    default_credit,
    upload_submit,
)
from kinfolk.referrals.models import ShareLink
from kinfolk.referrals.services import share_link_get_or_create
from kinfolk.shops.models import Shop
from kinfolk.shops.selectors import membership_role
from kinfolk.storefront.templatetags.follows import follow_button_context
from kinfolk.storefront.views.shop_request import (
    open_shop_or_404,
    parse_id,
    see_other,
    shop_context,
)

PER_PAGE = 24
ACCEPT = "image/jpeg,image/png,image/webp,video/mp4,video/quicktime,video/webm"


class UploadForm(forms.Form):
    """What a fan sends with their file; the service decides what the file is."""

    file = forms.FileField(label=gettext_lazy("Photo or video"), required=False)
    caption = forms.CharField(
        label=gettext_lazy("Caption"), max_length=CAPTION_LENGTH, required=False
    )
    credit = forms.CharField(
        label=gettext_lazy("Show my name as"),
        max_length=CREDIT_LENGTH,
        required=False,
        help_text=gettext_lazy("Shown beside your photo or video. Leave empty to stay anonymous."),
    )
    product = forms.ChoiceField(label=gettext_lazy("What it shows"), required=False, choices=())
    rights = forms.BooleanField(
        label=gettext_lazy(
            "I took this photo or video, and the shop may show it in its gallery with my name."
        ),
        required=False,
    )

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", _("Nothing in particular"))] + [
            (str(product.pk), product.name) for product in products
        ]
        self.fields["file"].widget.attrs.update({"accept": ACCEPT})
        self.fields["rights"].widget.attrs.update({"class": "checkbox"})


def _is_staff(request: HttpRequest, shop: Shop) -> bool:
    user = request.user
    return user.is_authenticated and membership_role(shop=shop, user=user) is not None


def _with_share_urls(request: HttpRequest, shop: Shop, uploads: list[FanUpload]) -> None:
    """Give each upload ``share_url``: the shop's page through its fan's personal link."""
    shop_url = request.build_absolute_uri(reverse("storefront:shop", args=[shop.slug]))
    for upload in uploads:
        links = upload.customer.shop_links
        link = links[0] if links else share_link_get_or_create(shop=shop, customer=upload.customer)
        upload.customer.shop_links = [link]
        upload.share_url = f"{shop_url}?via={link.code}"


@require_GET
def gallery_page(request: HttpRequest, shop: str) -> HttpResponse:
    """Approved photos and videos, newest first, 24 a page."""
    shop_obj = open_shop_or_404(shop)
    uploads = uploads_approved(shop=shop_obj).prefetch_related(
        Prefetch(
            "customer__share_links",
            queryset=ShareLink.objects.filter(shop=shop_obj),
            to_attr="shop_links",
        )
    )
    page = Paginator(uploads, PER_PAGE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    _with_share_urls(request, shop_obj, items)
    context = shop_context(request, shop_obj)
    context.update(page=page, items=items)
    return render(request, "storefront/gallery.html", context)


def _upload_context(request: HttpRequest, shop: Shop, form: UploadForm) -> dict:
    context = shop_context(request, shop)
    context.update(
        form=form,
        max_image_mb=max_image_bytes() // (1024 * 1024),
        max_video_mb=max_video_bytes() // (1024 * 1024),
    )
    return context


def _body_too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > max(max_image_bytes(), max_video_bytes()) + 1024 * 1024


@require_http_methods(["GET", "POST"])
def gallery_upload(request: HttpRequest, shop: str) -> HttpResponse:
    """The form to add a photo or video; fans with a confirmed address only."""
    shop_obj = open_shop_or_404(shop)
    user = request.user
    if not user.is_authenticated or not user.email_confirmed:
        context = shop_context(request, shop_obj)
        context["follow"] = follow_button_context(
            request, shop_obj, next_url=request.get_full_path(), source="gallery"
        )
        context["unconfirmed"] = user.is_authenticated
        return render(request, "storefront/gallery_login.html", context, status=200)
    products = list(products_active(shop=shop_obj).only("pk", "name").order_by("name"))
    if request.method == "GET":
        form = UploadForm(products=products, initial={"credit": default_credit(user)})
        return render(
            request, "storefront/gallery_upload.html", _upload_context(request, shop_obj, form)
        )
    if _body_too_large(request):
        # Refused from the header: a file far over every limit is not written to a temp file.
        form = UploadForm(products=products, initial={"credit": default_credit(user)})
        form.add_error(
            None,
            _("This file is too large: photos may be up to %(image)s MB, videos %(video)s MB.")
            % {
                "image": max_image_bytes() // (1024 * 1024),
                "video": max_video_bytes() // (1024 * 1024),
            },
        )
        context = _upload_context(request, shop_obj, form)
        return render(request, "storefront/gallery_upload.html", context, status=413)
    form = UploadForm(request.POST, request.FILES, products=products)
    if form.is_valid():
        data = form.cleaned_data
        try:
            upload_submit(
                shop=shop_obj,
                account=user,
                file=data["file"],
                caption=data["caption"],
                credit=data["credit"],
                product_id=parse_id(data["product"]),
                rights_confirmed=data["rights"],
            )
        except KinfolkError as exc:
            for field, message in (exc.errors or {None: exc.message}).items():
                form.add_error(field if field in form.fields else None, message)
            if exc.code in QUOTA_CODES:
                context = _upload_context(request, shop_obj, form)
                return render(request, "storefront/gallery_upload.html", context, status=429)
        else:
            messages.success(
                request,
                _("Thank you! The shop will look at it soon; it appears here once approved."),
            )
            return see_other("storefront:gallery", shop_obj.slug)
    context = _upload_context(request, shop_obj, form)
    return render(request, "storefront/gallery_upload.html", context, status=400)


@require_GET
def gallery_file(request: HttpRequest, shop: str, upload_id: int) -> HttpResponse:
    """An approved item's file (any of the shop's items for its staff), streamed."""
    shop_obj = open_shop_or_404(shop)
    staff = _is_staff(request, shop_obj)
    try:
        upload = upload_get_public(shop=shop_obj, upload_id=upload_id, staff=staff)
    except NotFound:
        raise Http404("No such upload.") from None
    public = upload.status == FanUpload.Status.APPROVED
    return upload_file_response(request, upload, public=public)
