"""Writes of saved segments: a name and a ``SegmentFilter``, unique by name within a shop."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput, NotFound
from kinfolk.crm.models import SavedSegment
from kinfolk.crm.segment_filters import SegmentFilter
from kinfolk.shops.models import Shop

NAME_MAX_LENGTH = SavedSegment._meta.get_field("name").max_length


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("Give the segment a name."), field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(
            _("A name can be at most %(limit)s characters long.") % {"limit": NAME_MAX_LENGTH},
            field="name",
        )
    return name


def _name_taken(name: str) -> InvalidInput:
    return InvalidInput(
        _("There is already a segment called “%(name)s”; choose another name.") % {"name": name},
        field="name",
        code="duplicate",
    )


@transaction.atomic
def segment_save(
    *,
    shop: Shop,
    name: str,
    filters: SegmentFilter | None = None,
    segment: SavedSegment | None = None,
    by=None,
) -> SavedSegment:
    """Create a saved segment, or rename ``segment`` and/or replace its filters; return it.

    ``filters`` None keeps the segment's filters (a rename). Names are unique within the shop
    regardless of case; a name in use raises InvalidInput on ``name``.
    """
    if segment is not None and segment.shop_id != shop.pk:
        raise NotFound(_("No such segment."))
    name = _clean_name(name)
    others = SavedSegment.objects.filter(shop=shop, name__iexact=name)
    if segment is not None:
        others = others.exclude(pk=segment.pk)
    if others.exists():
        raise _name_taken(name)
    now = clock.now()
    if segment is None:
        segment = SavedSegment(shop=shop, created_at=now, created_by=by, filters={})
    segment.name = name
    if filters is not None:
        segment.filters = filters.as_dict()
    segment.updated_at = now
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        # Taken by a concurrent save between the check and the write.
        raise _name_taken(name) from None
    return segment


@transaction.atomic
def segment_delete(*, shop: Shop, segment: SavedSegment) -> None:
    """Delete the shop's saved segment (the customers in it are not touched)."""
    if segment.shop_id != shop.pk:
        raise NotFound(_("No such segment."))
    segment.delete()
