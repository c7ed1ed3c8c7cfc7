"""One past order of the demo history as the rows the live services would have left behind.

The order moves through the same states as a real one (placed, paid, shipped, delivered, or
cancelled or refunded on the way), each step leaving its OrderEvent, its Interaction on the
customer's timeline and, for shipped orders, a Shipment; a refunded order's money went back in
one Refund (by card at once, by bank transfer sent by staff). Rows are returned unsaved for
``history.py`` to insert in bulk.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from bisect import bisect
from dataclasses import dataclass, field
from itertools import accumulate

from kinfolk.accounts.models import User
from kinfolk.catalog.models import Product, Variant
from kinfolk.core.money import Money
from kinfolk.crm.models import Customer, Interaction
from kinfolk.demo.catalogue import ShopSpec
from kinfolk.demo.people import Person
from kinfolk.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Refund,
    Shipment,
    new_order_number,
)
from kinfolk.orders.notes import ORDER_PLACED_NOTE, PAYMENT_RECEIVED_NOTE, PAYMENT_TIMED_OUT_NOTE
from kinfolk.orders.payments.manual import SEND_BY_HAND_NOTE
from kinfolk.orders.services.expiry import CARD_PAYMENT_WINDOW
from kinfolk.orders.services.lifecycle import paid_items
from kinfolk.orders.services.refunds import (
    REFUND_MARKED_SENT_NOTE,
    REFUND_PENDING_NOTE,
    REFUND_SUCCEEDED_NOTE,
)
from kinfolk.shops.models import Shop
from kinfolk.shops.selectors import shipping_rate_for

Status = Order.Status
Kind = Interaction.Kind
Source = Interaction.Source

# Shares of orders that go wrong, and how long each step takes (days unless noted).
MANUAL_SHARE = 0.15
DECLINED_SHARE = 0.03
ABANDONED_SHARE = 0.04
MANUAL_UNPAID_SHARE = 0.12
REFUND_SHARE = 0.015
NEVER_CONFIRMED_SHARE = 0.2
# How long the card processor took to answer a refund, and staff to send a bank transfer's.
CARD_REFUND_LAG = dt.timedelta(seconds=20)
BANK_REFUND_LAG = dt.timedelta(days=1)
# The maker packs in batches: nothing paid in the last two days has shipped yet, so the
# dashboard opens on a pile of orders to pack.
PACKING_BACKLOG = dt.timedelta(days=2)
REFUND_REASONS_SHIPPED = ("Returned: wrong size", "Arrived damaged", "Returned unopened")
REFUND_REASONS_UNSHIPPED = ("Ordered twice by mistake", "Changed their mind before shipping")
# Carrier and tracking-number pattern for parcels at home and abroad, by the shop's country.
CARRIERS = {
    "KR": (("CJ Logistics", "6{:011d}"), ("K-Packet", "LK{:09d}KR")),
    "US": (("USPS", "9400{:018d}"), ("DHL Express", "{:010d}")),
}


@dataclass
class ShopContext:
    """What building one shop's history needs: the shop, its catalogue and its people."""

    spec: ShopSpec
    shop: Shop  # with shipping_zones prefetched: quotes then need no query
    variants: list[Variant]
    operator: User  # ships and refunds
    numbers: set[str] = field(default_factory=set)  # order numbers taken in this shop
    cumulative: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        popularity = {p.slug: p.popularity / len(p.variants) for p in self.spec.products}
        weights = [popularity.get(v.product.slug, 1.0) for v in self.variants]
        self.cumulative = list(accumulate(weights))

    def new_number(self) -> str:
        while True:
            number = new_order_number()
            if number not in self.numbers:
                self.numbers.add(number)
                return number


@dataclass
class Rows:
    """Unsaved rows of the history, in the order they can be inserted."""

    orders: list[Order] = field(default_factory=list)
    lines: list[OrderLine] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    shipments: list[tuple[Shipment, list[OrderLine]]] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)


