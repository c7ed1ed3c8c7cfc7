from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "kinfolk.catalog"
    label = "catalog"
