"""Dashboard URLs of the customer pages, included under ``<slug:shop>/`` by ``kinfolk.dashboard.urls``.

Every view goes through ``shop_view``; URL arguments that name rows use the names it scopes to
the shop (``customer_id``, ``segment_id``, ``import_id``, ``number``, ``product_id``).
"""

from django.urls import path

from kinfolk.dashboard.views import customer_page, customers, segments

urlpatterns: list = [
    path("customers/", customers.customer_list, name="customers"),
    path("customers/export.csv", customers.customers_export, name="customers_export"),
    path(
        "customers/<shop_row_id:customer_id>/",
        customer_page.customer_detail,
        name="customer",
    ),
    path(
        "customers/<shop_row_id:customer_id>/notes/",
        customer_page.customer_note_add,
        name="customer_note_add",
    ),
    path(
        "customers/<shop_row_id:customer_id>/tags/",
        customer_page.customer_tag_add,
        name="customer_tag_add",
    ),
    path(
        "customers/<shop_row_id:customer_id>/tags/remove/",
        customer_page.customer_tag_remove,
        name="customer_tag_remove",
    ),
    path(
        "customers/<shop_row_id:customer_id>/dates/",
        customer_page.customer_date_add,
        name="customer_date_add",
    ),
    path(
        "customers/<shop_row_id:customer_id>/dates/remove/",
        customer_page.customer_date_delete,
        name="customer_date_delete",
    ),
    path("segments/", segments.segment_list, name="segments"),
    path("segments/new/", segments.segment_new, name="segment_new"),
    path("segments/<shop_row_id:segment_id>/", segments.segment_detail, name="segment"),
    path(
        "segments/<shop_row_id:segment_id>/edit/",
        segments.segment_update,
        name="segment_update",
    ),
    path(
        "segments/<shop_row_id:segment_id>/delete/",
        segments.segment_delete,
        name="segment_delete",
    ),
]
