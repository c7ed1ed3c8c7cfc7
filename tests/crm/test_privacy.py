"""A fan's copy of everything a shop holds about them, and its erasure: the export holds the
fan's orders and timeline and nothing of anyone else; the erasure leaves no trace of the person
in any text of any row of the shop, and every figure of the shop's books as it was."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from kinfolk.core import clock
from kinfolk.core.errors import Conflict, InvalidInput
from kinfolk.crm.models import (
    ConsentRecord,
    Customer,
    CustomerDate,
    Erasure,
    ImportRun,
    Interaction,
    Tag,
)
from kinfolk.crm.services import customer_get_or_create, interaction_record
from kinfolk.crm.services.merges import customer_merge
from kinfolk.crm.services.privacy import customer_data_export, customer_erase
from kinfolk.orders.emails import order_email_send
from kinfolk.orders.models import Order, OrderLine
from kinfolk.orders.services import cart as carts
from kinfolk.orders.services import lifecycle
from kinfolk.orders.services.checkout import order_place
from kinfolk.shops.models import Shop

pytestmark = pytest.mark.django_db

ADDRESS = {
    "street_address": "1 Main St",
    "city": "New York",
    "country_area": "NY",
    "postal_code": "10001",
    "country_code": "US",
}


def place(shop: Shop, variant, *, email: str, name: str, account=None) -> Order:
    """Place an order of one ``variant`` shipped to ``name`` (paid by bank transfer later)."""
    cart = carts.cart_get_or_create(shop=shop, token=None)
    carts.cart_add(shop=shop, cart=cart, variant_id=variant.pk, quantity=2)
    return order_place(
        shop=shop,
        cart=cart,
        email=email,
        address={**ADDRESS, "name": name},
        payment_provider="manual",
        idempotency_key=uuid.uuid4().hex,
        return_url_for=lambda order: "http://testserver/",
        account=account,
    ).order


@dataclass
class History:
    customer: Customer
    orders: list[Order]


def fan_history(shop: Shop, variant, *, email: str, name: str, account=None) -> History:
    """Give a fan of ``shop`` a history of every kind: two orders (one paid with a staff note
    that names them, then shipped), a staff note, a consent answer, a birthday and a tag."""
    first = place(shop, variant, email=email, name=name, account=account)
    second = place(shop, variant, email=email, name=name, account=account)
    owner = shop.memberships.first().user
    lifecycle.order_mark_paid(shop=shop, order=first, actor=owner, note=f"{name} paid in cash")
    lifecycle.order_ship(
        shop=shop, order=Order.objects.get(pk=first.pk), carrier="USPS", tracking_number="9400111"
    )
    customer = Customer.objects.get(shop=shop, email=email)
    interaction_record(
        shop=shop,
        customer=customer,
        kind=Interaction.Kind.NOTE,
        source=Interaction.Source.DASHBOARD,
        data={"text": f"Met {name} at the Busan show; write to {email}"},
    )
    ConsentRecord.objects.create(
        shop=shop,
        customer=customer,
        topic=ConsentRecord.Topic.EMAIL_MARKETING,
        granted=True,
        recorded_at=clock.now(),
        source="checkout",
        ip_address="203.0.113.7",
        wording=f"Yes, e-mail {email} news and offers",
    )
    CustomerDate.objects.create(
        shop=shop, customer=customer, kind="birthday", month=5, day=17, created_at=clock.now()
    )
    tag, _ = Tag.objects.get_or_create(shop=shop, name=f"vip-{shop.slug}")
    customer.tags.add(tag)
    for order in (first, second):
        order_email_send(order_id=order.pk, kind="placed")  # as the worker sends it
    orders = list(Order.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk"))
    return History(customer=Customer.objects.get(pk=customer.pk), orders=orders)


@pytest.fixture
def variant(shop, make_product):
    return make_product(shop, name="Vinyl LP", price=35000, stock=50).variants.get()


def _shop_path(model) -> str | None:
    """Return the lookup from ``model`` to its shop (``shop``, ``order__shop``, ...), or None."""
    if model is Shop:
        return "pk"
    fields = [f for f in model._meta.concrete_fields if f.is_relation and f.many_to_one]
    for field in fields:
        if field.related_model is Shop:
            return field.name
    for field in fields:
        for parent in field.related_model._meta.concrete_fields:
            if parent.is_relation and parent.many_to_one and parent.related_model is Shop:
                return f"{field.name}__{parent.name}"
    return None


TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.GenericIPAddressField)


def texts_of_shop(shop: Shop) -> list[tuple[str, str, str]]:
    """Return (model, field, value) for every text and JSON column of every row of the shop,
    in every app (auto-created tables such as the customers' tags included)."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        path = _shop_path(model)
        if path is None:
            continue
        fields = [f for f in model._meta.concrete_fields if isinstance(f, TEXT_FIELDS)]
        if not fields:
            continue
        rows = model._base_manager.filter(**{path: shop.pk}).values_list(*[f.name for f in fields])
        for row in rows:
            for field, value in zip(fields, row, strict=True):
                if isinstance(field, models.JSONField):
                    value = json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)
                found.append((model._meta.label, field.name, str(value or "")))
    return found


