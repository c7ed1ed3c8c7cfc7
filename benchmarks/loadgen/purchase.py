"""Whole purchases by virtual buyers, and the demo catalogue they buy from."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from dataclasses import dataclass

import aiohttp

from loadgen.client import Figures, fetch, new_session, timed
from loadgen.forms import find_form

STEPS = ("product_page", "add_to_cart", "checkout_get", "place_order", "pay_page", "callback")
CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12/99", "cvc": "123", "name": "Bench Fan"}
# Shipping address for the physical purchases, in the band's country.
ADDRESS = {
    "name": "김민지",
    "street_address": "세종대로 110",
    "city": "중구",
    "country_area": "서울특별시",
    "postal_code": "04524",
    "country_code": "KR",
}


@dataclass
class Plan:
    """What the virtual users buy and where: URLs and variant ids from the demo catalogue."""

    digital_product: str  # product page path
    digital_variant: str
    physical_product: str
    physical_variant: str
    checkout: str
    callback: str
    secret: str
    physical_every: int  # every n-th purchase ships a T-shirt to an address


class Purchaser:
    """Runs whole purchases; one instance per phase, one session per virtual user."""

    def __init__(self, base: str, plan: Plan, charge_payload, concurrency: int) -> None:
        self.base, self.plan, self.charge_payload = base, plan, charge_payload
        self.concurrency = concurrency
        self.figures = Figures()
        self.completed = 0
        self.attempted = 0

    async def purchase(
        self, client: aiohttp.ClientSession, processor: aiohttp.ClientSession, number: int
    ) -> bool:
        plan, f = self.plan, self.figures
        physical = plan.physical_every and number % plan.physical_every == 0
        page, variant = (
            (plan.physical_product, plan.physical_variant)
            if physical
            else (plan.digital_product, plan.digital_variant)
        )
        reply = await timed(f, "product_page", fetch(client, "GET", page), {200})
        form = reply and find_form(reply.text, having="quantity")
        if form is None:
            return False
        data = {**form.fields, "variant": variant, "quantity": "1"}
        action = form.attrs.get("action") or page
        if not await timed(f, "add_to_cart", fetch(client, "POST", action, data=data), {302, 303}):
            return False
        reply = await timed(f, "checkout_get", fetch(client, "GET", plan.checkout), {200})
        form = reply and find_form(reply.text, having="idempotency_key")
        if form is None:
            return False
        data = {**form.fields, "email": f"bench{number}@example.com", "payment_provider": "testpay"}
        if "street_address" in form.fields:
            data.update(ADDRESS)
            regions = [o for o in form.options.get("country_area", []) if o]
            if regions and ADDRESS["country_area"] not in regions:
                data["country_area"] = next(
                    (o for o in regions if "서울" in o or "Seoul" in o), regions[0]
                )
        action = form.attrs.get("action") or plan.checkout
        reply = await timed(f, "place_order", fetch(client, "POST", action, data=data), {303})
        match = reply and re.search(r"/testpay/pay/([0-9a-f-]{36})/", reply.headers["Location"])
        if not match:
            return False
        pay = {**CARD, "csrfmiddlewaretoken": data.get("csrfmiddlewaretoken", "")}
        if not await timed(f, "pay_page", fetch(client, "POST", match.group(0), data=pay), {303}):
            return False
        body, header = await asyncio.to_thread(self.charge_payload, match.group(1), plan.secret)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Testpay/1.0",
            "Testpay-Signature": header,
        }
        request = fetch(processor, "POST", plan.callback, data=body, headers=headers)
        reply = await timed(f, "callback", request, {200})
        if reply is None:
            return False
        if json.loads(reply.text).get("outcome") != "approved":
            f.fail("callback", "other_errors", f"not approved: {reply.text[:200]!r}")
            return False
        return True

    async def run(self, *, count: int, seconds: float) -> float:
        """Run purchases from ``concurrency`` buyers, ``count`` or ``seconds`` in all; return the
        seconds taken."""
        deadline = time.monotonic() + seconds
        # The processor's own client: no cookies, as many connections as there are buyers.
        processor = new_session(self.base, connections=self.concurrency, cookies=False)

        async def user() -> None:
            client = new_session(self.base)
            try:
                while self.attempted < count and time.monotonic() < deadline:
                    self.attempted += 1
                    if await self.purchase(client, processor, self.attempted):
                        self.completed += 1
                    else:
                        # A failed purchase may leave a cart behind: start afresh, new session.
                        await client.close()
                        client = new_session(self.base)
            finally:
                await client.close()

        started = time.monotonic()
        try:
            await asyncio.gather(*(user() for _ in range(self.concurrency)))
        finally:
            await processor.close()
        return time.monotonic() - started


def prepare_catalogue() -> tuple[Plan, str, list[str], object]:
    """Give the purchased T-shirt plenty of stock; return the plan, the database vendor, the
    product page paths, and the processor's payload function."""
    import django

    django.setup()
    from django.db import connection
    from django.urls import reverse

    from kinfolk.catalog.models import Product, Variant
    from kinfolk.catalog.services import variant_update
    from kinfolk.testpay import selectors, services, signature

    shirt = Variant.objects.select_related("shop", "product").get(sku="MS-TEE-M")
    variant_update(
        shop=shirt.shop,
        variant=shirt,
        sku=shirt.sku,
        price=shirt.price,
        name=shirt.name,
        stock=10**8,
    )
    album = Variant.objects.select_related("shop", "product").get(sku="MS-DIG-AH")
    products = Product.objects.filter(status="active").select_related("shop").order_by("id")
    paths = [reverse("storefront:product", args=[p.shop.slug, p.slug]) for p in products]

    def product(v) -> str:
        return reverse("storefront:product", args=[v.shop.slug, v.product.slug])

    def charge_payload(charge_id: str, secret: str) -> tuple[bytes, str]:
        # What kinfolk.testpay.services.callback_deliver sends, built from the decided charge.
        charge = selectors.charge_get(charge_id=charge_id)
        body = json.dumps(services.callback_payload(charge), separators=(",", ":")).encode()
        return body, signature.sign(body, secret=secret, timestamp=int(time.time()))

    plan = Plan(
        digital_product=product(album),
        digital_variant=str(album.pk),
        physical_product=product(shirt),
        physical_variant=str(shirt.pk),
        checkout=reverse("storefront:checkout", args=[shirt.shop.slug]),
        callback=reverse("orders:payment-callback", args=["testpay"]),
        secret=os.environ["TESTPAY_SECRET"],
        physical_every=0,
    )
    vendor = connection.vendor
    connection.close()
    return plan, vendor, paths, charge_payload
