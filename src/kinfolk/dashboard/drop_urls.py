"""Dashboard URLs of the drops pages, included under ``<slug:shop>/`` by ``kinfolk.dashboard.urls``.

Every view goes through ``shop_view``; URL arguments that name rows use the names it scopes to
the shop (``edition_id``, ``customer_id``, ``number``, ``product_id``, ...).
"""

from django.urls import path  # noqa: F401

urlpatterns: list = []