def basket(ctx: ShopContext, rnd: random.Random, target: float) -> list[tuple[Variant, int]]:
    """Return lines for an order of about ``target`` minor units, popular items more often."""
    chosen: dict[int, list] = {}
    subtotal = 0
    for _pick in range(6):
        limit = target * 1.25 - subtotal
        index = bisect(ctx.cumulative, rnd.random() * ctx.cumulative[-1])
        variant = ctx.variants[min(index, len(ctx.variants) - 1)]
        if variant.price > limit:
            if chosen:
                continue
            # Nothing fits the budget: the customer buys the cheapest thing instead.
            variant = min(ctx.variants, key=lambda v: v.price)
        line = chosen.setdefault(variant.pk, [variant, 0])
        if line[1] and variant.product.kind != Product.Kind.PHYSICAL:
            continue
        line[1] += 1
        subtotal += variant.price
        if subtotal >= target * 0.75:
            break
    return [(variant, quantity) for variant, quantity in chosen.values()]


def _reference(rnd: random.Random) -> str:
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


def _tracking(ctx: ShopContext, rnd: random.Random, domestic: bool) -> tuple[str, str]:
    home, abroad = CARRIERS.get(ctx.shop.country, CARRIERS["US"])
    carrier, pattern = home if domestic else abroad
    return carrier, pattern.format(rnd.randrange(10**9, 10**10))


class _Story:
    """Collects the rows of one order while its story is told step by step."""

    def __init__(self, rows: Rows, order: Order, customer: Customer, now: dt.datetime):
        self.rows, self.order, self.customer, self.now = rows, order, customer, now

    def step(
        self,
        at: dt.datetime,
        to: str,
        kind: str,
        source: str,
        *,
        note: str = "",
        actor: User | None = None,
        actor_label: str = "system",
        data: dict | None = None,
    ) -> None:
        order = self.order
        self.rows.events.append(
            OrderEvent(
                order=order,
                from_status="" if to == Status.AWAITING_PAYMENT else order.status,
                to_status=to,
                actor=actor,
                actor_label=actor_label,
                note=note,
                created_at=at,
            )
        )
        order.status = to
        self.rows.interactions.append(
            Interaction(
                shop_id=order.shop_id,
                customer=self.customer,
                kind=kind,
                occurred_at=at,
                source=source,
                subject_type="order",
                subject_id=order.number,
                data=data or {},
            )
        )


def order_rows(
    ctx: ShopContext,
    rnd: random.Random,
    rows: Rows,
    *,
    customer: Customer,
    person: Person,
    account: User | None,
    placed_at: dt.datetime,
    target: float,
    key: str,
    now: dt.datetime,
    trouble_free: bool = False,
) -> Order:
    """Add one order's rows to ``rows`` and return the order; ``trouble_free`` never cancels
    or refunds it (the demo fan's own orders)."""
    shop = ctx.shop
    items = basket(ctx, rnd, target)
    subtotal = sum(variant.price * quantity for variant, quantity in items)
    needs_shipping = any(v.product.kind != Product.Kind.DIGITAL for v, _q in items)
    address, zone, shipping = {}, None, 0
    if needs_shipping:
        address = person.address()
        zone, cost = shipping_rate_for(
            shop=shop, country=person.country, subtotal=Money(subtotal, shop.currency)
        )
        shipping = cost.amount
    provider = "manual" if rnd.random() < MANUAL_SHARE else "testpay"
    order = Order(
        shop=shop,
        number=ctx.new_number(),
        customer=customer,
        account=account,
        email=customer.email,
        status=Status.AWAITING_PAYMENT,
        currency=shop.currency,
        subtotal=subtotal,
        shipping=shipping,
        total=subtotal + shipping,
        shipping_address=address,
        shipping_country=person.country if needs_shipping else "",
        shipping_method=zone.name if zone else "",
        payment_provider=provider,
        idempotency_key=key,
        language=person.language,
        placed_at=placed_at,
    )
    rows.orders.append(order)
    lines = [
        OrderLine(
            order=order,
            variant=variant,
            product_name=variant.product.name,
            variant_name=variant.name,
            sku=variant.sku,
            product_kind=variant.product.kind,
            unit_price=variant.price,
            quantity=quantity,
        )
        for variant, quantity in items
    ]
    rows.lines.extend(lines)
    payment = Payment(
        shop=shop,
        order=order,
        provider=provider,
        reference=_reference(rnd) if provider == "testpay" else "",
        status=Payment.Status.PENDING,
        amount=order.total,
        currency=order.currency,
        created_at=placed_at,
        updated_at=placed_at,
    )
    rows.payments.append(payment)
    story = _Story(rows, order, customer, now)
    money = {"total": order.total, "currency": order.currency}
    story.step(
        placed_at,
        Status.AWAITING_PAYMENT,
        Kind.ORDER_PLACED,
        Source.STOREFRONT,
        note=ORDER_PLACED_NOTE,
        actor=account,
        actor_label=order.email,
        data=money,
    )
    paid_at = _payment(story, payment, rnd, placed_at, trouble_free, ctx.operator, lines)
    if paid_at is not None:
        _fulfilment(story, ctx, rnd, lines, payment, paid_at, trouble_free)
    return order


