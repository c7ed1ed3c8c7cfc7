"""Dashboard URLs of the privacy pages, included under ``<slug:shop>/`` by ``kinfolk.dashboard.urls``.

Every view goes through ``shop_view``; URL arguments that name rows use the names it scopes to
the shop (``customer_id``, ``segment_id``, ``import_id``, ``number``, ``product_id``).
"""

from django.urls import path

from kinfolk.dashboard.views import privacy

urlpatterns = [
    path(
        "customers/<shop_row_id:customer_id>/merge/",
        privacy.customer_merge_page,
        name="customer_merge",
    ),
    path(
        "customers/<shop_row_id:customer_id>/data/",
        privacy.customer_data_download,
        name="customer_data_export",
    ),
    path(
        "customers/<shop_row_id:customer_id>/erase/",
        privacy.customer_erase_page,
        name="customer_erase",
    ),
]
