"""Dashboard URLs of the drops pages, included under ``<slug:shop>/`` by ``kinfolk.dashboard.urls``.

Every view goes through ``shop_view``; URL arguments that name rows use the names it scopes to
the shop (``edition_id``, ``customer_id``, ``number``, ``product_id``, ...).
"""

from django.urls import path

from kinfolk.dashboard.views import drops

urlpatterns: list = [
    path("drops/", drops.drop_list, name="drops"),
    path("drops/new/", drops.drop_new, name="drop_new"),
    path("drops/<shop_row_id:edition_id>/", drops.drop_detail, name="drop"),
    path("drops/<shop_row_id:edition_id>/edit/", drops.drop_edit, name="drop_edit"),
    path("drops/<shop_row_id:edition_id>/owners/", drops.drop_owners, name="drop_owners"),
    path(
        "drops/<shop_row_id:edition_id>/owners.csv", drops.drop_owners_csv, name="drop_owners_csv"
    ),
]
