"""URL map: platform pages, the maker's dashboard, the operators' admin, and each shop's pages
(``/<shop>/...``, last, so fixed prefixes win; shop slugs cannot take a reserved prefix)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve as serve_file

from kinfolk.core.views import health

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("testpay/", include("kinfolk.testpay.urls")),
    path("", include("kinfolk.orders.urls")),
    path("accounts/", include("kinfolk.storefront.account_urls")),
    path("dashboard/", include("kinfolk.dashboard.urls")),
    path("", include("kinfolk.storefront.urls")),
]
if settings.SERVE_MEDIA:
    # Uploaded images served by the app itself so that one process is a whole shop; a larger
    # installation sets KINFOLK_SERVE_MEDIA=0 and lets its web server or object storage do it.
    urlpatterns.insert(
        0,
        re_path(
            rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$",
            serve_file,
            {"document_root": settings.MEDIA_ROOT},
        ),
    )

handler404 = "kinfolk.core.views.not_found"
handler500 = "kinfolk.core.views.server_error"
