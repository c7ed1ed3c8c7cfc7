"""Writing what an import file holds: customers, timeline interactions, consent and tags.

Orders are written in batches, one transaction each, so that a long import never holds the
database for long and its progress can be read while it runs. An imported order is timeline
interactions with ``source="import"``, ``subject_type`` naming the origin and ``subject_id`` the
order there: the unique constraint ``interaction_unique_import`` refuses a second copy, so that a
second import of the same file adds nothing (``bulk_create(ignore_conflicts=True)``), and the
interactions already there are looked up first to count them.

Refunds arrive later than their orders: a Shopify export made after a refund shows an order
imported before as refunded. An imported order's refunds are one ``order_refunded`` of the
order's subject, brought up to date by each import that knows more: its ``amount`` only grows
(an older export imported after a newer one takes nothing back), refunds named by their own ids
(``parts``, Bandcamp's refund lines) add up without counting one twice, and ``full`` says that all
of the order went back. Stages, RFM, predicted value and customer share count ``order_paid``
rows and their totals (``stage_rules.purchase_filter``), so the import brings the order's
``order_paid`` along: a partial refund lowers its total to what the fan kept, and a full refund
withdraws it, as an export of the refunded order alone never had one. The order's rows end the
same whether its history came in one export or in two, and the refund's row keeps when and how
much went back. This is the one place where timeline rows change after they were written: they
are imported history brought up to date, not events of the shop. Importing the same file again
changes nothing.

Lines of people erased from the shop are left out before anything is written (see
``erased_among``): no customer is made for them and nothing is linked to anyone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower

from kinfolk.core import clock
from kinfolk.crm.imports.records import ImportedOrder, ImportedRefund
from kinfolk.crm.models import ConsentRecord, Customer, ErasedAddress, Interaction, Tag
from kinfolk.crm.services.privacy import erased_address_digest
from kinfolk.shops.models import Shop

Kind = Interaction.Kind
ORDER_KINDS = (Kind.ORDER_PLACED, Kind.ORDER_PAID, Kind.ORDER_REFUNDED, Kind.ORDER_CANCELLED)
# The rows of an imported order that its refunds change or read.
LEDGER_KINDS = (Kind.ORDER_PLACED, Kind.ORDER_PAID, Kind.ORDER_REFUNDED)
# Rows per statement: well under SQLite's limit on bound parameters.
STATEMENT_ROWS = 500
SHOPIFY_CONSENT_SOURCE = "import: shopify"
# Stored as written: the record of what the person's answer was, not a page to translate.
SHOPIFY_CONSENT_WORDING = "Imported from Shopify: accepts e-mail marketing"

Key = tuple[str, str, str]  # subject type, subject id, kind


def _chunks(items: list, size: int = STATEMENT_ROWS) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class BatchResult:
    """What writing one batch did: records imported (anything new or brought up to date),
    already there, customers created, and the lines left out at the person's request."""

    imported: int = 0
    already: int = 0
    customers_created: int = 0
    left_out: list[int] = field(default_factory=list)


def erased_among(*, shop: Shop, emails: Iterable[str]) -> set[str]:
    """Return which of the (normalised) ``emails`` belong to people erased from the shop.

    Each address is recognised by its digest (``privacy.erased_address_digest``), looked up in
    the shop's ``ErasedAddress`` rows (every address an erased person was known by: their own,
    their account's, their merged records'), through the unique index on (shop, digest): one
    query per 500 addresses.
    """
    digests = {erased_address_digest(shop_id=shop.pk, email=email): email for email in set(emails)}
    found: set[str] = set()
    for chunk in _chunks(sorted(digests)):
        found.update(
            ErasedAddress.objects.filter(shop=shop, digest__in=chunk).values_list(
                "digest", flat=True
            )
        )
    return {digests[digest] for digest in found}


def _leave_out_erased(shop: Shop, records: list, result: BatchResult) -> list:
    """Return the records of people not erased; note the others' lines in ``result``."""
    erased = erased_among(shop=shop, emails=(record.email for record in records))
    if not erased:
        return records
    kept = []
    for record in records:
        if record.email in erased:
            result.left_out.append(record.line)
        else:
            kept.append(record)
    return kept


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


@dataclass
class Refunds:
    """An imported order's refunds as they stand: how much went back, whether all of it, and
    the refunds named by their own ids (Bandcamp's refund lines)."""

    amount: int = 0
    full: bool = False
    parts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, data: dict | None) -> Refunds:
        """Return the refunds an ``order_refunded`` row's data records (none for None)."""
        if not data:
            return cls()
        return cls(
            amount=int(data.get("amount") or 0),
            full=bool(data.get("full")),
            parts={str(k): int(v) for k, v in (data.get("parts") or {}).items()},
        )

    def merged(self, *, amount: int = 0, parts: dict[str, int], total: int | None) -> Refunds:
        """Return these refunds together with what another file says.

        ``amount`` is a file's own figure for all the order's refunds so far (Shopify's
        "Refunded Amount"); ``parts`` are refunds by id. Amounts only grow, parts add up by id,
        and the order is refunded in full once they reach its ``total`` (None: not known).
        """
        every_part = {**self.parts, **parts}
        amount = max(self.amount, amount, sum(every_part.values()))
        full = self.full or (total is not None and 0 < total <= amount)
        return Refunds(amount=amount, full=full, parts=every_part)

    def figures(self) -> dict:
        """Return what an ``order_refunded`` row's data holds of these refunds."""
        figures = {"amount": self.amount, "full": self.full}
        if self.parts:
            figures["parts"] = self.parts
        return figures

    def data(self, currency: str, external: dict) -> dict:
        """Return the data of the order's ``order_refunded`` row."""
        return {**self.figures(), "currency": currency, "external": external}


