from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "kinfolk.referrals"
    verbose_name = _("Share links and rewards")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kinfolk.referrals.discounts import register_discounts
        from kinfolk.referrals.orders_hook import register_order_handlers
        from kinfolk.referrals.personal_data import register_handlers

        # A paid order credits the fan who brought its buyer; checkout takes reward codes. The
        # orders app calls both without importing referrals.
        register_order_handlers()
        register_discounts()
        register_handlers()
