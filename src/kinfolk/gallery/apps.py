from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GalleryConfig(AppConfig):
    name = "kinfolk.gallery"
    verbose_name = _("Fan gallery")
    default_auto_field = "django.db.models.BigAutoField"