def order_events(
    order: ImportedOrder | ImportedRefund, refunds: Refunds | None = None
) -> list[tuple[str, dt.datetime, dict]]:
    """Return the (kind, time, data) interactions an imported order or refund becomes.

    ``refunds`` are the order's refunds as they stand with the timeline's (by default, what the
    file says of them).
    """
    external = order.external
    if isinstance(order, ImportedRefund):
        data = {"amount": order.amount, "currency": order.currency, "external": external}
        return [(Kind.ORDER_REFUNDED, order.refunded_at, data)]
    if refunds is None:
        refunds = Refunds().merged(
            amount=order.refunded, parts=order.refund_parts, total=order.total
        )
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
    if order.paid_at and not refunds.full:
        data = {"total": order.total - refunds.amount, "currency": order.currency, "items": items}
        if refunds.amount:
            data["refunded"] = refunds.amount
        events.append((Kind.ORDER_PAID, order.paid_at, {**data, "external": external}))
    if refunds.amount or refunds.full:
        refunded_at = order.refunded_at or order.paid_at or order.placed_at
        events.append((Kind.ORDER_REFUNDED, refunded_at, refunds.data(order.currency, external)))
    if order.cancelled_at:
        events.append((Kind.ORDER_CANCELLED, order.cancelled_at, {"external": external}))
    return events


def _refunds_matter(record: ImportedOrder | ImportedRefund, keys: set[Key]) -> bool:
    """Return whether the record's refunds may change its order's rows: it brings refunds of
    an order, or its order was refunded before (by a refund line that came first)."""
    if isinstance(record, ImportedRefund):
        return bool(record.part)
    return bool(
        record.refunded
        or record.refund_parts
        or (record.subject_type, record.subject_id, Kind.ORDER_REFUNDED) in keys
    )


class _Ledger:
    """One batch's imported orders as the timeline holds them: which of their interactions
    exist, and the rows that refunds change, to add to and bring up to date in two statements.
    """

    def __init__(self, shop: Shop, records: list):
        self.shop = shop
        self.keys = _existing(shop, records)
        # Rows are read only for the few orders whose refunds may change something.
        self.subjects = {
            (record.subject_type, record.subject_id)
            for record in records
            if _refunds_matter(record, self.keys)
        }
        self.rows = _ledger_rows(shop, self.subjects)
        self.new: dict[Key, Interaction] = {}
        self.changed: dict[int, Interaction] = {}
        self.withdrawn: set[int] = set()

    def _row(self, key: Key) -> Interaction | None:
        row = self.new.get(key)
        return row if row is not None else self.rows.get(key)

    def _there(self, key: Key) -> bool:
        return key in self.new or key in self.keys

    def _add(self, record, customer_id: int, kind: str, at: dt.datetime, data: dict) -> None:
        self.new[(record.subject_type, record.subject_id, kind)] = Interaction(
            shop=self.shop,
            customer_id=customer_id,
            kind=kind,
            occurred_at=at,
            source=Interaction.Source.IMPORT,
            subject_type=record.subject_type,
            subject_id=record.subject_id,
            data=data,
        )

    def _update(self, row: Interaction | None, data: dict) -> bool:
        """Give ``row`` the figures of ``data``; return whether any changed."""
        if row is None or all(row.data.get(name) == value for name, value in data.items()):
            return False
        row.data = {**row.data, **data}
        if row.pk is not None:
            self.changed[row.pk] = row
        return True

    def _withdraw_payment(self, subject: tuple[str, str]) -> bool:
        """Remove the ``order_paid`` of an order refunded in full; return whether there was one."""
        key = (*subject, Kind.ORDER_PAID)
        if self.new.pop(key, None) is not None:
            return True
        row = self.rows.get(key)
        if row is None or row.pk in self.withdrawn:
            return False
        self.withdrawn.add(row.pk)
        return True

    def _refunds_update(self, row: Interaction | None, refunds: Refunds) -> bool:
        """Bring an ``order_refunded`` row to ``refunds``; return whether it changed (a row
        written before refunds said ``full`` reads as not full, and stays as it is)."""
        if row is None or Refunds.of(row.data) == refunds:
            return False
        return self._update(row, refunds.figures())

    def write(self, record: ImportedOrder | ImportedRefund, customer_id: int) -> bool:
        """Take in one record; return whether the timeline gains or changes anything."""
        if isinstance(record, ImportedRefund) and record.part:
            return self._linked_refund(record, customer_id)
        subject = (record.subject_type, record.subject_id)
        refunds = None
        if isinstance(record, ImportedOrder) and subject in self.subjects:
            before = self._row((*subject, Kind.ORDER_REFUNDED))
            refunds = Refunds.of(before.data if before else None).merged(
                amount=record.refunded, parts=record.refund_parts, total=record.total
            )
        changed = False
        for kind, at, data in order_events(record, refunds):
            key = (*subject, kind)
            if not self._there(key):
                self._add(record, customer_id, kind, at, data)
                changed = True
            elif refunds is not None and kind == Kind.ORDER_REFUNDED:
                changed |= self._refunds_update(self._row(key), refunds)
            elif refunds is not None and kind == Kind.ORDER_PAID and "refunded" in data:
                changed |= self._update(
                    self._row(key), {"total": data["total"], "refunded": data["refunded"]}
                )
        if refunds is not None and refunds.full:
            changed |= self._withdraw_payment(subject)
        return changed

    def _linked_refund(self, refund: ImportedRefund, customer_id: int) -> bool:
        """Add a refund to the order it names (imported before, in this file, or not yet)."""
        subject = (refund.subject_type, refund.subject_id)
        placed = self._row((*subject, Kind.ORDER_PLACED))
        total = placed.data.get("total") if placed is not None else None
        before = self._row((*subject, Kind.ORDER_REFUNDED))
        refunds = Refunds.of(before.data if before else None).merged(
            parts={refund.part: refund.amount}, total=total
        )
        if before is None:
            data = refunds.data(refund.currency, refund.external)
            self._add(refund, customer_id, Kind.ORDER_REFUNDED, refund.refunded_at, data)
            changed = True
        else:
            changed = self._refunds_update(before, refunds)
        if refunds.full:
            changed |= self._withdraw_payment(subject)
        elif total is not None:
            changed |= self._update(
                self._row((*subject, Kind.ORDER_PAID)),
                {"total": total - refunds.amount, "refunded": refunds.amount},
            )
        return changed

    def save(self) -> None:
        Interaction.objects.bulk_create(
            list(self.new.values()), batch_size=STATEMENT_ROWS, ignore_conflicts=True
        )
        changed = [row for pk, row in self.changed.items() if pk not in self.withdrawn]
        Interaction.objects.bulk_update(changed, ["data"], batch_size=STATEMENT_ROWS)
        for chunk in _chunks(sorted(self.withdrawn)):
            Interaction.objects.filter(shop=self.shop, pk__in=chunk).delete()


