"""Three years of made-up fans and their orders in the demo shops, inserted in bulk.

This is the seed path, the one sanctioned exception to "every write goes through a service": the
services place and move one order per transaction, which for ten thousand orders would take
minutes. The rows written here are the ones those services would have left behind (orders with
lines, status events, payments and shipments, customers, and their interaction timeline), kept
consistent by the same constraints; see ``timeline.py`` for one order's story.

Customers follow ``simulation.py``'s repeat-purchase process with a fixed seed, so later features
(CRM stages, CLV models) have a realistic, reproducible history to work on.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import transaction

from kinfolk.accounts.models import User
from kinfolk.crm.models import Customer, Interaction
from kinfolk.demo import simulation
from kinfolk.demo.catalogue import FAN_EMAIL
from kinfolk.demo.people import Person, country_choices, make_person
from kinfolk.demo.timeline import Rows, ShopContext, order_rows, refund_rows
from kinfolk.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Refund,
    Shipment,
    ShipmentLine,
)

KEY_PREFIX = "demo-"
WINDOW_DAYS = 3 * 365
BATCH = 1000
# The first shop is every fan's home for this share of fans; the others share the rest.
FIRST_SHOP_SHARE = 0.55
BOTH_SHOPS_SHARE = 0.12
ACCOUNT_SHARE = 0.35
# When fans shop, local time: quiet at night, busiest in the evening.
HOUR_WEIGHTS = (
    2,
    1,
    1,
    1,
    1,
    1,
    2,
    3,
    4,
    5,
    6,
    6,
    7,
    6,
    6,
    6,
    6,
    7,
    8,
    10,
    11,
    10,
    7,
    4,
)
# The demo fan's own orders, in days before now, per shop in the order the shops are given.
FAN_ORDERS = ((700, 330, 120, 40, 2), (420, 95, 12, 1))


@dataclass
class HistoryStats:
    fans: int
    customers: int
    accounts: int
    orders: int
    interactions: int


@dataclass
class _Record:
    """One person as one shop knows them, before it is saved."""

    shop: int  # index into the contexts
    person: Person
    customer: Customer
    account: User | None = None
    days: np.ndarray | None = None  # purchase days from the window's start
    mean_spend: float = 0.0
    fan: bool = False


def history_exists(shops) -> bool:
    """Return whether the demo history was built already."""
    return Order.objects.filter(shop__in=shops, idempotency_key__startswith=KEY_PREFIX).exists()


def _people(
    rng: np.random.Generator, count: int, contexts: list[ShopContext]
) -> list[tuple[Person, set[int]]]:
    """Return ``count`` fans with the shops each buys from (their home shop first)."""
    choices = [country_choices(ctx.shop.country) for ctx in contexts]
    others = (1.0 - FIRST_SHOP_SHARE) / max(len(contexts) - 1, 1)
    shares = np.array([FIRST_SHOP_SHARE] + [others] * (len(contexts) - 1))
    people = []
    for index in range(count):
        home = int(rng.choice(len(contexts), p=shares / shares.sum()))
        shops = {home}
        if len(contexts) > 1 and rng.random() < BOTH_SHOPS_SHARE:
            shops.add(int(rng.choice([i for i in range(len(contexts)) if i != home])))
        countries, weights = choices[home]
        country = countries[int(rng.choice(len(countries), p=weights))]
        people.append((make_person(rng, index=index, country=country), shops))
    return people


def _moment(
    day: float, *, start: dt.datetime, tz: zoneinfo.ZoneInfo, rnd: random.Random, now: dt.datetime
) -> dt.datetime:
    """Return an aware UTC time on window day ``day`` at an hour a fan would shop (local time)."""
    date = (start.astimezone(tz) + dt.timedelta(days=int(day))).date()
    hour = rnd.choices(range(24), weights=HOUR_WEIGHTS)[0]
    local = dt.datetime.combine(date, dt.time(hour, rnd.randrange(60), rnd.randrange(60)), tz)
    moment = local.astimezone(dt.UTC)
    if moment >= now:
        # Today's orders happened in the last few hours, not later today.
        moment = now - dt.timedelta(minutes=rnd.uniform(5, 360))
    return max(moment, start)


@transaction.atomic
def history_build(
    *,
    contexts: list[ShopContext],
    fans: int,
    orders: int,
    seed: int,
    fan: User,
    now: dt.datetime,
) -> HistoryStats:
    """Create ``fans`` fans and about ``orders`` past orders over three years, and return counts."""
    rng = np.random.default_rng(seed)
    rnd = random.Random(seed)
    start = now - dt.timedelta(days=WINDOW_DAYS)
    records = _records(rng, fans, contexts, fan)
    fan_orders = sum(len(days) for days in FAN_ORDERS[: len(contexts)])
    _simulate(seed, records, contexts, max(orders - fan_orders, 0), start, now)
    accounts = _accounts(rng, records, start)
    planned = _plan(rng, rnd, records, contexts, start, now)
    firsts: dict[int, dt.datetime] = {}
    for moment, record, _target in planned:
        firsts.setdefault(id(record), moment)
    for record in records:
        created = firsts.get(id(record)) or start + dt.timedelta(days=rnd.uniform(0, WINDOW_DAYS))
        if record.account is not None:
            record.customer.account = record.account
            created = min(created, record.account.date_joined)
        if record.customer.pk is None:
            record.customer.created_at = created
    Customer.objects.bulk_create(
        [r.customer for r in records if r.customer.pk is None], batch_size=BATCH
    )
    rows = Rows()
    for number, (moment, record, target) in enumerate(planned):
        order_rows(
            contexts[record.shop],
            rnd,
            rows,
            customer=record.customer,
            person=record.person,
            account=record.account,
            placed_at=moment,
            target=target,
            key=f"{KEY_PREFIX}{number}",
            now=now,
            trouble_free=record.fan,
        )
    _account_interactions(rows, records, contexts)
    _insert(rows)
    return HistoryStats(
        fans=fans,
        customers=len(records),
        accounts=accounts,
        orders=len(rows.orders),
        interactions=len(rows.interactions),
    )


def _records(
    rng: np.random.Generator, fans: int, contexts: list[ShopContext], fan: User
) -> list[_Record]:
    """Return one record per fan and shop they buy from, the demo fan's first."""
    records = []
    fan_person = make_person(rng, index=0, country="KR")
    fan_person = Person(
        name=fan.name,
        email=fan.email,
        country="KR",
        language="ko",
        street_number=fan_person.street_number,
    )
    for index, ctx in enumerate(contexts[: len(FAN_ORDERS)]):
        customer = Customer.objects.filter(shop=ctx.shop, email__iexact=FAN_EMAIL).first()
        customer = customer or Customer(
            shop=ctx.shop,
            email=fan.email,
            name=fan.name,
            country="KR",
            created_at=fan.date_joined,
        )
        records.append(_Record(index, fan_person, customer, account=fan, fan=True))
    for person, shops in _people(rng, fans, contexts):
        for index in sorted(shops):
            customer = Customer(
                shop=contexts[index].shop,
                email=person.email,
                name=person.name,
                country=person.country,
            )
            records.append(_Record(index, person, customer))
    return records


