"""Dashboard URLs of the import pages, included under ``<slug:shop>/`` by ``kinfolk.dashboard.urls``.

Every view goes through ``shop_view``; URL arguments that name rows use the names it scopes to
the shop (``customer_id``, ``segment_id``, ``import_id``, ``number``, ``product_id``).
"""

from django.urls import path

from kinfolk.dashboard.views import imports

urlpatterns: list = [
    path("imports/", imports.import_list, name="imports"),
    path("imports/<shop_row_id:import_id>/", imports.import_detail, name="import"),
]
