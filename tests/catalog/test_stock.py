"""Stock is taken with one conditional write: it never goes below zero, whatever is asked."""

import pytest

from kinfolk.catalog.models import Variant
from kinfolk.catalog.services import stock_return, stock_take
from kinfolk.core.errors import InvalidInput, OutOfStock

pytestmark = pytest.mark.django_db


def _stock(variant) -> int | None:
    return Variant.objects.get(pk=variant.pk).stock


def test_taking_what_is_there_leaves_the_rest(shop, product):
    variant = product.variants.get()
    stock_take(shop=shop, items=[(variant.pk, 3)])
    assert _stock(variant) == 2
    stock_take(shop=shop, items=[(variant.pk, 2)])
    assert _stock(variant) == 0


def test_asking_for_more_than_is_left_says_how_many_are_left(shop, product):
    variant = product.variants.get()
    with pytest.raises(OutOfStock) as info:
        stock_take(shop=shop, items=[(variant.pk, 6)])
    assert info.value.message == "Only 5 of Vinyl LP left."
    assert info.value.code == "out_of_stock"
    assert _stock(variant) == 5


def test_a_sold_out_variant_says_so(shop, make_product):
    variant = make_product(shop, name="Test Pressing", stock=0).variants.get()
    with pytest.raises(OutOfStock, match="Test Pressing is sold out."):
        stock_take(shop=shop, items=[(variant.pk, 1)])
    assert _stock(variant) == 0


def test_unlimited_stock_is_never_taken(shop, make_product):
    variant = make_product(shop, kind="digital", stock=None).variants.get()
    stock_take(shop=shop, items=[(variant.pk, 1000)])
    assert _stock(variant) is None


@pytest.mark.parametrize("quantity", [0, -1])
def test_zero_or_negative_quantities_are_refused(shop, product, quantity):
    variant = product.variants.get()
    with pytest.raises(InvalidInput):
        stock_take(shop=shop, items=[(variant.pk, quantity)])
    assert _stock(variant) == 5


def test_another_shop_s_variant_cannot_be_taken(make_shop, product):
    variant = product.variants.get()
    with pytest.raises(InvalidInput):
        stock_take(shop=make_shop(), items=[(variant.pk, 1)])
    assert _stock(variant) == 5


def test_returning_stock_adds_it_back(shop, product):
    variant = product.variants.get()
    stock_take(shop=shop, items=[(variant.pk, 4)])
    stock_return(shop=shop, items=[(variant.pk, 4)])
    assert _stock(variant) == 5


def test_the_database_itself_refuses_negative_stock(shop, product):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Variant.objects.filter(pk=product.variants.get().pk).update(stock=-1)
