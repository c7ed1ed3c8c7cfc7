"""Dashboard URLs of the customer share pages, included under ``<slug:shop>/`` by ``kinfolk.dashboard.urls``.

Every view goes through ``shop_view``; URL arguments that name rows use the names it scopes to
the shop (``customer_id``, ``segment_id``, ``import_id``, ``number``, ``product_id``).
"""

from django.urls import path

from kinfolk.dashboard.views import share

urlpatterns = [
    path(
        "customers/<shop_row_id:customer_id>/share/",
        share.customer_share,
        name="customer_share",
    ),
    path("customer-share/", share.share_overview, name="share_overview"),
]
