"""Dashboard URLs of the insight pages, included under ``<slug:shop>/`` by ``kinfolk.dashboard.urls``.

Every view goes through ``shop_view``; URL arguments that name rows use the names it scopes to
the shop (``customer_id``, ``segment_id``, ``import_id``, ``number``, ``product_id``).
"""

from django.urls import path

from kinfolk.dashboard.views import insights

urlpatterns = [
    path("insights/", insights.insights, name="insights"),
]
