"""Who reaches which dashboard page: logged-in staff only, and only their own shops' rows."""

from __future__ import annotations

import itertools

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLResolver, get_resolver, reverse
from tests.dashboard.factories import ShopWorld, new_shop, new_user

from kinfolk.catalog.models import Product, ProductImage, Variant
from kinfolk.crm.models import (
    ConsentRecord,
    Customer,
    CustomerDate,
    CustomerMerge,
    Erasure,
    Follow,
    ImportRun,
    Interaction,
    SavedSegment,
    Tag,
)
from kinfolk.drops.models import Copy, Edition, Hold, WaitlistEntry
from kinfolk.gallery.models import FanUpload
from kinfolk.orders.models import Order, OrderEvent, Payment, Shipment
from kinfolk.referrals.models import RewardGrant, RewardRule
from kinfolk.releases.models import Grant, Release, ReleaseFile
from kinfolk.shops.services import membership_add

pytestmark = pytest.mark.django_db

# URL patterns of the namespace that are not about one shop (everything else must take ``shop``).
UNSCOPED = {"home"}


def _patterns(patterns, prefix: frozenset = frozenset()) -> list[tuple[str, set[str]]]:
    """Return (name, URL argument names) of every pattern, with those of the including prefix
    (``<slug:shop>/`` of the URL modules included under it)."""
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _patterns(entry.url_patterns, prefix | set(entry.pattern.converters))
        else:
            found.append((entry.name, set(prefix | set(entry.pattern.converters))))
    return found


def dashboard_patterns() -> list[tuple[str, set[str]]]:
    """Return (name, URL argument names) of every pattern in the ``dashboard`` namespace."""
    _, resolver = get_resolver().namespace_dict["dashboard"]
    return _patterns(resolver.url_patterns)


def object_kwargs(world: ShopWorld, arguments: set[str]) -> list[dict]:
    """Return every combination of ``world``'s objects that fills ``arguments`` (shop excluded)."""
    choices = {
        "number": [{"number": order.number} for order in world.orders.values()],
        "product_id": [{"product_id": world.product.pk}],
        "variant_id": [{"variant_id": variant.pk} for variant in world.variants],
        "customer_id": [{"customer_id": customer.pk} for customer in world.customers],
        "segment_id": [{"segment_id": world.segment.pk}],
        "import_id": [{"import_id": world.import_run.pk}],
        "edition_id": [{"edition_id": world.edition.pk}],
        "release_id": [{"release_id": world.release.pk}],
        "upload_id": [{"upload_id": world.upload.pk}],
        "rule_id": [{"rule_id": world.rule.pk}],
    }
    needed = sorted(arguments - {"shop"})
    unknown = [name for name in needed if name not in choices]
    assert not unknown, f"The isolation test cannot fill URL arguments {unknown}; add them here."
    combos = []
    for parts in itertools.product(*(choices[name] for name in needed)):
        kwargs = {}
        for part in parts:
            kwargs.update(part)
        combos.append(kwargs)
    return combos


def post_data(world: ShopWorld) -> dict[str, str]:
    """Return a POST body every dashboard form would accept if it reached ``world``'s rows."""
    data = {
        "carrier": "Stolen Post",
        "tracking_number": "X1",
        "note": "x",
        "mark_paid-note": "x",
        "cancel-note": "x",
        "refund-note": "x",
        "name": "Taken over",
        "slug": "taken-over",
        "kind": "digital",
        "status": "archived",
        "description": "hijacked",
        "price": "1",
        "sku": "HIJACK",
        "stock": "0",
        "new-sku": "HIJACK-NEW",
        "new-price": "1",
    }
    for order in world.orders.values():
        for line in order.lines.all():
            data[f"line_{line.pk}"] = "1"
    for variant in world.variants:
        data.update(
            {
                f"v{variant.pk}-sku": "HIJACK",
                f"v{variant.pk}-price": "1",
                f"v{variant.pk}-stock": "0",
            }
        )
    return data


