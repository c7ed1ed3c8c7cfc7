from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DropsConfig(AppConfig):
    name = "kinfolk.drops"
    verbose_name = _("Drops")
    default_auto_field = "django.db.models.BigAutoField"
