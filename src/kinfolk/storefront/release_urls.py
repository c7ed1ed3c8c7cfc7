"""Fan-facing URLs, added to ``kinfolk.storefront.urls`` (namespace ``storefront``).

Shop pages live under ``<slug:shop>/``; the fan's own pages under ``accounts/`` (no shop may be
called "accounts"). Row ids use the ``rowid`` converter.
"""

from django.urls import path

from kinfolk.storefront.views import downloads, releases, subscriptions

urlpatterns: list = [
    path(
        "accounts/library/<rowid:grant_id>/<rowid:file_id>/",
        downloads.library_download,
        name="library-download",
    ),
    path("<slug:shop>/releases/<str:product>/", releases.release_page, name="release"),
    # Before the confirmation link: a product may be called "get".
    path("<slug:shop>/releases/<str:product>/get/", releases.release_get, name="release-get"),
    path("<slug:shop>/releases/<str:product>/buy/", releases.release_buy, name="release-buy"),
    path(
        "<slug:shop>/releases/<str:product>/preview/<rowid:file_id>/",
        releases.release_preview,
        name="release-preview",
    ),
    path("<slug:shop>/releases/get/<str:token>/", releases.release_confirm, name="release-confirm"),
    path("<slug:shop>/downloads/<str:token>/", downloads.release_download, name="release-download"),
    path(
        "<slug:shop>/downloads/<str:token>/fresh/",
        downloads.release_download_fresh,
        name="release-download-fresh",
    ),
    path("<slug:shop>/subscribe/<str:token>/", subscriptions.subscribe_confirm, name="subscribe"),
    path("<slug:shop>/unsubscribe/<str:signed>/", subscriptions.unsubscribe, name="unsubscribe"),
]
