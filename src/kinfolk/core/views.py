"""Platform-wide views: the health check and the error pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def health(request: HttpRequest) -> HttpResponse:
    """Answer "ok" without touching the database: the yardstick for benchmarks and probes."""
    return HttpResponse("ok", content_type="text/plain")


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
