from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "kinfolk.crm"
    label = "crm"
