"""Writing what an import file holds: customers, timeline interactions, consent and tags.

Orders are written in batches, one transaction each, so that a long import never holds the
database for long and its progress can be read while it runs. An imported order is timeline
interactions with ``source="import"``, ``subject_type`` naming the origin and ``subject_id`` the
order there: the unique constraint ``interaction_unique_import`` refuses a second copy, so that a
second import of the same file adds nothing (``bulk_create(ignore_conflicts=True)``), and the
interactions already there are looked up first only to count them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models.functions import Lower

from kinfolk.core import clock
from kinfolk.crm.models import ConsentRecord, Customer, Interaction, Tag
from kinfolk.shops.models import Shop

Kind = Interaction.Kind
ORDER_KINDS = (Kind.ORDER_PLACED, Kind.ORDER_PAID, Kind.ORDER_REFUNDED, Kind.ORDER_CANCELLED)
# Rows per statement: well under SQLite's limit on bound parameters.
STATEMENT_ROWS = 500
SHOPIFY_CONSENT_SOURCE = "import: shopify"
# Stored as written: the record of what the person's answer was, not a page to translate.
SHOPIFY_CONSENT_WORDING = "Imported from Shopify: accepts e-mail marketing"


def _chunks(items: list, size: int = STATEMENT_ROWS) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class CustomerDirectory:
    """The shop's customers by e-mail address, looked up and created in bulk as the file meets
    them.

    New customers are created a batch at a time rather than one ``customer_get_or_create``
    each: that service finds a customer by ``email__iexact``, which no index serves, so calling
    it for each of tens of thousands of new addresses scans the shop's customers each time (a
    100,000-line export took over four minutes that way, against seconds in bulk). The rows made
    here are the ones it makes for an address without an account, under the same unique
    constraint on the shop and the address; addresses come normalised (``fields.email_of``).
    """

    def __init__(self, shop: Shop):
        self.shop = shop
        self.ids: dict[str, int] = {}

    def look_up(self, emails: Iterable[str]) -> None:
        """Find the customers with any of ``emails`` not met yet (one query per 500)."""
        missing = sorted({email for email in emails if email not in self.ids})
        for chunk in _chunks(missing):
            self.ids.update(
                # "email <> ''" is the condition of the unique index on (shop, lower(email)):
                # with it, both databases answer from that index.
                Customer.objects.filter(shop=self.shop)
                .exclude(email="")
                .annotate(lower_email=Lower("email"))
                .filter(lower_email__in=chunk)
                .values_list("lower_email", "pk")
            )

    def create_missing(self, people: Iterable[tuple[str, str, str]]) -> int:
        """Create a customer for each (email, name, country) not met yet; return how many."""
        new: dict[str, Customer] = {}
        now = clock.now()
        for email, name, country in people:
            if email not in self.ids and email not in new:
                new[email] = Customer(
                    shop=self.shop, email=email, name=name, country=country, created_at=now
                )
        Customer.objects.bulk_create(
            list(new.values()), batch_size=STATEMENT_ROWS, ignore_conflicts=True
        )
        self.look_up(new)
        return len(new)


def order_events(order) -> list[tuple[str, dt.datetime, dict]]:
    """Return the (kind, time, data) interactions an imported order or refund becomes."""
    from kinfolk.crm.imports.records import ImportedRefund

    external = order.external
    if isinstance(order, ImportedRefund):
        data = {"amount": order.amount, "currency": order.currency, "external": external}
        return [(Kind.ORDER_REFUNDED, order.refunded_at, data)]
    items = [item.as_data() for item in order.items]
    events = [
        (
            Kind.ORDER_PLACED,
            order.placed_at,
            {
                "total": order.total,
                "currency": order.currency,
                "items": items,
                "external": external,
            },
        )
    ]
    if order.paid_at and not order.fully_refunded:
        data = {"total": order.total - order.refunded, "currency": order.currency, "items": items}
        if order.refunded:
            data["refunded"] = order.refunded
        events.append((Kind.ORDER_PAID, order.paid_at, {**data, "external": external}))
    if order.refunded:
        refunded_at = order.refunded_at or order.paid_at or order.placed_at
        data = {"amount": order.refunded, "currency": order.currency, "external": external}
        events.append((Kind.ORDER_REFUNDED, refunded_at, data))
    if order.cancelled_at:
        events.append((Kind.ORDER_CANCELLED, order.cancelled_at, {"external": external}))
    return events


@transaction.atomic
def orders_write(*, shop: Shop, orders: list, directory: CustomerDirectory) -> tuple[int, int, int]:
    """Write a batch of imported orders and refunds; return (imported, already there, new
    customers).

    An order counts as imported when any of its interactions is new (a refund that happened
    since the last export, say), as already there when none is.
    """
    directory.look_up(order.email for order in orders)
    created = directory.create_missing((order.email, order.name, order.country) for order in orders)
    existing = _existing(shop, orders)
    rows: list[Interaction] = []
    imported = already = 0
    for order in orders:
        new = []
        for kind, occurred_at, data in order_events(order):
            key = (order.subject_type, order.subject_id, kind)
            if key not in existing:
                existing.add(key)
                new.append((kind, occurred_at, data))
        if not new:
            already += 1
            continue
        imported += 1
        customer_id = directory.ids[order.email]
        rows += [
            Interaction(
                shop=shop,
                customer_id=customer_id,
                kind=kind,
                occurred_at=occurred_at,
                source=Interaction.Source.IMPORT,
                subject_type=order.subject_type,
                subject_id=order.subject_id,
                data=data,
            )
            for kind, occurred_at, data in new
        ]
    Interaction.objects.bulk_create(rows, batch_size=STATEMENT_ROWS, ignore_conflicts=True)
    return imported, already, created


def _existing(shop: Shop, orders: list) -> set[tuple[str, str, str]]:
    """Return (subject type, subject id, kind) of the batch's interactions imported before.

    The filter names every column of ``interaction_unique_import`` and its condition, so that
    both databases answer from that index.
    """
    found: set[tuple[str, str, str]] = set()
    types = sorted({order.subject_type for order in orders})
    ids = sorted({order.subject_id for order in orders})
    for chunk in _chunks(ids):
        found.update(
            Interaction.objects.filter(
                shop=shop,
                source=Interaction.Source.IMPORT,
                kind__in=ORDER_KINDS,
                subject_type__in=types,
                subject_id__in=chunk,
            ).values_list("subject_type", "subject_id", "kind")
        )
    return found


@transaction.atomic
def customers_write(
    *, shop: Shop, customers: list, directory: CustomerDirectory
) -> tuple[int, int]:
    """Write a batch of imported customers with their consent and tags; return (new, already
    there)."""
    directory.look_up(customer.email for customer in customers)
    # A customer before, or met earlier in this file, is already there.
    already = sum(1 for customer in customers if customer.email in directory.ids)
    created = directory.create_missing(
        (customer.email, customer.name, customer.country) for customer in customers
    )
    already += len(customers) - already - created  # the same address twice in this batch
    consent_import_grant(
        shop=shop,
        customer_ids=[directory.ids[c.email] for c in customers if c.accepts_email_marketing],
        source=SHOPIFY_CONSENT_SOURCE,
        wording=SHOPIFY_CONSENT_WORDING,
    )
    tags: dict[int, list[str]] = {}
    for customer in customers:
        if customer.tags:
            tags.setdefault(directory.ids[customer.email], []).extend(customer.tags)
    customer_tags_add(shop=shop, tags=tags)
    return created, already


@transaction.atomic
def consent_import_grant(*, shop: Shop, customer_ids: list[int], source: str, wording: str) -> int:
    """Record that these customers agreed to marketing e-mail elsewhere; return how many.

    Only customers who never answered this shop are recorded: an answer given here (an
    unsubscribe, above all) is never overridden by an older list, and a second import of the same
    list records nothing twice.
    """
    ids = sorted(set(customer_ids))
    answered: set[int] = set()
    for chunk in _chunks(ids):
        answered.update(
            ConsentRecord.objects.filter(
                shop=shop, topic=ConsentRecord.Topic.EMAIL_MARKETING, customer_id__in=chunk
            ).values_list("customer_id", flat=True)
        )
    new = [pk for pk in ids if pk not in answered]
    now = clock.now()
    ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                shop=shop,
                customer_id=pk,
                topic=ConsentRecord.Topic.EMAIL_MARKETING,
                granted=True,
                recorded_at=now,
                source=source,
                wording=wording,
            )
            for pk in new
        ],
        batch_size=STATEMENT_ROWS,
    )
    for chunk in _chunks(new):
        Customer.objects.filter(shop=shop, pk__in=chunk).update(email_marketing=True)
    return len(new)


@transaction.atomic
def customer_tags_add(*, shop: Shop, tags: dict[int, list[str]]) -> None:
    """Give customers (by id) the named tags, creating the shop's tags that do not exist yet."""
    names: dict[str, str] = {}
    for customer_tags in tags.values():
        for name in customer_tags:
            names.setdefault(name.lower(), name)  # the first spelling met names a new tag
    if not names:
        return
    ids = _tag_ids(shop, list(names))
    Tag.objects.bulk_create(
        [Tag(shop=shop, name=names[lower]) for lower in names if lower not in ids],
        batch_size=STATEMENT_ROWS,
        ignore_conflicts=True,
    )
    ids = _tag_ids(shop, list(names))
    through = Customer.tags.through
    links = {
        (customer_id, ids[name.lower()])
        for customer_id, customer_tags in tags.items()
        for name in customer_tags
    }
    through.objects.bulk_create(
        [through(customer_id=customer_id, tag_id=tag_id) for customer_id, tag_id in links],
        batch_size=STATEMENT_ROWS,
        ignore_conflicts=True,
    )


def _tag_ids(shop: Shop, lower_names: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(lower_names):
        ids.update(
            Tag.objects.filter(shop=shop)
            .annotate(lower_name=Lower("name"))
            .filter(lower_name__in=chunk)
            .values_list("lower_name", "pk")
        )
    return ids
