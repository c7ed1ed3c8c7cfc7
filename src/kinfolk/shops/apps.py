from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "kinfolk.shops"
    label = "shops"