def mentions(shop: Shop, *needles: str) -> list[tuple[str, str, str]]:
    lowered = [needle.lower() for needle in needles]
    return [row for row in texts_of_shop(shop) if any(n in row[2].lower() for n in lowered)]


def test_the_export_holds_the_fans_orders_and_timeline_and_nobody_else(
    shop, variant, make_shop, make_product
):
    """Given a fan with a full history, another fan of the same shop, and the same fan in a
    second shop, when the first shop exports the fan's data, then it holds the fan's profile,
    orders with lines and addresses, timeline, consent, dates and tags, and nothing of the
    other fan or of the other shop."""
    fan = fan_history(shop, variant, email="minji@example.com", name="Kim Minji")
    other = fan_history(shop, variant, email="other@example.com", name="Park Other")
    second_shop = make_shop("second")
    elsewhere = fan_history(
        second_shop,
        make_product(second_shop, price=1000).variants.get(),
        email="minji@example.com",
        name="Kim Minji",
    )

    data = customer_data_export(shop=shop, customer=fan.customer)

    text = json.dumps(data, ensure_ascii=False)
    assert data["profile"]["email"] == "minji@example.com"
    assert data["shop"]["slug"] == shop.slug
    assert [o["number"] for o in data["orders"]] == [o.number for o in fan.orders]
    first = data["orders"][0]
    assert first["shipping_address"]["name"] == "Kim Minji"
    assert first["lines"][0]["product"] == "Vinyl LP" and first["lines"][0]["quantity"] == 2
    assert first["parcels"][0]["tracking_number"] == "9400111"
    kinds = {event["kind"] for event in data["timeline"]}
    assert {"order_placed", "order_paid", "order_shipped", "note"} <= kinds
    assert data["consent_records"][0]["ip_address"] == "203.0.113.7"
    assert data["dates"] == [{"kind": "birthday", "label": "", "month": 5, "day": 17, "year": None}]
    assert data["tags"] == [f"vip-{shop.slug}"]
    for order in other.orders + elsewhere.orders:
        assert order.number not in text
    assert "other@example.com" not in text and "Park Other" not in text
    assert "second" not in text


def test_an_export_refuses_another_shops_customer(shop, variant, make_shop):
    fan = fan_history(shop, variant, email="minji@example.com", name="Kim Minji")
    with pytest.raises(InvalidInput):
        customer_data_export(shop=make_shop(), customer=fan.customer)


def test_erasure_leaves_no_trace_of_the_person_and_the_books_as_they_were(
    shop, variant, make_shop, make_product, make_user
):
    """Given a fan with an account and a full history (an older record of theirs merged in),
    another fan of the shop, and the same fan in a second shop, when the first shop erases the
    fan, then no text of any row of the shop holds the fan's addresses or name; order numbers, lines, totals and statuses and the
    timeline's kinds and times are unchanged; the other fan, the second shop and the account
    are untouched."""
    account = make_user("minji@example.com", name="Kim Minji")
    fan = fan_history(shop, variant, email="minji@example.com", name="Kim Minji", account=account)
    assert fan.customer.account == account
    older = fan_history(shop, variant, email="minji.old@example.com", name="Minji K.")
    customer_merge(shop=shop, source=older.customer, target=fan.customer)
    fan.orders += older.orders
    other = fan_history(shop, variant, email="other@example.com", name="Park Other")
    second_shop = make_shop("second")
    elsewhere = fan_history(
        second_shop,
        make_product(second_shop, price=1000).variants.get(),
        email="minji@example.com",
        name="Kim Minji",
        account=account,
    )
    personal = ("minji@example.com", "Kim Minji", "minji.old@example.com", "Minji K.")
    assert {row[0] for row in mentions(shop, *personal)} >= {  # the search finds them before
        "crm.Customer",
        "crm.CustomerMerge",
        "crm.ConsentRecord",
        "crm.Interaction",
        "orders.Order",
        "orders.OrderEvent",
        "orders.OrderMessage",
    }
    books = _books(shop)
    timeline = list(
        Interaction.objects.filter(customer=fan.customer)
        .order_by("pk")
        .values_list("kind", "occurred_at", "subject_id")
    )
    other_texts = mentions(shop, "other@example.com", "Park Other")
    second_texts = texts_of_shop(second_shop)

    erasure = customer_erase(
        shop=shop, customer=fan.customer, requested_by=Erasure.RequestedBy.STAFF
    )

    assert mentions(shop, *personal) == []
    assert _books(shop) == books
    assert (
        list(
            Interaction.objects.filter(customer=fan.customer)
            .order_by("pk")
            .values_list("kind", "occurred_at", "subject_id")
        )
        == timeline
    )
    customer = Customer.objects.get(pk=fan.customer.pk)
    assert customer.erased_at is not None and customer.account is None
    assert (customer.email, customer.name, customer.country) == ("", "", "US")
    assert not customer.tags.exists() and not CustomerDate.objects.filter(customer=customer)
    consents = ConsentRecord.objects.filter(customer=customer)
    assert set(consents.values_list("granted", "ip_address", "wording")) == {(True, None, "")}
    assert erasure.completed_at is not None
    assert erasure.summary["orders"] >= 2 and erasure.summary["interactions"] >= 1
    assert mentions(shop, "other@example.com", "Park Other") == other_texts
    assert texts_of_shop(second_shop) == second_texts
    assert Customer.objects.get(pk=elsewhere.customer.pk).account == account
    account.refresh_from_db()
    assert account.email == "minji@example.com" and account.is_active
    assert Order.objects.filter(pk__in=[o.pk for o in other.orders], email="").count() == 0


