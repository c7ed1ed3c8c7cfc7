"""The demo's limited edition: the band's numbered deluxe box set, open now, so that whoever tries
the demo can reserve a copy, pay with a test card and download its certificate."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from kinfolk.catalog.services import product_image_add, product_update
from kinfolk.demo import images
from kinfolk.drops.models import Edition
from kinfolk.drops.services.editions import edition_create_with_product
from kinfolk.shops.models import Shop

BAND_SLUG = "moonlit-static"
NAME = "After Hours — numbered deluxe box"
DESCRIPTION = (
    "2,000 numbered boxes: the album on two 180 g records, a 40-page photo book from the "
    "basement sessions and a signed print. Each box comes with a certificate of authenticity "
    "that anyone can check by its code. One per fan."
)
SIZE = 2_000
PRICE = 750_000  # won


@transaction.atomic
def drops_build(*, shops: list[Shop], now: dt.datetime) -> Edition | None:
    """Give the band's shop (when among ``shops``) its numbered edition, open since yesterday and
    for the next 30 days; return it, or None when it was already there (or the band is not)."""
    band = next((shop for shop in shops if shop.slug == BAND_SLUG), None)
    if band is None or Edition.objects.filter(shop=band, product__name=NAME).exists():
        return None
    edition = edition_create_with_product(
        shop=band,
        name=NAME,
        price=PRICE,
        size=SIZE,
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=30),
        per_fan_limit=1,
    )
    product_update(shop=band, product=edition.product, description=DESCRIPTION, category="Music")
    # No name on the picture: the drop page shows it as a wide banner, which would cut it off.
    picture = images.product_picture(name="", colours=("#141e30", "#c9a227"), shape="square")
    product_image_add(
        shop=band,
        product=edition.product,
        upload=SimpleUploadedFile("deluxe-box.png", picture, content_type="image/png"),
        alt=NAME,
    )
    return edition
