"""Template tags that show a paid order's downloads wherever the order is shown (its page, its
e-mails), without those views knowing about releases."""

from __future__ import annotations

from django import template

from kinfolk.releases.selectors import order_downloads as order_downloads_select

register = template.Library()


@register.simple_tag
def order_downloads(order) -> list:
    """Return ``[(grant, [FileLink, ...]), ...]`` for the order's active release grants."""
    if order is None or not getattr(order, "pk", None):
        return []
    return order_downloads_select(shop=order.shop, order=order)
