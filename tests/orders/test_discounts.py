"""A reward's discount code at checkout: off the subtotal only, rounded to the currency's unit,
used once (also by two checkouts at the same moment); a wrong code stores nothing."""

from __future__ import annotations

import multiprocessing
import queue

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kinfolk.core.errors import Conflict, InvalidInput
from kinfolk.crm.services import customer_get_or_create
from kinfolk.orders.models import Order
from kinfolk.referrals.models import RewardGrant
from kinfolk.referrals.rewards import reward_grant, reward_rule_create
from tests.referrals.race_checkouts import place_with_code


def _code_for(shop, email="sharer@example.com", percent=10, account=None) -> RewardGrant:
    rule = reward_rule_create(
        shop=shop,
        name=f"{percent}% thanks",
        event="order",
        threshold=1,
        reward="discount",
        discount_percent=percent,
    )
    fan = customer_get_or_create(shop=shop, email=email, account=account)
    return reward_grant(shop=shop, rule=rule, customer=fan)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("currency", "price", "percent", "discount"),
    [
        ("KRW", 35000, 10, 3500),
        ("KRW", 33333, 15, 5000),  # 4,999.95 won rounds to 5,000
        ("USD", 1999, 15, 300),  # $2.9985 rounds to $3.00
        ("USD", 1000, 100, 1000),  # everything off, never below zero
    ],
)
def test_the_discount_comes_off_the_subtotal_and_the_code_is_used(
    make_shop, make_product, buy, kr_address, currency, price, percent, discount
):
    # Given a fan with a reward code and a cart of one product
    shop = make_shop(currency=currency, country="KR")
    variant = make_product(shop, price=price, stock=None).variants.get()
    grant = _code_for(shop, percent=percent)

    # When they place the order with the code (typed in lower case, with spaces)
    order = buy(
        shop, (variant, 1), email="sharer@example.com", discount_code=f" {grant.code.lower()} "
    ).order

    # Then the discount comes off the subtotal, shipping is untouched, and the code is used
    assert order.discount == discount
    assert order.total == order.subtotal - discount + order.shipping
    assert grant.code in order.discount_label
    grant.refresh_from_db()
    assert grant.redeemed_order_id == order.pk and grant.redeemed_at is not None


@pytest.mark.django_db
def test_an_order_without_a_code_asks_nothing_about_discounts(shop, product, buy):
    with CaptureQueriesContext(connection) as queries:
        order = buy(shop, (product.variants.get(), 1)).order
    assert order.discount == 0 and order.discount_label == ""
    assert not [q for q in queries.captured_queries if "referrals_" in q["sql"]]


@pytest.mark.django_db
def test_bad_codes_are_refused_clearly_and_nothing_is_placed(shop, product, fill_cart, place):
    variant = product.variants.get()
    mine = _code_for(shop, email="sharer@example.com")
    used = _code_for(shop, email="sharer@example.com", percent=20)
    first = place(
        shop, fill_cart(shop, (variant, 1)), email="sharer@example.com", discount_code=used.code
    ).order
    cart = fill_cart(shop, (variant, 1))
    cases = {
        "NOSUCHCODE": "There is no discount",
        mine.code: "given to another fan",  # someone else's code
        used.code: "already been used",
    }
    for code, words in cases.items():
        email = "stranger@example.com" if code == mine.code else "sharer@example.com"
        with pytest.raises(InvalidInput) as refused:
            place(shop, cart, email=email, discount_code=code)
        assert refused.value.field == "discount_code" or "discount_code" in refused.value.errors
        assert words in refused.value.errors["discount_code"]
    assert list(Order.objects.values_list("pk", flat=True)) == [first.pk]
    assert cart.lines.count() == 1


@pytest.mark.django_db
def test_a_code_taken_meanwhile_undoes_the_whole_order(shop, product, fill_cart, place):
    # Given a code that another order took between the checks and the order's creation
    variant = product.variants.get()
    grant = _code_for(shop)
    other = place(shop, fill_cart(shop, (variant, 1)), email="sharer@example.com").order
    from kinfolk.orders.extensions import Discount
    from kinfolk.referrals.discounts import reward_discount_redeem

    reward_discount_redeem(
        shop=shop, order=other, discount=Discount(code=grant.code, label="", token=str(grant.pk))
    )
    with pytest.raises(Conflict):
        reward_discount_redeem(
            shop=shop,
            order=other,
            discount=Discount(code=grant.code, label="", token=str(grant.pk)),
        )


@pytest.mark.django_db(transaction=True)
def test_two_checkouts_with_one_code_at_once_place_one_order(shop, make_product, fill_cart):
    # Given one fan's code and two carts (two tabs, two phones) ready to use it
    variant = make_product(shop, kind="digital", price=10000, stock=None).variants.get()
    grant = _code_for(shop)
    carts = [fill_cart(shop, (variant, 1)) for _ in range(2)]

    # When both check out with the code at the same moment
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(carts))
    results = context.Queue()
    name = connection.settings_dict["NAME"]
    processes = [
        context.Process(
            target=place_with_code, args=(name, shop.pk, cart.token, grant.code, barrier, results)
        )
        for cart in carts
    ]
    for process in processes:
        process.start()
    outcomes = []
    try:
        for _ in processes:
            outcomes.append(results.get(timeout=300)[1])
    except queue.Empty:
        pytest.fail("a checkout process did not report within 300 s")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()

    # Then one order is placed with the discount, the other is refused and stores nothing
    assert sorted(o.split(" ")[0] for o in outcomes) == ["placed", "refused"], outcomes
    assert next(o for o in outcomes if o.startswith("refused")).startswith("refused used")
    order = Order.objects.get()
    assert order.discount == 1000
    grant.refresh_from_db()
    assert grant.redeemed_order_id == order.pk
