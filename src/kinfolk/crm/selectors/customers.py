"""Reads of the customers list: matching, sorting, seek pagination, counts and segment members.

The list is built to stay fast at a million customers, so it never counts the whole filtered set
and never pages with OFFSET. A page is the next ``size`` rows after (or before) the last row seen,
found through an index on the sort column (seek pagination); ties are broken by the customer id,
so paging forwards and back shows every customer exactly once.

A sort is a list of *partitions* shown one after the other, each ordered by one column and the
id: customers with a value first, then those without (no score yet, no name), and for the stage
one partition per stage in stage order. Each partition is one plain indexed query — sorting by
lifetime value reads the score table's ``(shop, clv)`` index in order instead of joining and
sorting every customer — and a page that crosses into the next partition simply runs a second
query. The cursor (``Cursor``) names the partition, the sort value and the id of a row.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    F,
    Func,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Lower

from kinfolk.crm.models import (
    ConsentRecord,
    Customer,
    Interaction,
    SavedSegment,
    Stage,
    Tag,
)
from kinfolk.crm.segment_filters import SegmentFilter
from kinfolk.shops.models import Shop

PAGE_SIZE = 50
# Per-stage counts stop here: counting up to it reads a bounded stretch of the (shop, stage)
# index, however many customers the shop has; the page then says "10,000+".
COUNT_CAP = 10_000
EXPORT_CHUNK = 2000


@dataclass(frozen=True)
class Partition:
    """One stretch of a sort: the customers meeting ``condition``, by ``field`` then ``tiebreak``.

    ``tiebreak`` is the id column of the table that holds ``field``, so that one index holds
    both: ``(shop, frequency, customer)`` orders the score rows completely.
    """

    condition: Q
    field: str | None  # ORM path of the sort value; None: by id alone
    kind: str = ""  # the value's type in a cursor: "int", "str" or "datetime"
    value: Callable[[Customer], Any] | None = None
    tiebreak: str = "pk"


def _score_value(name: str) -> Callable[[Customer], Any]:
    return lambda customer: getattr(customer.score, name)


def _score_sort(shop: Shop, name: str, kind: str) -> list[Partition]:
    field = f"score__{name}"
    with_value = Q(score__shop=shop, **{f"{field}__isnull": False})
    return [
        Partition(with_value, field, kind, _score_value(name), tiebreak="score__pk"),
        Partition(Q(**{f"{field}__isnull": True}), None),
    ]


class RowBeyond(Func):
    """``(a, b) > (x, y)`` (or ``<``): a row-value comparison, which SQLite and PostgreSQL both
    answer by seeking an index on ``(a, b)`` instead of scanning the rows before the cursor."""

    output_field = BooleanField()
    conditional = True
    arity = 4

    def __init__(self, first, second, first_value, second_value, *, descending: bool):
        super().__init__(first, second, first_value, second_value)
        self.operator = "<" if descending else ">"

    def as_sql(self, compiler, connection, **extra):
        compiled = [compiler.compile(expression) for expression in self.source_expressions]
        (a, _), (b, _), (x, _), (y, _) = compiled
        params = [param for _, part in compiled for param in part]
        return f"({a}, {b}) {self.operator} ({x}, {y})", params


_VALUE_FIELDS = {"int": BigIntegerField, "str": CharField, "datetime": DateTimeField}


# Sort name: (label for the column, ascending by default?)
SORTS: dict[str, bool] = {
    "name": True,
    "stage": False,
    "last_purchase": False,
    "orders": False,
    "paid": False,
    "clv": False,
    "since": False,
}
DEFAULT_SORT = "-since"


@dataclass(frozen=True)
class Sort:
    """A column and a direction, parsed from ``"clv"`` / ``"-clv"`` (``-``: descending)."""

    key: str
    descending: bool

    @classmethod
    def parse(cls, text: str | None) -> Sort:
        """Return the sort ``text`` names; the default (newest customers first) otherwise."""
        text = (text or "").strip()
        name = text.removeprefix("-")
        if name not in SORTS:
            return cls.parse(DEFAULT_SORT)
        return cls(key=name, descending=text.startswith("-"))

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.key

    def toggled(self, key: str) -> Sort:
        """Return the sort a click on column ``key`` gives: the other direction of the same
        column, or the column's natural direction."""
        if key == self.key:
            return Sort(key=key, descending=not self.descending)
        return Sort(key=key, descending=not SORTS[key])

    def partitions(self, shop: Shop) -> list[Partition]:
        """Return the partitions of this sort, in the order they are shown."""
        if self.key == "stage":
            stages = list(reversed(Stage.values)) if self.descending else list(Stage.values)
            return [Partition(Q(stage=stage), None) for stage in stages]
        if self.key == "since":
            return [Partition(Q(), "created_at", "datetime", lambda c: c.created_at)]
        if self.key == "name":
            return [
                Partition(~Q(name=""), "name", "str", lambda c: c.name),
                Partition(Q(name=""), None),
            ]
        score_fields = {
            "last_purchase": ("last_purchase_at", "datetime"),
            "orders": ("frequency", "int"),
            "paid": ("monetary", "int"),
            "clv": ("clv", "int"),
        }
        return _score_sort(shop, *score_fields[self.key])


