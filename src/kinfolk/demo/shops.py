"""The demo's shops, staff logins and catalogues, built through the services like a maker would.

Every step looks for what an earlier run made (accounts by e-mail, shops and products by slug) and
makes only what is missing, so running the demo again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from kinfolk.accounts.models import User
from kinfolk.catalog.models import Product, Variant
from kinfolk.catalog.services import product_create, product_image_add, variant_create
from kinfolk.core import clock
from kinfolk.demo import images
from kinfolk.demo.catalogue import (
    ADMIN_EMAIL,
    ADMIN_NAME,
    DEMO_PASSWORD,
    FAN_EMAIL,
    FAN_NAME,
    STAFF_EMAIL,
    STAFF_NAME,
    ProductSpec,
    ShopSpec,
)
from kinfolk.shops.models import Membership, Shop
from kinfolk.shops.selectors import membership_role
from kinfolk.shops.services import membership_add, shipping_zone_create, shop_create

# Staff and the operator have been around since before the history starts.
ACCOUNT_AGE = dt.timedelta(days=3 * 365 + 30)
FAN_ACCOUNT_AGE = dt.timedelta(days=730)


@dataclass
class Logins:
    """The demo's people who can log in."""

    owners: dict[str, User]  # shop slug → owner
    staff: User
    fan: User
    admin: User
    fan_created: bool  # the fan's account is new in this run


def _user(
    email: str, *, name: str, age: dt.timedelta, superuser: bool = False
) -> tuple[User, bool]:
    """Return the account with ``email`` and whether it was created now."""
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        return existing, False
    now = clock.now()
    create = User.objects.create_superuser if superuser else User.objects.create_user
    user = create(
        email, DEMO_PASSWORD, name=name, email_confirmed_at=now - age, date_joined=now - age
    )
    return user, True


def logins_build(specs: tuple[ShopSpec, ...]) -> Logins:
    """Return the demo's accounts, creating the missing ones with the demo password."""
    owners = {
        spec.slug: _user(spec.owner_email, name=spec.owner_name, age=ACCOUNT_AGE)[0]
        for spec in specs
    }
    staff, _ = _user(STAFF_EMAIL, name=STAFF_NAME, age=ACCOUNT_AGE)
    fan, fan_created = _user(FAN_EMAIL, name=FAN_NAME, age=FAN_ACCOUNT_AGE)
    admin, _ = _user(ADMIN_EMAIL, name=ADMIN_NAME, age=ACCOUNT_AGE, superuser=True)
    return Logins(owners=owners, staff=staff, fan=fan, admin=admin, fan_created=fan_created)


@transaction.atomic
def shop_build(spec: ShopSpec, *, owner: User, staff: User) -> Shop:
    """Return the demo shop of ``spec`` with its zones, logo, staff and products in place."""
    shop = Shop.objects.filter(slug=spec.slug).first()
    if shop is None:
        shop = shop_create(
            slug=spec.slug,
            name=spec.name,
            currency=spec.currency,
            time_zone=spec.time_zone,
            country=spec.country,
            owner=owner,
            description=spec.description,
            shipping_cutoff=spec.cutoff,
        )
    if membership_role(shop=shop, user=staff) is None:
        membership_add(shop=shop, user=staff, role=Membership.Role.STAFF)
    if not shop.shipping_zones.exists():
        for zone in spec.zones:
            shipping_zone_create(
                shop=shop,
                name=zone.name,
                countries=list(zone.countries),
                rate=zone.rate,
                free_over=zone.free_over,
            )
    if not shop.logo:
        # No service sets a logo yet; the field and its storage are the seed path's way in.
        picture = images.logo_picture(colours=spec.logo_colours, shape=spec.logo_shape)
        shop.logo.save(f"{spec.slug}.png", ContentFile(picture), save=False)
        Shop.objects.filter(pk=shop.pk).update(logo=shop.logo.name)
    existing = set(Product.objects.filter(shop=shop).values_list("slug", flat=True))
    for product in spec.products:
        if product.slug not in existing:
            _product_build(shop, product)
    return shop


def _product_build(shop: Shop, spec: ProductSpec) -> Product:
    first, *others = spec.variants
    product = product_create(
        shop=shop,
        name=spec.name,
        kind=spec.kind,
        status=Product.Status.ACTIVE,
        description=spec.description,
        slug=spec.slug,
        category=spec.category,
        price=first.price,
        sku=first.sku,
        stock=first.stock,
        variant_name=first.name,
    )
    for variant in others:
        variant_create(
            shop=shop,
            product=product,
            sku=variant.sku,
            price=variant.price,
            name=variant.name,
            stock=variant.stock,
        )
    picture = images.product_picture(name=spec.name, colours=spec.colours, shape=spec.shape)
    upload = SimpleUploadedFile(f"{spec.slug}.png", picture, content_type="image/png")
    product_image_add(shop=shop, product=product, upload=upload, alt=spec.name)
    return product


def demo_variants(shop: Shop, spec: ShopSpec) -> list[Variant]:
    """Return the shop's variants that the demo catalogue defines, product loaded, in spec order."""
    skus = [variant.sku for product in spec.products for variant in product.variants]
    found = {
        v.sku: v for v in Variant.objects.filter(shop=shop, sku__in=skus).select_related("product")
    }
    return [found[sku] for sku in skus if sku in found]
