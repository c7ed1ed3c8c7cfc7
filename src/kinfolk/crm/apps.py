from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "kinfolk.crm"
    label = "crm"

    def ready(self) -> None:
        from kinfolk.crm.audience_data import register_handlers

        register_handlers()
