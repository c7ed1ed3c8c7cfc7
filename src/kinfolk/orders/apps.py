from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "kinfolk.orders"
    label = "orders"

    def ready(self) -> None:
        # Orders hold buyers' addresses: the CRM's privacy requests and merges must reach them.
        from kinfolk.orders.personal_data import register_handlers

        register_handlers()
