"""The maker's dashboard at ``/dashboard/``; every page below ``<shop>/`` is that shop's only."""

from django.urls import include, path, register_converter

from kinfolk.dashboard.views import orders, overview, products


class ShopRowIdConverter:
    """A row id that fits a 64-bit column; longer digit strings match nothing (404, not 500)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(ShopRowIdConverter, "shop_row_id")

app_name = "dashboard"
urlpatterns = [
    path("", overview.home, name="home"),
    path("<slug:shop>/", overview.overview, name="overview"),
    path("<slug:shop>/orders/", orders.order_list, name="orders"),
    path("<slug:shop>/orders/<str:number>/", orders.order_detail, name="order"),
    path(
        "<slug:shop>/orders/<str:number>/mark-paid/",
        orders.order_mark_paid,
        name="order_mark_paid",
    ),
    path("<slug:shop>/orders/<str:number>/ship/", orders.order_ship, name="order_ship"),
    path(
        "<slug:shop>/orders/<str:number>/deliver/",
        orders.order_mark_delivered,
        name="order_mark_delivered",
    ),
    path("<slug:shop>/orders/<str:number>/cancel/", orders.order_cancel, name="order_cancel"),
    path("<slug:shop>/orders/<str:number>/refund/", orders.order_refund, name="order_refund"),
    path("<slug:shop>/products/", products.product_list, name="products"),
    path("<slug:shop>/products/new/", products.product_new, name="product_new"),
    path(
        "<slug:shop>/products/<shop_row_id:product_id>/",
        products.product_edit,
        name="product_edit",
    ),
    path(
        "<slug:shop>/products/<shop_row_id:product_id>/variants/new/",
        products.variant_new,
        name="variant_new",
    ),
    path(
        "<slug:shop>/products/<shop_row_id:product_id>/variants/<shop_row_id:variant_id>/",
        products.variant_edit,
        name="variant_edit",
    ),
    path(
        "<slug:shop>/products/<shop_row_id:product_id>/images/",
        products.product_image_add,
        name="product_image_add",
    ),
    # The relationship ledger: customers and segments, insights, imports, merges and privacy.
    path("<slug:shop>/", include("kinfolk.dashboard.customer_urls")),
    path("<slug:shop>/", include("kinfolk.dashboard.insight_urls")),
    path("<slug:shop>/", include("kinfolk.dashboard.import_urls")),
    path("<slug:shop>/", include("kinfolk.dashboard.privacy_urls")),
    path("<slug:shop>/", include("kinfolk.dashboard.share_urls")),
    # Limited editions: scheduling, the live drop, owners, certificates.
    path("<slug:shop>/", include("kinfolk.dashboard.drop_urls")),
    # Awareness: releases and downloads, share links and rewards, the fan gallery and followers,
    # and the growth page that measures them.
    path("<slug:shop>/", include("kinfolk.dashboard.release_urls")),
    path("<slug:shop>/", include("kinfolk.dashboard.reward_urls")),
    path("<slug:shop>/", include("kinfolk.dashboard.gallery_urls")),
    path("<slug:shop>/", include("kinfolk.dashboard.growth_urls")),
]
