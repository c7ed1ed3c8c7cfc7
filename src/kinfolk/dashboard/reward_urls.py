"""Dashboard URLs included under ``<slug:shop>/`` by ``kinfolk.dashboard.urls``.

Every view goes through ``shop_view``; URL arguments that name rows use the names it scopes to
the shop (``release_id``, ``upload_id``, ``rule_id``, ``customer_id``, ``product_id``, ...).
"""

from django.urls import path

from kinfolk.dashboard.views import rewards

urlpatterns: list = [
    path("rewards/", rewards.reward_list, name="rewards"),
    path("rewards/new/", rewards.reward_new, name="reward_new"),
    path("rewards/window/", rewards.reward_window, name="reward_window"),
    path("rewards/<shop_row_id:rule_id>/", rewards.reward_edit, name="reward_edit"),
    path("rewards/<shop_row_id:rule_id>/active/", rewards.reward_active, name="reward_active"),
]
