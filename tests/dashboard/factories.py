"""Dashboard test data, built through the services as a shop and its fans would build it."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass, field

from huey.contrib.djhuey import HUEY

from kinfolk.accounts.models import User
from kinfolk.catalog import services as catalog
from kinfolk.catalog.models import Product, Variant
from kinfolk.core import clock
from kinfolk.crm.models import Customer, ImportRun, SavedSegment
from kinfolk.drops.services import edition_create, hold_take
from kinfolk.orders.models import Order
from kinfolk.orders.services import cart as carts
from kinfolk.orders.services.checkout import order_place
from kinfolk.shops.models import Shop
from kinfolk.shops.services import shipping_zone_create, shop_create

US_ADDRESS = {
    "name": "Ada Lovelace",
    "street_address": "1 Main St",
    "city": "New York",
    "country_area": "NY",
    "postal_code": "10001",
    "country_code": "US",
}
_emails = itertools.count(1)


def drain_tasks() -> None:
    """Run every queued background task, as the worker would."""
    while (task := HUEY.dequeue()) is not None:
        HUEY.execute(task)


def new_user(email: str | None = None) -> User:
    return User.objects.create_user(email or f"person{next(_emails)}@example.com", "pw-12345-pw")


def new_shop(*, slug: str, owner: User, currency: str = "USD", time_zone: str = "UTC") -> Shop:
    shop = shop_create(
        slug=slug,
        name=slug.replace("-", " ").title(),
        currency=currency,
        time_zone=time_zone,
        country="US",
        owner=owner,
    )
    shipping_zone_create(shop=shop, name="World", countries=[], rate=500)
    return shop


def new_product(
    shop: Shop,
    *,
    name: str = "Tour shirt",
    price: int = 2500,
    stock: int | None = 100,
    status: str = Product.Status.ACTIVE,
    kind: str = Product.Kind.PHYSICAL,
) -> Product:
    return catalog.product_create(
        shop=shop,
        name=name,
        price=price,
        stock=stock,
        status=status,
        kind=kind,
    )


def place_order(
    shop: Shop, items: list[tuple[Variant, int]], *, email: str = "fan@example.com"
) -> Order:
    """Place an order paid by bank transfer (it waits for staff to mark it paid)."""
    cart = carts.cart_get_or_create(shop=shop, token=None)
    for variant, quantity in items:
        carts.cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=quantity)
    placed = order_place(
        shop=shop,
        cart=cart,
        email=email,
        address=dict(US_ADDRESS),
        payment_provider="manual",
        idempotency_key=uuid.uuid4().hex,
        return_url_for=lambda o: "http://testserver/",
    )
    return placed.order


@dataclass
class ShopWorld:
    """One shop with its owner, a product with two variants and orders in several states."""

    shop: Shop
    owner: User
    product: Product
    variants: list[Variant]
    orders: dict[str, Order] = field(default_factory=dict)
    customers: list = field(default_factory=list)
    segment: object = None
    import_run: object = None
    edition: object = None
    release: object = None
    upload: object = None
    rule: object = None


def build_world(slug: str, *, currency: str = "USD") -> ShopWorld:
    from kinfolk.orders.services import lifecycle

    owner = new_user(f"owner@{slug}.example")
    shop = new_shop(slug=slug, owner=owner, currency=currency)
    price = 25000 if currency == "KRW" else 2500
    product = new_product(shop, name=f"{slug} shirt", price=price)
    second = catalog.variant_create(
        shop=shop, product=product, sku=f"{slug}-xl", name="XL", price=price, stock=10
    )
    variants = [product.variants.order_by("pk").first(), second]
    world = ShopWorld(shop=shop, owner=owner, product=product, variants=variants)
    world.orders["awaiting"] = place_order(shop, [(variants[0], 1)], email=f"a@{slug}.example")
    paid = place_order(shop, [(variants[0], 2), (variants[1], 1)], email=f"b@{slug}.example")
    world.orders["paid"] = lifecycle.order_mark_paid(shop=shop, order=paid, actor=owner)
    shipped = place_order(shop, [(variants[1], 1)], email=f"c@{slug}.example")
    lifecycle.order_mark_paid(shop=shop, order=shipped, actor=owner)
    lifecycle.order_ship(
        shop=shop, order=shipped, carrier="USPS", tracking_number="9400", actor=owner
    )
    world.orders["shipped"] = Order.objects.get(pk=shipped.pk)
    world.customers = list(Customer.objects.filter(shop=shop).order_by("pk"))
    now = clock.now()
    world.segment = SavedSegment.objects.create(
        shop=shop, name="Everyone", filters={}, created_at=now, updated_at=now
    )
    world.import_run = ImportRun.objects.create(
        shop=shop,
        format=ImportRun.Format.GENERIC,
        filename="old-shop.csv",
        status=ImportRun.Status.DONE,
        created_at=now,
    )
    deluxe = new_product(shop, name=f"{slug} deluxe edition", price=price * 30)
    world.edition = edition_create(
        shop=shop,
        product=deluxe,
        variant=deluxe.variants.get(),
        size=20,
        opens_at=now - dt.timedelta(days=1),
    )
    hold_take(shop=shop, edition=world.edition, email=f"d@{slug}.example")
    _add_awareness(world, slug=slug, price=price)
    return world


def _add_awareness(world: ShopWorld, *, slug: str, price: int) -> None:
    """Give the world a release with a file and a grant, a share link with a referral, a reward
    rule and a fan's upload waiting for review (rows only: their services have their own tests)."""
    from django.core.files.base import ContentFile

    from kinfolk.gallery.models import FanUpload
    from kinfolk.referrals.models import Referral, RewardRule, ShareLink
    from kinfolk.releases.models import Grant, Release, ReleaseFile

    shop, now = world.shop, clock.now()
    single = new_product(
        shop, name=f"{slug} single", price=0, stock=None, kind=Product.Kind.DIGITAL
    )
    world.release = Release.objects.create(shop=shop, product=single)
    release_file = ReleaseFile(shop=shop, release=world.release, name="single.mp3")
    release_file.content_type, release_file.size = "audio/mpeg", 4
    release_file.file.save("single.mp3", ContentFile(b"ID3\x03"), save=False)
    release_file.save()
    fan, friend = world.customers[0], world.customers[1]
    Grant.objects.create(
        shop=shop,
        release=world.release,
        customer=fan,
        source=Grant.Source.FREE,
        created_at=now,
    )
    link = ShareLink.objects.create(shop=shop, customer=fan, created_at=now)
    Referral.objects.create(
        shop=shop,
        referrer=fan,
        referred=friend,
        link=link,
        first_visit_at=now,
        created_at=now,
    )
    world.rule = RewardRule.objects.create(
        shop=shop,
        name="Three friends",
        event="download",
        threshold=3,
        reward=RewardRule.Reward.BONUS_RELEASE,
        release=world.release,
        created_at=now,
    )
    upload = FanUpload(
        shop=shop,
        customer=fan,
        kind=FanUpload.Kind.IMAGE,
        content_type="image/jpeg",
        size=4,
        submitted_at=now,
    )
    upload.file.save("concert.jpg", ContentFile(b"\xff\xd8\xff\xe0"), save=False)
    upload.save()
    world.upload = upload
