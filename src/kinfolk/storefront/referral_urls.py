"""Fan-facing URLs, added to ``kinfolk.storefront.urls`` (namespace ``storefront``).

Shop pages live under ``<slug:shop>/``; the fan's own pages under ``accounts/`` (no shop may be
called "accounts"). Row ids use the ``rowid`` converter.
"""

from django.urls import path

from kinfolk.storefront.views import sharing

urlpatterns: list = [
    # The fan's share links, friends brought and rewards, shop by shop.
    path("accounts/sharing/", sharing.sharing_home, name="sharing"),
]