def _payment(
    story: _Story,
    payment: Payment,
    rnd: random.Random,
    placed_at: dt.datetime,
    trouble_free: bool,
    operator: User,
    lines: list[OrderLine],
) -> dt.datetime | None:
    """Settle the payment as it would have gone; return when it was paid, or None."""
    order, now = story.order, story.now
    roll = 1.0 if trouble_free else rnd.random()
    cancel_at, reason, source = None, "", Source.SYSTEM
    if payment.provider == "testpay":
        if roll < DECLINED_SHARE:
            cancel_at = placed_at + dt.timedelta(seconds=rnd.uniform(60, 240))
            reason, source = "Payment declined (card_declined)", Source.PAYMENT
        elif roll < DECLINED_SHARE + ABANDONED_SHARE:
            # Left on the card page: the expiry task cancels it after the card payment window.
            cancel_at = placed_at + CARD_PAYMENT_WINDOW + dt.timedelta(minutes=rnd.uniform(0, 10))
            reason = PAYMENT_TIMED_OUT_NOTE
        pay_at = placed_at + dt.timedelta(seconds=rnd.uniform(30, 300))
    else:
        if roll < MANUAL_UNPAID_SHARE:
            cancel_at, reason = placed_at + dt.timedelta(days=7), "Not paid within 7 days"
        pay_at = placed_at + dt.timedelta(days=rnd.uniform(0.5, 5.0))
    if cancel_at is not None:
        if cancel_at <= now:
            story.step(
                cancel_at,
                Status.CANCELLED,
                Kind.ORDER_CANCELLED,
                source,
                note=reason,
                data={"reason": reason},
            )
            payment.status, payment.updated_at = Payment.Status.DECLINED, cancel_at
        return None
    if pay_at > now:
        return None
    testpay = payment.provider == "testpay"
    story.step(
        pay_at,
        Status.PAID,
        Kind.ORDER_PAID,
        Source.PAYMENT if testpay else Source.DASHBOARD,
        note=f"testpay {payment.reference}" if testpay else PAYMENT_RECEIVED_NOTE,
        actor=None if testpay else operator,
        actor_label="testpay" if testpay else operator.email,
        data={"total": order.total, "currency": order.currency, "items": paid_items(lines)},
    )
    order.paid_at = pay_at
    payment.status, payment.updated_at = Payment.Status.APPROVED, pay_at
    return pay_at


