"""Looking up one row of a shop's ledger by id: another shop's id is simply not found."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kinfolk.core.errors import NotFound
from kinfolk.crm.models import Customer, ImportRun, SavedSegment
from kinfolk.shops.models import Shop


def customer_get_for_shop(*, shop: Shop, customer_id: int) -> Customer:
    """Return the shop's customer with this id; raise NotFound for any other."""
    customer = Customer.objects.filter(shop=shop, pk=customer_id).first()
    if customer is None:
        raise NotFound(_("No such customer."))
    return customer


def segment_get_for_shop(*, shop: Shop, segment_id: int) -> SavedSegment:
    """Return the shop's saved segment with this id; raise NotFound for any other."""
    segment = SavedSegment.objects.filter(shop=shop, pk=segment_id).first()
    if segment is None:
        raise NotFound(_("No such segment."))
    return segment


def import_run_get_for_shop(*, shop: Shop, import_id: int) -> ImportRun:
    """Return the shop's import run with this id; raise NotFound for any other."""
    run = ImportRun.objects.filter(shop=shop, pk=import_id).first()
    if run is None:
        raise NotFound(_("No such import."))
    return run