def _books(shop: Shop) -> list:
    """The shop's books: every order's number, status, totals, country and lines."""
    orders = list(
        Order.objects.filter(shop=shop)
        .order_by("pk")
        .values_list(
            "number", "status", "currency", "subtotal", "shipping", "total", "shipping_country"
        )
    )
    lines = list(
        OrderLine.objects.filter(order__shop=shop)
        .order_by("pk")
        .values_list("order__number", "sku", "unit_price", "quantity", "shipped_quantity")
    )
    return [orders, lines]


def test_erasing_twice_changes_nothing_and_says_so(shop, variant):
    fan = fan_history(shop, variant, email="minji@example.com", name="Kim Minji")
    customer_erase(shop=shop, customer=fan.customer, requested_by="fan")

    with pytest.raises(Conflict) as info:
        customer_erase(shop=shop, customer=fan.customer, requested_by="staff")

    assert "already erased" in info.value.message
    assert Erasure.objects.filter(customer=fan.customer).count() == 1


def test_an_erasure_refuses_another_shops_customer(shop, variant, make_shop):
    fan = fan_history(shop, variant, email="minji@example.com", name="Kim Minji")
    with pytest.raises(InvalidInput):
        customer_erase(shop=make_shop(), customer=fan.customer, requested_by="staff")
    assert Customer.objects.get(pk=fan.customer.pk).erased_at is None


def test_a_later_order_with_the_same_address_starts_a_new_record(shop, variant):
    """Given an erased fan, when the same address orders again, then a new record is made:
    the erased one is never brought back to life."""
    fan = fan_history(shop, variant, email="minji@example.com", name="Kim Minji")
    customer_erase(shop=shop, customer=fan.customer, requested_by="fan")

    with clock.frozen(clock.now() + dt.timedelta(days=1)):
        again = customer_get_or_create(shop=shop, email="minji@example.com")

    assert again.pk != fan.customer.pk
    assert Customer.objects.get(pk=fan.customer.pk).email == ""


def test_the_export_of_an_erased_customer_holds_no_personal_data(shop, variant):
    fan = fan_history(shop, variant, email="minji@example.com", name="Kim Minji")
    customer_erase(shop=shop, customer=fan.customer, requested_by="staff")

    data = customer_data_export(shop=shop, customer=Customer.objects.get(pk=fan.customer.pk))

    text = json.dumps(data, ensure_ascii=False).lower()
    assert "minji" not in text
    assert data["erasures"][0]["requested_by"] == "staff"
    assert [o["total"] for o in data["orders"]] == [o.total for o in fan.orders]


def test_import_reports_lose_the_lines_that_name_the_person_and_keep_the_others(shop, variant):
    fan = fan_history(shop, variant, email="minji@example.com", name="Kim Minji")
    run = ImportRun.objects.create(
        shop=shop,
        format=ImportRun.Format.GENERIC,
        filename="old-shop.csv",
        created_at=clock.now(),
        rejected=[
            {"line": 3, "reason": "MINJI@example.com: the date is not a date"},
            {"line": 4, "reason": "other@example.com: the date is not a date"},
        ],
    )

    erasure = customer_erase(shop=shop, customer=fan.customer, requested_by="staff")

    run.refresh_from_db()
    assert run.rejected == [
        {"line": 3, "reason": ""},
        {"line": 4, "reason": "other@example.com: the date is not a date"},
    ]
    assert erasure.summary["import_reports"] == 1