def snapshot(world: ShopWorld) -> dict:
    shop = world.shop
    return {
        "orders": sorted(Order.objects.filter(shop=shop).values_list("number", "status")),
        "events": OrderEvent.objects.filter(order__shop=shop).count(),
        "payments": sorted(Payment.objects.filter(shop=shop).values_list("pk", "status")),
        "shipments": Shipment.objects.filter(shop=shop).count(),
        "products": sorted(
            Product.objects.filter(shop=shop).values_list("pk", "name", "slug", "kind", "status")
        ),
        "variants": sorted(
            Variant.objects.filter(shop=shop).values_list("pk", "sku", "name", "price", "stock")
        ),
        "images": ProductImage.objects.filter(shop=shop).count(),
        "customers": sorted(
            Customer.objects.filter(shop=shop).values_list(
                "pk", "email", "name", "stage", "erased_at", "email_marketing"
            )
        ),
        "interactions": Interaction.objects.filter(shop=shop).count(),
        "segments": sorted(SavedSegment.objects.filter(shop=shop).values_list("pk", "name")),
        "imports": sorted(ImportRun.objects.filter(shop=shop).values_list("pk", "status")),
        "tags": Tag.objects.filter(shop=shop).count(),
        "dates": CustomerDate.objects.filter(shop=shop).count(),
        "merges": CustomerMerge.objects.filter(shop=shop).count(),
        "erasures": Erasure.objects.filter(shop=shop).count(),
        "consents": ConsentRecord.objects.filter(shop=shop).count(),
        "editions": sorted(
            Edition.objects.filter(shop=shop).values_list(
                "pk", "size", "opens_at", "closes_at", "per_fan_limit"
            )
        ),
        "copies": sorted(Copy.objects.filter(shop=shop).values_list("pk", "state", "order_id")),
        "holds": sorted(Hold.objects.filter(shop=shop).values_list("pk", "status")),
        "waitlist": WaitlistEntry.objects.filter(shop=shop).count(),
        "releases": sorted(
            Release.objects.filter(shop=shop).values_list(
                "pk", "pricing", "email_gate", "download_limit", "link_hours"
            )
        ),
        "release_files": sorted(ReleaseFile.objects.filter(shop=shop).values_list("pk", "name")),
        "grants": sorted(Grant.objects.filter(shop=shop).values_list("pk", "revoked_at")),
        "rules": sorted(
            RewardRule.objects.filter(shop=shop).values_list("pk", "name", "threshold", "active")
        ),
        "reward_grants": RewardGrant.objects.filter(shop=shop).count(),
        "uploads": sorted(FanUpload.objects.filter(shop=shop).values_list("pk", "status")),
        "follows": Follow.objects.filter(shop=shop).count(),
    }


def test_every_shop_page_is_404_for_staff_of_another_shop(staff_client, world_a, world_b):
    """Given staff of shop A, every dashboard URL filled with shop B's slug or with shop B's
    orders, products and variants under shop A's slug answers 404, for GET and POST, and
    nothing of shop B changes."""
    before = snapshot(world_b)
    patterns = dashboard_patterns()
    scoped = [(name, args) for name, args in patterns if name not in UNSCOPED]
    assert {name for name, _ in patterns} - {name for name, _ in scoped} == UNSCOPED
    assert len(scoped) >= 10
    checked = 0
    data = post_data(world_b)
    for name, arguments in scoped:
        assert "shop" in arguments, f"dashboard:{name} does not name its shop"
        for kwargs in object_kwargs(world_b, arguments):
            shop_slugs = [world_b.shop.slug] + ([world_a.shop.slug] if kwargs else [])
            for slug in shop_slugs:
                url = reverse(f"dashboard:{name}", kwargs={"shop": slug, **kwargs})
                assert staff_client.get(url).status_code == 404, f"GET {url}"
                assert staff_client.post(url, data).status_code == 404, f"POST {url}"
                checked += 1
    assert checked > len(scoped)
    assert snapshot(world_b) == before


def test_the_same_pages_open_for_the_shops_own_staff(staff_client, world_a):
    """Given staff of shop A, the same URL patterns filled with shop A's own objects are found
    (so the 404s above come from the shop check, not from a broken URL)."""
    for name, arguments in dashboard_patterns():
        if name in UNSCOPED:
            continue
        kwargs = object_kwargs(world_a, arguments)[0]
        url = reverse(f"dashboard:{name}", kwargs={"shop": world_a.shop.slug, **kwargs})
        assert staff_client.get(url).status_code in {200, 405}, f"GET {url}"


def test_visitors_who_are_not_logged_in_are_sent_to_log_in(client, world_a):
    for url in (
        reverse("dashboard:home"),
        reverse("dashboard:overview", kwargs={"shop": world_a.shop.slug}),
        reverse("dashboard:orders", kwargs={"shop": world_a.shop.slug}),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def test_a_fan_without_a_shop_sees_no_shop_and_gets_404_for_one(client, world_a):
    client.force_login(new_user("fan-only@example.com"))
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    assert world_a.shop.name not in response.content.decode()
    assert (
        client.get(reverse("dashboard:overview", kwargs={"shop": world_a.shop.slug})).status_code
        == 404
    )


def test_home_goes_straight_to_the_only_shop(staff_client, world_a):
    response = staff_client.get(reverse("dashboard:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:overview", kwargs={"shop": world_a.shop.slug})


def test_home_lists_several_shops_and_the_header_switches_between_them(staff_client, world_a):
    other = new_shop(slug="second-shop", owner=new_user())
    membership_add(shop=other, user=world_a.owner)
    response = staff_client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert world_a.shop.name in page and other.name in page
    overview = staff_client.get(reverse("dashboard:overview", kwargs={"shop": world_a.shop.slug}))
    assert reverse("dashboard:overview", kwargs={"shop": other.slug}) in overview.content.decode()


def test_ids_too_long_for_the_database_are_not_found_rather_than_an_error(staff_client, world_a):
    slug = world_a.shop.slug
    for path in (
        f"/dashboard/{slug}/products/99999999999999999999999/",
        f"/dashboard/{slug}/products/{world_a.product.pk}/variants/99999999999999999999999/",
        f"/dashboard/{slug}/orders/{'X' * 500}/",
    ):
        assert staff_client.get(path).status_code == 404, path
