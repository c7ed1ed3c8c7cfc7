"""Dashboard URLs included under ``<slug:shop>/`` by ``kinfolk.dashboard.urls``.

Every view goes through ``shop_view``; URL arguments that name rows use the names it scopes to
the shop (``release_id``, ``upload_id``, ``rule_id``, ``customer_id``, ``product_id``, ...).
"""

from django.urls import path

from kinfolk.dashboard.views import growth

urlpatterns: list = [
    path("growth/", growth.growth, name="growth"),
]
