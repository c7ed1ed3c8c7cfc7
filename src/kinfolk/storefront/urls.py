"""The fan-facing pages of each shop (``/<shop>/...``) and the platform's home page."""

from django.urls import path, register_converter

from kinfolk.storefront.views import cart, catalog, checkout, orders


class RowIdConverter:
    """A row id: digits that fit a 64-bit column (longer ones are "not found", not an error)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(RowIdConverter, "rowid")

app_name = "storefront"
urlpatterns = [
    path("", catalog.home, name="home"),
    path("<slug:shop>/", catalog.shop_page, name="shop"),
    path("<slug:shop>/p/<str:product>/", catalog.product_page, name="product"),
    path("<slug:shop>/cart/", cart.cart_page, name="cart"),
    path("<slug:shop>/cart/add/", cart.cart_add_view, name="cart-add"),
    path("<slug:shop>/cart/lines/<rowid:line_id>/", cart.cart_line_update, name="cart-line"),
    path(
        "<slug:shop>/cart/lines/<rowid:line_id>/remove/",
        cart.cart_line_remove,
        name="cart-line-remove",
    ),
    path("<slug:shop>/checkout/", checkout.checkout, name="checkout"),
    path("<slug:shop>/checkout/address/", checkout.checkout_address, name="checkout-address"),
    path("<slug:shop>/orders/<str:number>/", orders.order_page, name="order"),
    path("<slug:shop>/orders/<str:number>/status/", orders.order_status, name="order-status"),
    path("<slug:shop>/orders/<str:number>/retry/", orders.order_retry, name="order-retry"),
]
