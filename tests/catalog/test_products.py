"""Products are created and changed through the catalog services, which keep each shop's rows apart."""

import pytest

from kinfolk.catalog.models import Product, Variant
from kinfolk.catalog.services import product_create, product_update, variant_create, variant_update
from kinfolk.core.errors import InvalidInput

pytestmark = pytest.mark.django_db


def test_a_new_product_gets_a_slug_and_its_first_variant(shop):
    product = product_create(shop=shop, name="  Live at the Garage  ", price=25000, stock=7)
    assert product.name == "Live at the Garage"
    assert product.slug == "live-at-the-garage"
    assert product.status == Product.Status.DRAFT
    variant = product.variants.get()
    assert (variant.shop, variant.price, variant.stock) == (shop, 25000, 7)
    assert variant.sku


def test_slugs_stay_unique_within_a_shop_and_may_repeat_across_shops(shop, make_shop):
    first = product_create(shop=shop, name="Tour Shirt", price=1)
    second = product_create(shop=shop, name="Tour Shirt", price=1)
    elsewhere = product_create(shop=make_shop(), name="Tour Shirt", price=1)
    assert (first.slug, second.slug, elsewhere.slug) == ("tour-shirt", "tour-shirt-2", "tour-shirt")


def test_names_without_latin_letters_still_get_a_usable_slug(shop):
    first = product_create(shop=shop, name="정규 앨범", price=1)
    second = product_create(shop=shop, name="굿즈", price=1)
    assert (first.slug, second.slug) == ("product", "product-2")
    assert product_create(shop=shop, name="정규 1집", price=1).slug == "1"


def test_stock_none_means_unlimited(shop):
    variant = product_create(
        shop=shop, name="Album (MP3)", kind="digital", price=9000
    ).variants.get()
    assert variant.stock is None and variant.in_stock and not variant.tracks_stock


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"price": -1}, "price"), ({"stock": -3}, "stock"), ({"name": ""}, "name")],
)
def test_a_bad_product_is_refused_and_nothing_is_stored(shop, fields, field):
    arguments = {"name": "Poster", "price": 5000, "stock": 2, **fields}
    with pytest.raises(InvalidInput) as info:
        product_create(shop=shop, **arguments)
    assert info.value.field == field
    assert not Product.objects.filter(shop=shop).exists()
    assert not Variant.objects.filter(shop=shop).exists()


def test_an_unknown_kind_is_refused(shop):
    with pytest.raises(InvalidInput) as info:
        product_create(shop=shop, name="Thing", kind="service", price=1)
    assert info.value.field == "kind"


def test_update_changes_allowed_fields_and_re_renders_the_description(shop, product):
    product_update(shop=shop, product=product, name="Vinyl LP (2nd press)", description="**Loud**")
    product.refresh_from_db()
    assert product.name == "Vinyl LP (2nd press)"
    assert product.description_html == "<p><strong>Loud</strong></p>"


def test_update_refuses_fields_it_does_not_own(shop, product):
    with pytest.raises(InvalidInput, match="Cannot change description_html"):
        product_update(shop=shop, product=product, description_html="<script></script>")


def test_update_refuses_another_shop_s_product(make_shop, product):
    with pytest.raises(InvalidInput, match="another shop"):
        product_update(shop=make_shop(), product=product, name="Stolen")
    product.refresh_from_db()
    assert product.name == "Vinyl LP"


def test_update_refuses_a_slug_taken_in_the_same_shop(shop, make_product, product):
    other = make_product(shop, name="Poster")
    with pytest.raises(InvalidInput) as info:
        product_update(shop=shop, product=other, slug=product.slug)
    assert "already exists" in info.value.message


def test_skus_are_unique_per_shop(shop, product):
    sku = product.variants.get().sku
    with pytest.raises(InvalidInput) as info:
        variant_create(shop=shop, product=product, sku=sku, price=1)
    assert info.value.field == "sku"


def test_variant_update_refuses_another_shop(make_shop, product):
    variant = product.variants.get()
    with pytest.raises(InvalidInput, match="another shop"):
        variant_update(shop=make_shop(), variant=variant, sku="X", price=1)
