"""Reads of the simulated processor."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from kinfolk.core.errors import NotFound
from kinfolk.core.prepared import PreparedQuery
from kinfolk.testpay.models import Charge

# The charge by its id as the database stores it (compiled once per process: see
# PreparedQuery; on a database with a UUID type the id is no plain value and the ORM reads it).
_CHARGE = PreparedQuery(lambda charge_id: Charge.objects.filter(pk=charge_id))


def charge_get(*, charge_id: uuid.UUID | str) -> Charge:
    """Return the charge, or raise NotFound (a merchant may poll it after the buyer returns)."""
    try:
        value = charge_id if isinstance(charge_id, uuid.UUID) else uuid.UUID(str(charge_id))
        found = _CHARGE.objects(Charge._meta.pk.get_db_prep_value(value, connection))
    except (ValidationError, ValueError):
        found = []
    if not found:
        raise NotFound(_("No such charge."))
    return found[0]
