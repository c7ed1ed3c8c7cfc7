"""The fan-facing pages of each shop (``/<shop>/...``) and the platform's home page."""

from django.urls import path

# The converters first: the URL modules below use them.
from kinfolk.storefront import (
    converters,  # noqa: F401
    gallery_urls,
    referral_urls,
    release_urls,
)
from kinfolk.storefront.views import (
    cart,
    catalog,
    checkout,
    drop_holds,
    drops,
    orders,
    privacy,
    verify,
)
from kinfolk.storefront.views import certificates as certificate_views

app_name = "storefront"
urlpatterns = [
    path("", catalog.home, name="home"),
    # The fan's data, shop by shop; under the account pages' prefix (no shop may be "accounts").
    path("accounts/data/", privacy.privacy_home, name="privacy"),
    path("accounts/data/<slug:shop>/download/", privacy.privacy_download, name="privacy-download"),
    path("accounts/data/<slug:shop>/erase/", privacy.privacy_erase, name="privacy-erase"),
    # Certificates of authenticity, checked by anyone (before the shops: no shop is "verify").
    path("verify/", verify.verify_form, name="verify-form"),
    path("verify/<str:code>/", verify.verify_code, name="verify"),
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
    path("<slug:shop>/drops/<str:product>/", drops.drop_page, name="drop"),
    path("<slug:shop>/drops/<str:product>/left/", drops.drop_left, name="drop-left"),
    path("<slug:shop>/drops/<str:product>/reserve/", drops.drop_reserve, name="drop-reserve"),
    path("<slug:shop>/drops/<str:product>/waitlist/", drops.drop_waitlist, name="drop-waitlist"),
    path(
        "<slug:shop>/drops/<str:product>/waitlist/leave/",
        drops.drop_waitlist_leave,
        name="drop-waitlist-leave",
    ),
    path(
        "<slug:shop>/drops/<str:product>/holds/<str:token>/",
        drop_holds.drop_hold,
        name="drop-hold",
    ),
    path(
        "<slug:shop>/drops/<str:product>/holds/<str:token>/buy/",
        drop_holds.drop_hold_claim,
        name="drop-hold-claim",
    ),
    path(
        "<slug:shop>/drops/<str:product>/holds/<str:token>/give-back/",
        drop_holds.drop_hold_release,
        name="drop-hold-release",
    ),
    path("<slug:shop>/orders/<str:number>/", orders.order_page, name="order"),
    path("<slug:shop>/orders/<str:number>/status/", orders.order_status, name="order-status"),
    path("<slug:shop>/orders/<str:number>/retry/", orders.order_retry, name="order-retry"),
    path(
        "<slug:shop>/orders/<str:number>/certificates/<rowid:copy_id>/",
        certificate_views.drop_certificate,
        name="drop_certificate",
    ),
]
# Releases and downloads, share links and rewards, the fan gallery and following a shop.
urlpatterns += release_urls.urlpatterns + referral_urls.urlpatterns + gallery_urls.urlpatterns
