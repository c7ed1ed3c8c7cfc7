from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReleasesConfig(AppConfig):
    name = "kinfolk.releases"
    verbose_name = _("Releases")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Paying an order puts its releases in the buyer's library; cancelling or refunding it
        # stops their links. The orders app calls these inside its own transactions.
        from kinfolk.orders import extensions
        from kinfolk.releases.personal_data import register_handlers
        from kinfolk.releases.services.delivery import (
            ORDER_LINE_RELATIONS,
            grants_give_for_order,
            grants_revoke_for_order,
        )

        @extensions.reads_order_lines(*ORDER_LINE_RELATIONS)
        def paid(*, shop, order) -> None:
            grants_give_for_order(shop=shop, order=order)

        def ended(*, shop, order) -> None:
            grants_revoke_for_order(shop=shop, order=order)

        extensions.register("releases", paid=paid, cancelled=ended, refunded=ended)
        # Gates hold addresses, grants and downloads a fan's history: privacy requests and
        # merges must reach them.
        register_handlers()
