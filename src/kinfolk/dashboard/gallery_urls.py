"""Dashboard URLs included under ``<slug:shop>/`` by ``kinfolk.dashboard.urls``.

Every view goes through ``shop_view``; URL arguments that name rows use the names it scopes to
the shop (``release_id``, ``upload_id``, ``rule_id``, ``customer_id``, ``product_id``, ...).
"""

from django.urls import path

from kinfolk.dashboard.views import followers, gallery

urlpatterns: list = [
    path("gallery/", gallery.gallery_queue, name="gallery"),
    path("gallery/<shop_row_id:upload_id>/file/", gallery.gallery_file, name="gallery_file"),
    path(
        "gallery/<shop_row_id:upload_id>/moderate/",
        gallery.gallery_moderate,
        name="gallery_moderate",
    ),
    path("followers/", followers.follower_list, name="followers"),
    path("followers.csv", followers.followers_csv, name="followers_csv"),
]
