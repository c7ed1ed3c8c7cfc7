from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "kinfolk.storefront"
    label = "storefront"
