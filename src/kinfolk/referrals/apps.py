from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "kinfolk.referrals"
    verbose_name = _("Share links and rewards")
    default_auto_field = "django.db.models.BigAutoField"
