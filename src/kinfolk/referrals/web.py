"""What the storefront's pages need to show a visitor their share link and share buttons."""

from __future__ import annotations

from django.http import HttpRequest

from kinfolk.shops.models import Shop


def share_context(request: HttpRequest, *, shop: Shop, path: str, title: str = "") -> dict:
    """Return the context of ``storefront/_share.html`` for the page at ``path``: the visitor's
    personal link to it (when the shop knows them) and plain share-intent links; {} when there
    is nothing to show."""
    return {}