def _simulate(
    seed: int,
    records: list[_Record],
    contexts: list[ShopContext],
    orders: int,
    start: dt.datetime,
    now: dt.datetime,
) -> None:
    """Give every record its purchase days; about ``orders`` in all, split by customer count."""
    regular = [r for r in records if not r.fan]
    for index, ctx in enumerate(contexts):
        mine = [r for r in regular if r.shop == index]
        season = simulation.season_curve(
            start=start,
            days=WINDOW_DAYS,
            time_zone=ctx.shop.time_zone,
            launches=ctx.spec.launches,
            spring_lift=ctx.spec.spring_lift,
        )
        share = round(orders * len(mine) / max(len(regular), 1))
        shop_rng = np.random.default_rng([seed, index])
        customers = simulation.draw_customers(
            shop_rng, count=len(mine), season=season, typical_order=ctx.spec.typical_order
        )
        days = simulation.purchase_days(
            seed * 31 + index, customers=customers, season=season, orders=share
        )
        for record, purchase, spend in zip(mine, days, customers.mean_spend):
            record.days = purchase
            record.mean_spend = float(spend)
    for record in records:
        if record.fan:
            offsets = FAN_ORDERS[record.shop]
            record.days = np.array([WINDOW_DAYS - d for d in offsets], dtype=float)
            record.mean_spend = float(contexts[record.shop].spec.typical_order)


def _accounts(rng: np.random.Generator, records: list[_Record], start: dt.datetime) -> int:
    """Give a share of fans an account (joined just before their first order); return how many."""
    by_email: dict[str, list[_Record]] = {}
    for record in records:
        if not record.fan:
            by_email.setdefault(record.person.email, []).append(record)
    taken = set(User.objects.filter(email__in=list(by_email)).values_list("email", flat=True))
    users = []
    for email, mine in by_email.items():
        if email in taken or rng.random() >= ACCOUNT_SHARE:
            continue
        firsts = [r.days[0] for r in mine if len(r.days)]
        first = min(firsts) if firsts else float(rng.uniform(0, WINDOW_DAYS))
        # A day and a half of margin: the first order's local date may start before its UTC day.
        earlier = 1.5 + float(rng.uniform(0.0, 20.0))
        joined = start + dt.timedelta(days=max(np.floor(first) - earlier, 0.0))
        person = mine[0].person
        user = User(
            email=email,
            name=person.name,
            password=make_password(None),
            email_confirmed_at=joined,
            date_joined=joined,
            preferred_language=person.language,
        )
        users.append(user)
        for record in mine:
            record.account = user
    User.objects.bulk_create(users, batch_size=BATCH)
    return len(users)


