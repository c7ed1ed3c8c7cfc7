"""``kinfolk demo``: two working shops, people who can log in, a consistent order history, and
nothing made twice when it runs again."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count, F, Sum
from django.urls import reverse

from kinfolk.accounts.models import User
from kinfolk.catalog.models import Product, ProductImage, Variant
from kinfolk.core import clock
from kinfolk.core.money import format_money
from kinfolk.crm.models import Customer, Interaction
from kinfolk.demo.catalogue import DEMO_PASSWORD
from kinfolk.drops.models import Copy, Edition
from kinfolk.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Refund,
    Shipment,
    ShipmentLine,
)
from kinfolk.orders.services.expiry import CARD_PAYMENT_WINDOW
from kinfolk.orders.services.refunds import REFUND_MARKED_SENT_NOTE, REFUND_SUCCEEDED_NOTE
from kinfolk.referrals.models import Referral, RewardRule, ShareLink, ShareVisit
from kinfolk.releases.models import Download, Grant, Release, ReleaseFile
from kinfolk.shops.models import Membership, ShippingZone, Shop

pytestmark = pytest.mark.django_db

SMALL = {"fans": 60, "orders": 300, "seed": 11}
ALL_MODELS = (
    User,
    Edition,
    Copy,
    Shop,
    Membership,
    ShippingZone,
    Product,
    Variant,
    ProductImage,
    Customer,
    Order,
    OrderLine,
    OrderEvent,
    Payment,
    Refund,
    Shipment,
    ShipmentLine,
    Interaction,
    Release,
    ReleaseFile,
    Grant,
    Download,
    ShareLink,
    ShareVisit,
    Referral,
    RewardRule,
)


def run_demo(**options) -> str:
    out = io.StringIO()
    call_command("demo", stdout=out, **{**SMALL, **options})
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in ALL_MODELS}


def test_demo_builds_a_band_and_a_drone_shop_with_every_kind_of_product():
    run_demo()

    band = Shop.objects.get(slug="moonlit-static")
    drones = Shop.objects.get(slug="garage-drones")
    assert (band.currency, band.time_zone, band.country) == ("KRW", "Asia/Seoul", "KR")
    assert (drones.currency, drones.time_zone, drones.country) == (
        "USD",
        "America/Los_Angeles",
        "US",
    )
    for shop in (band, drones):
        assert shop.logo and Path(shop.logo.path).stat().st_size > 0
        assert shop.description
        products = Product.objects.filter(shop=shop)
        assert set(products.values_list("kind", flat=True)) == {
            "physical",
            "digital",
            "made_to_order",
        }
        # Every product is on sale but the band's bonus track, which only reaches fans as a
        # reward for bringing friends.
        hidden = set(products.exclude(status="active").values_list("slug", flat=True))
        assert hidden == ({"basement-demo-bonus"} if shop == band else set())
        for product in products:
            assert product.description_html
            assert product.images.count() == 1
            assert Path(product.images.get().image.path).stat().st_size > 0
            free = Release.objects.filter(product=product, pricing="free").exists()
            for variant in product.variants.all():
                assert variant.price > 0 or free
                # Physical goods count their stock (a numbered edition's copies are its
                # stock); downloads and commissions never run out.
                edition = Edition.objects.filter(product=product).exists()
                assert (variant.stock is not None or edition) == (product.kind == "physical")
    assert set(
        Variant.objects.filter(product__slug="static-moon-tee").values_list("name", flat=True)
    ) == {"S", "M", "L", "XL"}
    # Won has no minor unit: every band price is whole won, in sensible amounts.
    assert all(
        p % 1000 == 0 for p in Variant.objects.filter(shop=band).values_list("price", flat=True)
    )
    us = ShippingZone.objects.get(shop=drones, countries=["US"])
    assert us.free_over == 15000
    assert ShippingZone.objects.filter(shop=drones, countries=[]).exists()


def test_demo_logins_authenticate_with_their_roles():
    output = run_demo()

    for email in (
        "band@kinfolk.test",
        "drones@kinfolk.test",
        "staff@kinfolk.test",
        "fan@kinfolk.test",
        "admin@kinfolk.test",
    ):
        user = authenticate(username=email, password=DEMO_PASSWORD)
        assert user is not None, email
        assert user.email_confirmed
        assert email in output
    roles = dict(
        Membership.objects.filter(user__email="band@kinfolk.test").values_list("shop__slug", "role")
    )
    assert roles == {"moonlit-static": "owner"}
    staff_roles = set(
        Membership.objects.filter(user__email="staff@kinfolk.test").values_list("role", flat=True)
    )
    assert staff_roles == {"staff"}
    assert User.objects.get(email="admin@kinfolk.test").is_superuser
    logins = (Path(settings.DATA_DIR) / "demo-logins.txt").read_text()
    assert "fan@kinfolk.test / kinfolk-demo" in logins
    assert "Kinfolk demo is ready." in output


def test_the_demo_fan_has_orders_in_both_shops_linked_to_their_account():
    run_demo()

    fan = User.objects.get(email="fan@kinfolk.test")
    shops = set(Order.objects.filter(account=fan).values_list("shop__slug", flat=True))
    assert shops == {"moonlit-static", "garage-drones"}
    assert Customer.objects.filter(account=fan).count() == 2
    assert (
        Interaction.objects.filter(
            customer__account=fan, kind=Interaction.Kind.ACCOUNT_CREATED
        ).count()
        == 1
    )


def test_demo_history_orders_add_up_and_leave_their_trail():
    run_demo()
    now = clock.now()

    orders = Order.objects.all()
    assert 290 <= orders.count() <= 300
    assert Customer.objects.count() >= SMALL["fans"]
    assert not orders.exclude(total=F("subtotal") + F("shipping")).exists()
    line_sums = dict(
        OrderLine.objects.values_list("order").annotate(s=Sum(F("unit_price") * F("quantity")))
    )
    for order in orders:
        assert order.subtotal == line_sums[order.pk]
        assert order.placed_at < now
        assert order.paid_at is None or order.placed_at <= order.paid_at < now
        assert order.customer.shop_id == order.shop_id
        assert order.customer.created_at <= order.placed_at
    assert orders.values("shop", "number").distinct().count() == orders.count()
    assert Payment.objects.count() == orders.count()
    assert not Payment.objects.exclude(amount=F("order__total")).exists()


def test_every_history_order_has_its_status_steps_and_timeline_entries():
    run_demo()

    placed = set(Interaction.objects.filter(kind="order_placed").values_list("shop", "subject_id"))
    paid = set(Interaction.objects.filter(kind="order_paid").values_list("shop", "subject_id"))
    shipped = set(
        Interaction.objects.filter(kind="order_shipped").values_list("shop", "subject_id")
    )
    events = {}
    for event in OrderEvent.objects.order_by("created_at", "id"):
        events.setdefault(event.order_id, []).append(event)
    statuses = set()
    for order in Order.objects.all():
        key = (order.shop_id, order.number)
        statuses.add(order.status)
        assert key in placed
        assert (order.paid_at is not None) == (key in paid)
        steps = events[order.pk]
        assert steps[0].to_status == "awaiting_payment" and steps[-1].to_status == order.status
        for before, after in itertools.pairwise(steps):
            # A note without a change (a refund's progress) names no status it came from
            assert after.from_status in {before.to_status, ""}
            assert after.from_status or after.to_status == before.to_status
            assert after.created_at >= before.created_at
        if order.shipments.exists():
            assert key in shipped
            # Everything went in the parcel except downloads, which need none.
            for line in order.lines.all():
                digital = line.product_kind == "digital"
                assert line.shipped_quantity == (0 if digital else line.quantity)
    # Most are done with; the latest still wait to be paid or packed.
    stale_card_orders = Order.objects.filter(
        status="awaiting_payment",
        payment_provider="testpay",
        placed_at__lt=clock.now() - CARD_PAYMENT_WINDOW - dt.timedelta(minutes=10),
    )
    assert not stale_card_orders.exists()
    assert {"delivered", "shipped", "cancelled"} <= statuses
    assert statuses & {"awaiting_payment", "paid"}


def test_running_the_demo_twice_creates_nothing_twice():
    run_demo()
    before = counts()

    output = run_demo()

    assert counts() == before
    assert "already there" in output


def _check_refunds(now: dt.datetime) -> list[Order]:
    """Assert that every refunded order has the one refund that gave all its money back, and
    nothing else has any; return the refunded orders."""
    refunded = list(Order.objects.filter(status="refunded").prefetch_related("refunds"))
    for order in refunded:
        [refund] = order.refunds.all()
        payment = order.payments.get()
        assert (refund.status, refund.payment_id) == ("succeeded", payment.pk)
        assert refund.amount == payment.amount == payment.refund_total
        assert (payment.status, refund.currency) == ("refunded", order.currency)
        assert refund.created_at <= refund.refunded_at <= now
        notes = list(order.events.values_list("note", flat=True))
        done = REFUND_SUCCEEDED_NOTE if refund.provider == "testpay" else REFUND_MARKED_SENT_NOTE
        assert notes[-1] == done and refund.reason in notes
    assert not Refund.objects.exclude(order__status="refunded").exists()
    return refunded


def test_refunded_orders_have_the_refund_that_gave_their_money_back(client):
    # Given the demo history, with a few orders refunded
    run_demo(orders=1500, fans=200)

    # Then each has its completed refund
    refunded = _check_refunds(clock.now())
    assert {order.payment_provider for order in refunded} == {"testpay", "manual"}

    # And the shop's staff see it on the order's page
    order = refunded[0]
    client.force_login(User.objects.get(email="staff@kinfolk.test"))
    page = client.get(
        reverse("dashboard:order", kwargs={"shop": order.shop.slug, "number": order.number})
    ).content.decode()
    refund = order.refunds.get()
    assert "Money back on" in page and refund.reason in page
    assert f"<strong>{format_money(refund.amount, refund.currency, 'en')}</strong>" in page


def test_a_history_built_before_refunds_were_recorded_gets_them_once():
    # Given a demo history whose refunded orders have no refund (as older versions built it)
    run_demo(orders=1500, fans=200)
    made = Refund.objects.count()
    OrderEvent.objects.filter(from_status="", to_status="refunded").delete()
    Refund.objects.all().delete()
    Payment.objects.filter(status="refunded").update(refund_total=0)

    # When the demo runs again
    output = run_demo(orders=1500, fans=200)

    # Then the refunds are recorded, as a new history has them
    assert f"recorded the refunds of {made} refunded orders" in output
    _check_refunds(clock.now())
    before = counts()

    # And a third run adds nothing
    assert "nothing to add" in run_demo(orders=1500, fans=200)
    assert counts() == before


def test_each_customer_record_is_one_per_shop_and_email():
    run_demo()

    duplicates = Customer.objects.values("shop", "email").annotate(n=Count("id")).filter(n__gt=1)
    assert not duplicates.exists()
    both = Customer.objects.values("email").annotate(n=Count("shop")).filter(n=2)
    assert both.exists()


def test_the_band_gives_releases_away_and_fans_spread_them():
    """Given the demo, the band has a free e-mail-gated single and a pay-what-you-want EP with
    real WAV files, a bonus-track reward, and downloads, share visits and referrals in the last
    90 days."""
    run_demo()
    band = Shop.objects.get(slug="moonlit-static")
    single = Release.objects.get(shop=band, product__slug="night-drive-single")
    ep = Release.objects.get(shop=band, product__slug="paper-moons-ep")
    assert (single.pricing, single.email_gate) == ("free", True)
    assert ep.pricing == "pwyw" and ep.product.variants.get().price == 3000
    for release in (single, ep):
        for file in release.files.all():
            with file.file.open("rb") as stored:
                assert stored.read(12)[8:] == b"WAVE"
    assert RewardRule.objects.filter(shop=band, threshold=3, release__isnull=False).exists()
    assert Download.objects.filter(shop=band).count() >= 50  # 60 fans in this small run
    assert ShareVisit.objects.filter(shop=band).values("channel").distinct().count() >= 3
    assert Referral.objects.filter(shop=band).exists()


def test_the_band_opens_a_numbered_drop_a_visitor_can_reserve_from(client):
    """Given the demo, the band's deluxe box is an open edition of 2,000 numbered copies, all
    free, one per fan; its drop page opens, and a visitor's reserve holds copy No. 1."""
    run_demo()
    band = Shop.objects.get(slug="moonlit-static")
    edition = Edition.objects.get(shop=band)
    assert (edition.size, edition.per_fan_limit) == (2000, 1)
    assert edition.copies.filter(state="free").count() == 2000
    assert edition.product.images.exists() and edition.product.description

    page = client.get(f"/moonlit-static/drops/{edition.product.slug}/")
    reserved = client.post(
        f"/moonlit-static/drops/{edition.product.slug}/reserve/",
        {"email": "visitor@example.com"},
    )

    assert page.status_code == 200
    assert reserved.status_code == 303
    assert edition.copies.get(state="held").number == 1
