"""Checkout turns a cart into an order, or refuses and stores nothing: no order, no stock taken,
the cart kept as it was."""

import pytest

from kinfolk.catalog.models import Variant
from kinfolk.catalog.services import variant_update
from kinfolk.core.errors import InvalidInput, OutOfStock
from kinfolk.crm.models import Customer, Interaction
from kinfolk.orders.models import CartLine, Order, OrderLine, Payment
from kinfolk.shops.services import shipping_zone_create
from kinfolk.testpay.models import Charge

pytestmark = pytest.mark.django_db


@pytest.fixture
def variant(product):
    return product.variants.get()


@pytest.fixture
def digital(shop, make_product):
    return make_product(shop, name="Album (FLAC)", kind="digital", price=9000, stock=None)


def _stock(variant) -> int | None:
    return Variant.objects.get(pk=variant.pk).stock


def _assert_nothing_stored(cart, variant, *, lines: int = 1, stock: int = 5) -> None:
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert not Payment.objects.exists()
    assert not Charge.objects.exists()
    assert not Customer.objects.exists()
    assert _stock(variant) == stock
    assert CartLine.objects.filter(cart=cart).count() == lines


def test_placing_an_order_takes_stock_empties_the_cart_and_starts_the_payment(
    shop, variant, fill_cart, place
):
    cart = fill_cart(shop, (variant, 2))
    placed = place(shop, cart, email="  Fan@Example.COM ")
    order = placed.order
    assert placed.created
    assert order.status == Order.Status.AWAITING_PAYMENT
    assert order.email == "fan@example.com"
    assert (order.subtotal, order.shipping, order.total) == (70000, 0, 70000)  # free over 60,000
    assert order.shipping_country == "KR" and order.shipping_method == "Domestic"
    assert order.shipping_address["postal_code"] == "04524"
    line = order.lines.get()
    assert (line.product_name, line.unit_price, line.quantity) == ("Vinyl LP", 35000, 2)
    assert _stock(variant) == 3
    assert not CartLine.objects.filter(cart=cart).exists()
    payment = order.payments.get()
    assert (payment.status, payment.amount, payment.currency) == ("pending", 70000, "KRW")
    charge = Charge.objects.get(pk=payment.reference)
    assert charge.amount == 70000 and charge.merchant_reference == str(payment.pk)
    assert placed.redirect_url == f"/testpay/pay/{charge.pk}/"
    event = order.events.get()
    assert (event.from_status, event.to_status, event.note) == (
        "",
        "awaiting_payment",
        "Order placed",
    )


def test_the_order_keeps_its_prices_when_the_catalogue_changes(shop, variant, buy):
    order = buy(shop, (variant, 1)).order
    old_sku = variant.sku
    variant_update(shop=shop, variant=variant, sku="NEW-SKU", price=99000, stock=variant.stock)
    line = OrderLine.objects.get(order=order)
    assert (line.unit_price, line.sku) == (35000, old_sku)


def test_an_empty_cart_cannot_be_placed(shop, fill_cart, place):
    cart = fill_cart(shop)
    with pytest.raises(InvalidInput) as info:
        place(shop, cart)
    assert info.value.code == "empty_cart"
    assert not Order.objects.exists()


@pytest.mark.parametrize("email", ["", "fan", "fan@", "fan example@example.com"])
def test_a_bad_email_is_a_field_error_and_nothing_is_stored(shop, variant, fill_cart, place, email):
    cart = fill_cart(shop, (variant, 1))
    with pytest.raises(InvalidInput) as info:
        place(shop, cart, email=email)
    assert set(info.value.errors) == {"email"}
    assert "e.g. name@example.com" in info.value.errors["email"]
    _assert_nothing_stored(cart, variant)


def test_a_bad_postal_code_is_a_field_error_and_nothing_is_stored(
    shop, variant, fill_cart, place, kr_address
):
    cart = fill_cart(shop, (variant, 1))
    with pytest.raises(InvalidInput) as info:
        place(shop, cart, address={**kr_address, "postal_code": "123"})
    assert set(info.value.errors) == {"postal_code"}
    assert "e.g." in info.value.errors["postal_code"]
    _assert_nothing_stored(cart, variant)


def test_every_bad_field_is_reported_together(shop, variant, fill_cart, place, kr_address):
    cart = fill_cart(shop, (variant, 1))
    with pytest.raises(InvalidInput) as info:
        place(shop, cart, email="nope", address={**kr_address, "postal_code": "1", "name": ""})
    assert set(info.value.errors) == {"email", "postal_code", "name"}


def test_a_tampered_total_is_refused_and_nothing_is_stored(shop, variant, fill_cart, place):
    cart = fill_cart(shop, (variant, 1))
    with pytest.raises(InvalidInput) as info:
        place(shop, cart, expected_total=100)
    assert info.value.code == "total_changed"
    assert info.value.field == "expected_total"
    assert "₩38,000" in info.value.message  # 35,000 + 3,000 shipping
    _assert_nothing_stored(cart, variant)


def test_the_expected_total_is_accepted_when_it_matches(shop, variant, fill_cart, place):
    placed = place(shop, fill_cart(shop, (variant, 1)), expected_total=38000)
    assert placed.order.total == 38000


def test_a_digital_only_cart_needs_no_address(shop, digital, fill_cart, place):
    cart = fill_cart(shop, (digital.variants.get(), 1))
    order = place(shop, cart, address=None).order
    assert (order.subtotal, order.shipping, order.total) == (9000, 0, 9000)
    assert order.shipping_address == {} and not order.needs_shipping


