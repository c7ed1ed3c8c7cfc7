"""Bank transfer or pay on pick-up: the order waits until staff mark it paid."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kinfolk.core.errors import Forbidden


class ManualProvider:
    code = "manual"
    label = _("Bank transfer or pay on pick-up")
    instructions = _(
        "The shop will confirm your order as soon as your payment arrives. "
        "Use your order number as the payment reference."
    )

    def start(self, *, payment, return_url: str, callback_url: str) -> str:
        return ""

    def cancel(self, *, payment) -> None:
        """Nothing to withdraw: the fan has not been asked for a card."""

    def parse_callback(self, *, body: bytes, headers: dict[str, str]):
        raise Forbidden("Manual payments have no callbacks.")
