"""The hot reads written for ``core.prepared`` are compiled once, not silently run as querysets:
a queryset whose parameters come out in another order than its values (the keywords of one
``filter()`` are sorted, say) would still give the right rows, only slower, and nothing else
would notice."""

from __future__ import annotations

import pytest

from kinfolk.catalog import selectors as catalog
from kinfolk.crm.services import customers
from kinfolk.drops import selectors as drops
from kinfolk.orders import selectors as orders
from kinfolk.orders.services import payments
from kinfolk.storefront import selectors as storefront

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "read, values",
    [
        (drops._EDITION_FOR_PAGE, (1, "deluxe", "active")),
        (customers._BY_EMAIL, (1, "", "fan@example.com")),
        (storefront._SHOP_BY_SLUG, ("moonlit",)),
        (catalog._BUYABLE_FROM_PAGE, (1, 1, "active", "tee")),
        (orders._ORDER_BY_NUMBER, (1, "K7PQ2M")),
        (payments._PAYMENT, ("", "testpay", "ch_1")),
    ],
    ids=[
        "drop page's edition",
        "customer by address",
        "shop by slug",
        "variant to add to a cart",
        "order by number",
        "payment a callback names",
    ],
)
def test_the_read_is_compiled_once(read, values):
    read._compiled = False  # not tried yet in this process

    assert read.objects(*values) == []

    assert read._compiled not in (None, False)