def test_a_mixed_cart_still_needs_an_address(shop, digital, variant, fill_cart, place):
    cart = fill_cart(shop, (digital.variants.get(), 1), (variant, 1))
    with pytest.raises(InvalidInput) as info:
        place(shop, cart, address=None)
    assert {"name", "country_code"} <= set(info.value.errors)


@pytest.fixture
def us_address():
    return {
        "name": "Jamie Doe",
        "street_address": "1600 Amphitheatre Pkwy",
        "city": "Mountain View",
        "country_area": "CA",
        "postal_code": "94043",
        "country_code": "US",
    }


def test_domestic_shipping_is_the_domestic_rate(shop, variant, buy):
    order = buy(shop, (variant, 1)).order
    assert (order.shipping, order.shipping_method) == (3000, "Domestic")


def test_domestic_shipping_is_free_over_the_threshold(shop, variant, buy):
    order = buy(shop, (variant, 2)).order
    assert (order.subtotal, order.shipping) == (70000, 0)


def test_the_rest_of_the_world_pays_the_world_rate_with_no_free_threshold(
    shop, variant, buy, us_address
):
    order = buy(shop, (variant, 2), address=us_address).order
    assert (order.shipping, order.shipping_method, order.shipping_country) == (15000, "World", "US")
    assert order.total == 85000


def test_a_country_no_zone_covers_is_a_country_error(
    make_shop, make_product, fill_cart, place, us_address
):
    shop = make_shop()
    shop.shipping_zones.filter(name="World").delete()
    variant = make_product(shop, price=1000, stock=3).variants.get()
    cart = fill_cart(shop, (variant, 1))
    with pytest.raises(InvalidInput) as info:
        place(shop, cart, address=us_address)
    assert info.value.field == "country_code"
    assert "does not ship to this country" in info.value.message
    _assert_nothing_stored(cart, variant, stock=3)


def test_a_zone_naming_a_country_wins_over_the_rest_of_the_world(shop, variant, buy, us_address):
    shipping_zone_create(shop=shop, name="North America", countries=["us", "CA"], rate=9000)
    order = buy(shop, (variant, 1), address=us_address).order
    assert (order.shipping, order.shipping_method) == (9000, "North America")


def test_out_of_stock_at_placement_rolls_back_everything(
    shop, variant, make_product, fill_cart, place
):
    other = make_product(shop, name="Poster", price=5000, stock=4).variants.get()
    cart = fill_cart(shop, (other, 2), (variant, 3))
    variant_update(shop=shop, variant=variant, sku=variant.sku, price=variant.price, stock=1)
    with pytest.raises(OutOfStock) as info:
        place(shop, cart)
    assert info.value.message == "Only 1 of Vinyl LP left."
    assert _stock(other) == 4
    _assert_nothing_stored(cart, variant, lines=2, stock=1)


def test_a_sold_out_item_in_the_cart_is_out_of_stock(shop, variant, fill_cart, place, buy):
    cart = fill_cart(shop, (variant, 1))
    buy(shop, (variant, 5), email="first@example.com")
    with pytest.raises(OutOfStock, match="Vinyl LP is sold out."):
        place(shop, cart, email="second@example.com")
    assert Order.objects.count() == 1
    assert CartLine.objects.filter(cart=cart).count() == 1


def test_an_unknown_payment_provider_is_refused(shop, variant, fill_cart, place):
    cart = fill_cart(shop, (variant, 1))
    with pytest.raises(InvalidInput) as info:
        place(shop, cart, payment_provider="bitcoin")
    assert info.value.field == "payment_provider"
    _assert_nothing_stored(cart, variant)


@pytest.mark.parametrize("key", ["", "k" * 65])
def test_a_missing_or_overlong_key_is_refused(shop, variant, fill_cart, place, key):
    cart = fill_cart(shop, (variant, 1))
    with pytest.raises(InvalidInput) as info:
        place(shop, cart, idempotency_key=key)
    assert info.value.code == "no_key"


def test_another_shop_s_cart_is_refused(shop, make_shop, variant, fill_cart, place):
    cart = fill_cart(shop, (variant, 1))
    with pytest.raises(InvalidInput, match="another shop"):
        place(make_shop(), cart)
    _assert_nothing_stored(cart, variant)


def test_the_fan_becomes_a_customer_once_whatever_the_case_of_their_address(shop, variant, buy):
    buy(shop, (variant, 1), email="Fan@Example.com")
    buy(shop, (variant, 1), email="fan@example.COM")
    customer = Customer.objects.get()
    assert customer.email == "fan@example.com" and customer.name == "김민지"
    assert customer.orders.count() == 2
    assert Interaction.objects.filter(customer=customer, kind="order_placed").count() == 2


def test_a_logged_in_fan_s_order_is_linked_to_their_account(shop, variant, buy, make_user):
    fan = make_user("minji@example.com")
    order = buy(shop, (variant, 1), email="minji@example.com", account=fan).order
    assert order.account == fan and order.customer.account == fan


def test_the_order_remembers_the_fan_s_language(shop, variant, buy):
    assert buy(shop, (variant, 1), language="ko").order.language == "ko"


def test_a_manual_payment_has_no_processor_page(shop, variant, buy):
    placed = buy(shop, (variant, 1), payment_provider="manual")
    assert placed.redirect_url == f"http://127.0.0.1/moonlit/orders/{placed.order.number}/"
    assert placed.payment.reference == "" and not Charge.objects.exists()
