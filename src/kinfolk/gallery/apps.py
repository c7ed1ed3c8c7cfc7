from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GalleryConfig(AppConfig):
    name = "kinfolk.gallery"
    verbose_name = _("Fan gallery")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Fans' photos are personal data: the CRM's privacy requests and merges must reach them.
        from kinfolk.gallery.personal_data import register_handlers

        register_handlers()