@transaction.atomic
def orders_write(*, shop: Shop, orders: list, directory: CustomerDirectory) -> BatchResult:
    """Write a batch of imported orders and refunds; return what it did.

    An order counts as imported when any of its interactions is new or brought up to date (a
    refund that happened since the last export, say), as already there when none is. Orders of
    people erased from the shop are left out.
    """
    result = BatchResult()
    orders = _leave_out_erased(shop, orders, result)
    directory.look_up(order.email for order in orders)
    result.customers_created = directory.create_missing(
        (order.email, order.name, order.country) for order in orders
    )
    ledger = _Ledger(shop, orders)
    for order in orders:
        if ledger.write(order, directory.ids[order.email]):
            result.imported += 1
        else:
            result.already += 1
    ledger.save()
    return result


def _existing(shop: Shop, orders: list) -> set[Key]:
    """Return (subject type, subject id, kind) of the batch's interactions imported before.

    The filter names every column of ``interaction_unique_import`` and its condition, so that
    both databases answer from that index.
    """
    found: set[Key] = set()
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


def _ledger_rows(shop: Shop, subjects: set[tuple[str, str]]) -> dict[Key, Interaction]:
    """Return the imported placed, paid and refunded rows of ``subjects`` by their key."""
    rows: dict[Key, Interaction] = {}
    types = sorted({subject_type for subject_type, _id in subjects})
    ids = sorted({subject_id for _type, subject_id in subjects})
    for chunk in _chunks(ids):
        for row in Interaction.objects.filter(
            shop=shop,
            source=Interaction.Source.IMPORT,
            kind__in=LEDGER_KINDS,
            subject_type__in=types,
            subject_id__in=chunk,
        ).only("pk", "kind", "subject_type", "subject_id", "data"):
            if (row.subject_type, row.subject_id) in subjects:
                rows[(row.subject_type, row.subject_id, row.kind)] = row
    return rows


@transaction.atomic
def customers_write(*, shop: Shop, customers: list, directory: CustomerDirectory) -> BatchResult:
    """Write a batch of imported customers with their consent and tags; return what it did
    (``customers_created`` and ``already``; people erased from the shop are left out)."""
    result = BatchResult()
    customers = _leave_out_erased(shop, customers, result)
    directory.look_up(customer.email for customer in customers)
    # A customer before, or met earlier in this file, is already there.
    already = sum(1 for customer in customers if customer.email in directory.ids)
    created = directory.create_missing(
        (customer.email, customer.name, customer.country) for customer in customers
    )
    already += len(customers) - already - created  # the same address twice in this batch
    result.customers_created, result.already = created, already
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
    return result


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