def _plan(
    rng: np.random.Generator,
    rnd: random.Random,
    records: list[_Record],
    contexts: list[ShopContext],
    start: dt.datetime,
    now: dt.datetime,
) -> list[tuple[dt.datetime, _Record, float]]:
    """Return every order to make as (placed at, record, basket target), oldest first so that
    order ids grow with time."""
    planned = []
    for record in records:
        targets = simulation.order_targets(rng, record.mean_spend, len(record.days))
        tz = contexts[record.shop].shop.tzinfo
        for day, target in zip(record.days, targets):
            moment = _moment(day, start=start, tz=tz, rnd=rnd, now=now)
            planned.append((moment, record, float(target)))
    planned.sort(key=lambda item: (item[0], item[1].person.email, item[1].shop))
    return planned


def _account_interactions(rows: Rows, records: list[_Record], contexts: list[ShopContext]) -> None:
    """Record each new account on the timeline of the shop where the fan signed up."""
    seen: set[int] = set()
    for record in sorted(records, key=lambda r: (r.customer.created_at, r.shop)):
        account = record.account
        if account is None or account.pk in seen:
            continue
        seen.add(account.pk)
        rows.interactions.append(
            Interaction(
                shop=contexts[record.shop].shop,
                customer=record.customer,
                kind=Interaction.Kind.ACCOUNT_CREATED,
                occurred_at=account.date_joined,
                source=Interaction.Source.STOREFRONT,
                subject_type="account",
                subject_id=str(account.pk),
            )
        )


def _insert(rows: Rows) -> None:
    """Insert the rows, parents before children (bulk inserts return the new ids)."""
    Order.objects.bulk_create(rows.orders, batch_size=BATCH)
    OrderLine.objects.bulk_create(rows.lines, batch_size=BATCH)
    OrderEvent.objects.bulk_create(rows.events, batch_size=BATCH)
    Payment.objects.bulk_create(rows.payments, batch_size=BATCH)
    Refund.objects.bulk_create(rows.refunds, batch_size=BATCH)
    Shipment.objects.bulk_create([shipment for shipment, _ in rows.shipments], batch_size=BATCH)
    ShipmentLine.objects.bulk_create(
        [
            ShipmentLine(shipment=shipment, order_line=line, quantity=line.quantity)
            for shipment, lines in rows.shipments
            for line in lines
        ],
        batch_size=BATCH,
    )
    Interaction.objects.bulk_create(rows.interactions, batch_size=BATCH)


@transaction.atomic
def refunds_fill(*, shops, now: dt.datetime) -> int:
    """Give every refunded demo payment without one the Refund that gave its money back (a
    history built before refunds were recorded), and the order's history of it; return how
    many were made. Nothing is made twice: a payment with a refund is left as it is."""
    payments = list(
        Payment.objects.select_related("order")
        .filter(
            shop__in=shops,
            status=Payment.Status.REFUNDED,
            order__status=Order.Status.REFUNDED,
            order__idempotency_key__startswith=KEY_PREFIX,
            refunds__isnull=True,
        )
        .order_by("pk")
    )
    if not payments:
        return 0
    # The order's move to refunded says when, why and by whom.
    decided = {
        event.order_id: event
        for event in OrderEvent.objects.select_related("actor")
        .filter(order__in=[p.order for p in payments], to_status=Order.Status.REFUNDED)
        # Its refund's own notes stay at refunded (from no status).
        .exclude(from_status="")
        .order_by("created_at", "id")
    }
    refunds, events = [], []
    for payment in payments:
        event = decided.get(payment.order_id)
        refund, history = refund_rows(
            payment.order,
            payment,
            at=event.created_at if event else payment.updated_at,
            reason=event.note if event else "",
            operator=event.actor if event else None,
            now=now,
        )
        refunds.append(refund)
        events.extend(history)
    Refund.objects.bulk_create(refunds, batch_size=BATCH)
    OrderEvent.objects.bulk_create(events, batch_size=BATCH)
    Payment.objects.bulk_update(payments, ["refund_total"], batch_size=BATCH)
    return len(refunds)
