"""The certificate of authenticity of a copy the fan bought, as a PDF download.

Only the order's owner gets it, authorised as on the order page: the account that placed the
order (or that later confirmed its address), or the order's access token from its e-mail
(``?t=``). Anyone else gets 404, whether or not the order or the copy exists.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from kinfolk.core.errors import NotFound
from kinfolk.drops.certificates import (
    certificate_filename,
    certificate_for,
    certificate_pdf,
    copy_sold_with_order,
)
from kinfolk.orders.selectors import order_get_for_fan
from kinfolk.storefront.selectors import shop_for_order_page


@require_GET
def drop_certificate(request: HttpRequest, shop: str, number: str, copy_id: int) -> HttpResponse:
    """Return the certificate of copy ``copy_id`` sold with order ``number``, as a download."""
    shop_obj = shop_for_order_page(slug=shop)
    if shop_obj is None:
        raise Http404("No such shop.")
    try:
        order = order_get_for_fan(
            shop=shop_obj,
            number=number[:12],
            account=request.user,
            token=request.GET.get("t", "")[:64],
        )
    except NotFound:
        raise Http404("No such order.") from None
    copy = copy_sold_with_order(shop=shop_obj, order=order, copy_id=copy_id)
    if copy is None:
        raise Http404("No such copy.")
    verify_url = request.build_absolute_uri(
        reverse("storefront:verify", args=[copy.verification_code])
    )
    certificate = certificate_for(copy, shop=shop_obj, order=order, verify_url=verify_url)
    response = HttpResponse(certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificate_filename(copy)}"'
    # The file names the owner: keep it out of shared caches.
    response["Cache-Control"] = "private, no-store"
    return response
