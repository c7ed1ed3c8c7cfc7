"""Fan-facing URLs, added to ``kinfolk.storefront.urls`` (namespace ``storefront``).

Shop pages live under ``<slug:shop>/``; the fan's own pages under ``accounts/`` (no shop may be
called "accounts"). Row ids use the ``rowid`` converter.
"""

urlpatterns: list = []
