"""Reads of the fan gallery: the shop first, never another shop's rows."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kinfolk.core.errors import NotFound
from kinfolk.gallery.models import FanUpload
from kinfolk.shops.models import Shop


def upload_get_for_shop(*, shop: Shop, upload_id: int) -> FanUpload:
    """Return the shop's fan upload with this id (any status, for staff); raise NotFound else."""
    upload = FanUpload.objects.select_related("customer").filter(shop=shop, pk=upload_id).first()
    if upload is None:
        raise NotFound(_("No such upload."))
    return upload
