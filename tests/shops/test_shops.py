"""Shops are created through the service with valid settings and an owner; shipping zones price
the parcel by country."""

import pytest

from kinfolk.core.errors import InvalidInput
from kinfolk.core.money import Money
from kinfolk.shops.models import Membership, Shop
from kinfolk.shops.selectors import shipping_rate_for
from kinfolk.shops.services import membership_add, shipping_zone_create, shop_create

pytestmark = pytest.mark.django_db


def _create(owner, **overrides):
    arguments = {
        "slug": "garage-drones",
        "name": "Garage Drones",
        "currency": "usd",
        "time_zone": "America/Chicago",
        "country": "us",
        "owner": owner,
    }
    return shop_create(**{**arguments, **overrides})


def test_a_new_shop_has_its_owner(make_user):
    owner = make_user()
    shop = _create(owner)
    assert (shop.currency, shop.country) == ("USD", "US")
    assert shop.memberships.get().role == Membership.Role.OWNER
    assert shop.memberships.get().user == owner


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"slug": "admin"}, "slug"),
        ({"slug": "checkout"}, "slug"),
        ({"slug": "no spaces"}, "slug"),
        ({"currency": "XYZ"}, "currency"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_stored(make_user, overrides, field):
    with pytest.raises(InvalidInput) as info:
        _create(make_user(), **overrides)
    assert info.value.field == field
    assert not Shop.objects.exists() and not Membership.objects.exists()


def test_a_taken_slug_is_refused(make_user):
    _create(make_user())
    with pytest.raises(InvalidInput) as info:
        _create(make_user())
    assert info.value.field == "slug"


def test_adding_a_member_twice_updates_the_role(shop, make_user):
    user = make_user()
    membership_add(shop=shop, user=user)
    membership_add(shop=shop, user=user, role=Membership.Role.OWNER)
    assert shop.memberships.get(user=user).role == Membership.Role.OWNER


def test_negative_rates_are_refused(shop):
    with pytest.raises(InvalidInput):
        shipping_zone_create(shop=shop, name="Bad", countries=["JP"], rate=-1)


def test_free_shipping_starts_exactly_at_the_threshold(shop):
    # The fixture's domestic zone: 3,000 KRW, free from 60,000 KRW.
    assert shipping_rate_for(shop=shop, country="KR", subtotal=Money(59999, "KRW"))[1] == Money(
        3000, "KRW"
    )
    assert shipping_rate_for(shop=shop, country="KR", subtotal=Money(60000, "KRW"))[1] == Money(
        0, "KRW"
    )
    zone, price = shipping_rate_for(shop=shop, country="JP", subtotal=Money(10**9, "KRW"))
    assert (zone.name, price) == ("World", Money(15000, "KRW"))


def test_a_zone_added_or_changed_in_this_process_prices_the_next_parcel(
    shop, django_assert_num_queries
):
    # The shop's zones are kept a few seconds per process (checkout reads them on every page):
    # a change made here is seen at once, and a repeated read costs no query.
    small = Money(1000, shop.currency)
    assert shipping_rate_for(shop=shop, country="JP", subtotal=small)[0].name == "World"
    zone = shipping_zone_create(shop=shop, name="Japan", countries=["JP"], rate=9000)
    assert shipping_rate_for(shop=shop, country="JP", subtotal=small)[0].name == "Japan"
    zone.rate = 7000
    zone.save()
    with django_assert_num_queries(1):
        rate = shipping_rate_for(shop=shop, country="JP", subtotal=small)[1]
    with django_assert_num_queries(0):
        shipping_rate_for(shop=shop, country="JP", subtotal=small)
    assert rate == Money(7000, shop.currency)
