from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "kinfolk.catalog"
    label = "catalog"

    def ready(self) -> None:
        from kinfolk.catalog.selectors import catalogue_for_crm
        from kinfolk.crm.services.share import share_catalogue_register

        # The CRM's nightly customer-share models measure fans against the catalogue, which the
        # CRM may not import (catalog -> crm): it asks the provider registered here. A second
        # registration replaces the first, so a ready() that runs twice is harmless.
        share_catalogue_register(catalogue_for_crm)