@dataclass(frozen=True)
class Cursor:
    """A position in a sort: the partition, the sort value and the id of one row."""

    partition: int
    value: Any
    id: int

    def encode(self, kind: str) -> str:
        value = self.value.isoformat() if kind == "datetime" else self.value
        raw = json.dumps([self.partition, value, self.id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None, partitions: list[Partition]) -> Cursor | None:
        """Return the cursor ``token`` names, or None for anything unreadable (first page)."""
        if not token or len(token) > 400:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            index, value, pk = json.loads(raw)
            partition = partitions[index] if isinstance(index, int) and index >= 0 else None
            if partition is None or not _is_row_int(pk):
                return None
            return cls(partition=index, value=_read_value(partition, value), id=pk)
        except (binascii.Error, ValueError, TypeError, IndexError, UnicodeDecodeError):
            return None


def _read_value(partition: Partition, value: Any) -> Any:
    if partition.field is None:
        return None
    if partition.kind == "datetime":
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed
    if partition.kind == "int" and not _is_row_int(value):
        raise TypeError("not an integer a column holds")
    if partition.kind == "str" and not isinstance(value, str):
        raise TypeError("not a text")
    return value


def _is_row_int(value: Any) -> bool:
    """Return whether ``value`` is an int a 64-bit column can hold (SQLite refuses others)."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


@dataclass
class Page:
    """One page of customers with the cursors of the pages around it (None: no such page)."""

    customers: list[Customer]
    next_cursor: str | None
    previous_cursor: str | None


def customers_matching(*, shop: Shop, spec: SegmentFilter) -> QuerySet[Customer]:
    """Return the shop's customers that ``spec`` matches, unordered, score loaded."""
    return spec.apply(Customer.objects.select_related("score"), shop)


def segment_members(*, shop: Shop, segment: SavedSegment) -> QuerySet[Customer]:
    """Return who is in the saved segment now (none when it is another shop's segment)."""
    if segment.shop_id != shop.pk:
        return Customer.objects.none()
    return customers_matching(shop=shop, spec=SegmentFilter.from_dict(segment.filters))


def _ordering(partition: Partition, descending: bool) -> list[str]:
    sign = "-" if descending else ""
    columns = [partition.field] if partition.field else []
    return [sign + column for column in [*columns, partition.tiebreak]]


def _beyond(partition: Partition, cursor: Cursor, descending: bool) -> Q:
    """Return the condition for the rows after ``cursor`` within its partition."""
    after = "lt" if descending else "gt"
    if partition.field is None:
        return Q(**{f"pk__{after}": cursor.id})
    value = Value(cursor.value, output_field=_VALUE_FIELDS[partition.kind]())
    beyond = RowBeyond(
        F(partition.field),
        F(partition.tiebreak),
        value,
        Value(cursor.id, output_field=BigIntegerField()),
        descending=descending,
    )
    # The redundant ``<=`` (or ``>=``) gives a range on an index of the sort column alone.
    return Q(**{f"{partition.field}__{after}e": cursor.value}) & Q(beyond)


def _walk(
    qs: QuerySet[Customer],
    partitions: list[Partition],
    cursor: Cursor | None,
    *,
    descending: bool,
    limit: int,
    backwards: bool,
) -> list[tuple[int, Customer]]:
    """Return up to ``limit`` (partition, customer) pairs from ``cursor`` on, in walk order."""
    indexes = range(len(partitions))
    if backwards:
        indexes = reversed(indexes)
    rows: list[tuple[int, Customer]] = []
    for index in indexes:
        if cursor is not None and (
            index > cursor.partition if backwards else index < cursor.partition
        ):
            continue
        partition = partitions[index]
        direction = descending != backwards
        part = qs.filter(partition.condition)
        if cursor is not None and index == cursor.partition:
            part = part.filter(_beyond(partition, cursor, direction))
        part = part.order_by(*_ordering(partition, direction))
        rows += [(index, customer) for customer in part[: limit - len(rows)]]
        if len(rows) >= limit:
            break
    return rows


def _cursor_of(partitions: list[Partition], index: int, customer: Customer) -> Cursor:
    partition = partitions[index]
    value = partition.value(customer) if partition.value else None
    return Cursor(partition=index, value=value, id=customer.pk)


def customers_page(
    *,
    shop: Shop,
    spec: SegmentFilter,
    sort: Sort,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """Return the page of matching customers after the cursor ``after`` (or before ``before``;
    the first page without either), in ``sort`` order."""
    partitions = sort.partitions(shop)
    qs = customers_matching(shop=shop, spec=spec)
    backwards_from = Cursor.decode(before, partitions) if before else None
    cursor = backwards_from or Cursor.decode(after, partitions)
    backwards = backwards_from is not None
    rows = _walk(
        qs, partitions, cursor, descending=sort.descending, limit=size + 1, backwards=backwards
    )
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()

    def token(pair: tuple[int, Customer]) -> str:
        index, customer = pair
        return _cursor_of(partitions, index, customer).encode(partitions[index].kind)

    has_next = (cursor is not None) if backwards else more
    has_previous = more if backwards else cursor is not None
    return Page(
        customers=[customer for _, customer in rows],
        next_cursor=token(rows[-1]) if rows and has_next else None,
        previous_cursor=token(rows[0]) if rows and has_previous else None,
    )


def stage_counts_capped(*, shop: Shop, cap: int = COUNT_CAP) -> dict[str, int]:
    """Return how many customers (not erased) are at each stage, each count at most ``cap + 1``.

    A count above ``cap`` means "more than cap": each is bounded work on the (shop, stage)
    index, one query per stage.
    """
    base = Customer.objects.filter(shop=shop, erased_at__isnull=True).order_by()
    return {
        stage: base.filter(stage=stage).values("pk")[: cap + 1].count() for stage in Stage.values
    }


def customers_for_export(*, shop: Shop, spec: SegmentFilter) -> Iterator[Customer]:
    """Yield every matching customer by id, score and tags loaded, a chunk at a time."""
    qs = customers_matching(shop=shop, spec=spec).prefetch_related("tags").order_by("pk")
    return qs.iterator(chunk_size=EXPORT_CHUNK)


# --- One customer's page ------------------------------------------------------------------------

TIMELINE_PAGE_SIZE = 50


@dataclass
class TimelinePage:
    """A stretch of a customer's timeline, newest first, and the cursor of the older stretch."""

    interactions: list[Interaction]
    older_cursor: str | None


def _timeline_cursor(interaction: Interaction) -> str:
    raw = f"{interaction.occurred_at.isoformat()}|{interaction.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_timeline_cursor(token: str | None) -> tuple[dt.datetime, int] | None:
    if not token or len(token) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        when, pk = raw.split("|")
        occurred_at = dt.datetime.fromisoformat(when)
        if occurred_at.tzinfo is None or not _is_row_int(int(pk)):
            return None
        return occurred_at, int(pk)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def customer_timeline(
    *, shop: Shop, customer: Customer, older_than: str | None = None, size: int = TIMELINE_PAGE_SIZE
) -> TimelinePage:
    """Return the customer's interactions newest first, from the cursor ``older_than`` on."""
    qs = Interaction.objects.filter(shop=shop, customer=customer).order_by("-occurred_at", "-pk")
    cursor = _read_timeline_cursor(older_than)
    if cursor is not None:
        when, pk = cursor
        qs = qs.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, pk__lt=pk))
    rows = list(qs[: size + 1])
    older = _timeline_cursor(rows[size - 1]) if len(rows) > size else None
    return TimelinePage(interactions=rows[:size], older_cursor=older)


def interactions_by_id(*, shop: Shop, customer: Customer, ids: list[int]) -> dict[int, Interaction]:
    """Return the customer's interactions among ``ids`` (a stage change's evidence), by id."""
    clean = [pk for pk in ids if isinstance(pk, int) and not isinstance(pk, bool)][:10]
    if not clean:
        return {}
    rows = Interaction.objects.filter(shop=shop, customer=customer, pk__in=clean)
    return {row.pk: row for row in rows}


def customer_consent_latest(*, shop: Shop, customer: Customer) -> ConsentRecord | None:
    """Return the latest answer the customer gave about marketing e-mail, if any."""
    return (
        ConsentRecord.objects.filter(
            shop=shop, customer=customer, topic=ConsentRecord.Topic.EMAIL_MARKETING
        )
        .order_by("-recorded_at", "-pk")
        .first()
    )


def shop_tags(*, shop: Shop) -> QuerySet[Tag]:
    """Return the shop's tags by name."""
    return Tag.objects.filter(shop=shop).order_by(Lower("name"), "pk")


def shop_segments(*, shop: Shop) -> QuerySet[SavedSegment]:
    """Return the shop's saved segments by name."""
    return SavedSegment.objects.filter(shop=shop).order_by(Lower("name"), "pk")
