"""Reads of the simulated processor."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kinfolk.core.errors import NotFound
from kinfolk.testpay.models import Charge, Refund


def charge_get(*, charge_id: uuid.UUID | str) -> Charge:
    """Return the charge, or raise NotFound (a merchant may poll it after the buyer returns)."""
    try:
        return Charge.objects.get(pk=charge_id)
    except (Charge.DoesNotExist, ValidationError, ValueError):
        raise NotFound(_("No such charge.")) from None


def refund_get(*, idempotency_key: str) -> Refund:
    """Return the refund made with ``idempotency_key``, or raise NotFound."""
    refund = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if refund is None:
        raise NotFound(_("No such refund."))
    return refund
