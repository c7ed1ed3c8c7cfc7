"""Dashboard URLs included under ``<slug:shop>/`` by ``kinfolk.dashboard.urls``.

Every view goes through ``shop_view``; URL arguments that name rows use the names it scopes to
the shop (``release_id``, ``upload_id``, ``rule_id``, ``customer_id``, ``product_id``, ...).
A release's file is named by the POST field ``file_id`` and looked up within the release.
"""

from django.urls import path

from kinfolk.dashboard.views import releases

urlpatterns: list = [
    path("releases/", releases.release_list, name="releases"),
    path("releases/new/", releases.release_new, name="release_new"),
    path("releases/<shop_row_id:release_id>/", releases.release_detail, name="release"),
    path(
        "releases/<shop_row_id:release_id>/files/",
        releases.release_file_new,
        name="release_file_add",
    ),
    path(
        "releases/<shop_row_id:release_id>/files/remove/",
        releases.release_file_delete,
        name="release_file_remove",
    ),
    path(
        "releases/<shop_row_id:release_id>/files/move/",
        releases.release_file_order,
        name="release_file_move",
    ),
]
