from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kinfolk.core"
    label = "core"
