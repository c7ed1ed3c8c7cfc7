from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "kinfolk.orders"
    label = "orders"
