"""Fan-facing URLs, added to ``kinfolk.storefront.urls`` (namespace ``storefront``).

Shop pages live under ``<slug:shop>/``; the fan's own pages under ``accounts/`` (no shop may be
called "accounts"). Row ids use the ``rowid`` converter.
"""

from django.urls import path

from kinfolk.storefront.views import follows, gallery

urlpatterns: list = [
    path("<slug:shop>/follow/", follows.follow, name="follow"),
    path("<slug:shop>/gallery/", gallery.gallery_page, name="gallery"),
    path("<slug:shop>/gallery/upload/", gallery.gallery_upload, name="gallery-upload"),
    path(
        "<slug:shop>/gallery/<rowid:upload_id>/file/",
        gallery.gallery_file,
        name="gallery-file",
    ),
]