def _fulfilment(
    story: _Story,
    ctx: ShopContext,
    rnd: random.Random,
    lines: list[OrderLine],
    payment: Payment,
    paid_at: dt.datetime,
    trouble_free: bool,
) -> None:
    """Ship, confirm delivery and maybe refund, as far as ``now``; orders of downloads alone
    stay paid, as the live services leave them."""
    order, now, operator = story.order, story.now, ctx.operator
    refund_at = None
    if not trouble_free and rnd.random() < REFUND_SHARE:
        refund_at = paid_at + dt.timedelta(days=rnd.uniform(2, 25))
    before_refund = refund_at or now
    if order.needs_shipping:
        made_to_order = any(line.product_kind == Product.Kind.MADE_TO_ORDER for line in lines)
        lag = rnd.uniform(14, 35) if made_to_order else rnd.uniform(0.3, 3.0)
        ship_at = paid_at + dt.timedelta(days=lag)
        if ship_at <= min(now - PACKING_BACKLOG, before_refund):
            domestic = order.shipping_country == ctx.shop.country
            carrier, tracking = _tracking(ctx, rnd, domestic)
            story.step(
                ship_at,
                Status.SHIPPED,
                Kind.ORDER_SHIPPED,
                Source.DASHBOARD,
                note=f"{carrier} {tracking}",
                actor=operator,
                actor_label=operator.email,
                data={"carrier": carrier, "tracking_number": tracking},
            )
            # Downloads need no parcel: only the other lines are shipped.
            parcel = [line for line in lines if line.product_kind != Product.Kind.DIGITAL]
            for line in parcel:
                line.shipped_quantity = line.quantity
            story.rows.shipments.append(
                (
                    Shipment(
                        shop=ctx.shop,
                        order=order,
                        carrier=carrier,
                        tracking_number=tracking,
                        shipped_at=ship_at,
                        created_by=operator,
                    ),
                    parcel,
                )
            )
            transit = rnd.uniform(1, 3) if domestic else rnd.uniform(5, 15)
            deliver_at = ship_at + dt.timedelta(days=transit)
            if deliver_at <= min(now, before_refund) and rnd.random() >= NEVER_CONFIRMED_SHARE:
                story.step(
                    deliver_at,
                    Status.DELIVERED,
                    Kind.ORDER_DELIVERED,
                    Source.SYSTEM,
                    note=f"Delivered ({carrier})",
                )
    if refund_at is not None and refund_at <= now:
        shipped = order.status in {Status.SHIPPED, Status.DELIVERED} and order.needs_shipping
        reasons = REFUND_REASONS_SHIPPED if shipped else REFUND_REASONS_UNSHIPPED
        reason = reasons[rnd.randrange(len(reasons))]
        story.step(
            refund_at,
            Status.REFUNDED,
            Kind.ORDER_REFUNDED,
            Source.DASHBOARD,
            note=reason,
            actor=operator,
            actor_label=operator.email,
            data={"reason": reason},
        )
        payment.status, payment.updated_at = Payment.Status.REFUNDED, refund_at
        refund, events = refund_rows(
            order, payment, at=refund_at, reason=reason, operator=operator, now=now
        )
        story.rows.refunds.append(refund)
        story.rows.events.extend(events)


def refund_rows(
    order: Order,
    payment: Payment,
    *,
    at: dt.datetime,
    reason: str,
    operator: User | None,
    now: dt.datetime,
) -> tuple[Refund, list[OrderEvent]]:
    """Return the unsaved Refund of all of ``payment``, decided ``at``, and the order's history
    of it, as the refund services leave them once the money is back: the card processor answers
    at once; a bank transfer waits for staff, who send it and mark it sent a day later (or by
    ``now``). Sets the payment's ``refund_total``; the caller saves it."""
    card = payment.provider != "manual"
    done = min(at + (CARD_REFUND_LAG if card else BANK_REFUND_LAG), now)
    payment.refund_total = payment.amount
    label = str(operator) if operator is not None else "system"
    refund = Refund(
        shop_id=order.shop_id,
        order=order,
        payment=payment,
        amount=payment.amount,
        currency=payment.currency,
        provider=payment.provider,
        status=Refund.Status.SUCCEEDED,
        message="" if card else SEND_BY_HAND_NOTE,
        # The order's own key is unique to it: its refund's is too, run after run.
        idempotency_key=f"{order.idempotency_key}-refund",
        reason=reason[:500],
        requested_by=operator,
        requested_by_label=label,
        attempts=1,
        created_at=at,
        updated_at=done,
        refunded_at=done,
    )

    def event(moment: dt.datetime, note: str, actor: User | None = None) -> OrderEvent:
        return OrderEvent(
            order=order,
            to_status=order.status,
            actor=actor,
            actor_label=str(actor) if actor is not None else "system",
            note=note,
            created_at=moment,
        )

    if card:
        events = [event(done, REFUND_SUCCEEDED_NOTE)]
    else:
        events = [event(at, REFUND_PENDING_NOTE), event(done, REFUND_MARKED_SENT_NOTE, operator)]
    return refund, events
