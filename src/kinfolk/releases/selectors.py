"""Reads of releases: every function takes the shop first and never returns another shop's rows."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kinfolk.core.errors import NotFound
from kinfolk.releases.models import Release
from kinfolk.shops.models import Shop


def release_get_for_shop(*, shop: Shop, release_id: int) -> Release:
    """Return the shop's release with this id (product loaded); raise NotFound for any other."""
    release = Release.objects.select_related("product").filter(shop=shop, pk=release_id).first()
    if release is None:
        raise NotFound(_("No such release."))
    return release
