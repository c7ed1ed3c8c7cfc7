"""The text that tells a person trying the demo how to log in (printed, and kept in the data
folder for ``kinfolk serve`` to print again)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kinfolk.demo.catalogue import DEMO_PASSWORD
from kinfolk.demo.shops import Logins
from kinfolk.shops.models import Shop


def logins_text(*, shops: list[Shop], logins: Logins) -> str:
    """Return the demo's logins as aligned lines, with the warning that they are for demos only."""
    rows = [
        (
            _("Owner (%(shop)s, %(currency)s):") % {"shop": shop.name, "currency": shop.currency},
            logins.owners[shop.slug].email,
        )
        for shop in shops
    ]
    rows += [
        (_("Staff (both shops):"), logins.staff.email),
        (_("Fan:"), logins.fan.email),
        (_("Platform operator (/admin/):"), logins.admin.email),
    ]
    width = max(len(label) for label, _email in rows) + 1
    lines = [_("Kinfolk demo is ready.")]
    lines += [f"  {label:<{width}}{email} / {DEMO_PASSWORD}" for label, email in rows]
    lines.append(
        _(
            "The password %(password)s is for trying Kinfolk out only: never use the demo data "
            "on a server others can reach."
        )
        % {"password": DEMO_PASSWORD}
    )
    return "\n".join(lines)
