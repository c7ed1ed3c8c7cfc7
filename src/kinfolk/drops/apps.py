from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DropsConfig(AppConfig):
    name = "kinfolk.drops"
    verbose_name = _("Drops")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Paying an order sells its numbered copies; cancelling or refunding it frees them. The
        # orders app calls these inside its own transactions without importing the drops.
        from kinfolk.drops.personal_data import register_handlers
        from kinfolk.drops.services.checkout import (
            copies_free_for_ended_order,
            copies_sell_for_order,
        )
        from kinfolk.orders import extensions

        extensions.register(
            "drops",
            paid=copies_sell_for_order,
            cancelled=copies_free_for_ended_order,
            refunded=copies_free_for_ended_order,
        )
        # A fan's holds, waitlist places and drop e-mails are part of their data requests.
        register_handlers()
