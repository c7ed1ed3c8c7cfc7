"""A filter over a shop's customers: what the customers list shows and a saved segment keeps.

``SegmentFilter`` is a plain value. ``as_dict()`` is what ``SavedSegment.filters`` stores (only
the criteria that are set, amounts in minor units of the shop's currency); ``from_dict()`` reads
it back, dropping whatever it cannot read (a key from another version, a wrong type) rather than
failing, so that an old segment always opens. ``apply()`` narrows a Customer queryset to the
shop's matching customers; every criterion is an index lookup, a join to the customer's score or
an ``EXISTS`` on one customer's rows, so no criterion multiplies rows.
"""

from __future__ import annotations

import re
import sys
from dataclasses import asdict, dataclass, fields
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.db.models.lookups import Exact

from kinfolk.accounts.models import normalize_email
from kinfolk.crm.models import Customer, Interaction, Segment, Stage
from kinfolk.shops.models import Shop

MAX_QUERY_LENGTH = 100
# More ids than anyone picks by hand; keeps a stored filter and its SQL small.
MAX_IDS = 100
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# Texts this long are found anywhere in an address or a name; shorter ones at the start.
TRIGRAM = 3
# The search index of the customers' addresses and names (migration 0010): an FTS5 table on
# SQLite, a table of upper-cased text with trigram indexes on PostgreSQL.
SEARCH_TABLE = "crm_customer_search"
# Below this many candidates SQLite reads a search's page from them alone (search_condition).
FEW_MATCHES = 5000
# What no text column holds and a database refuses as a parameter: NUL and lone surrogates.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class SegmentFilter:
    """Which of a shop's customers to show; an unset criterion does not narrow anything.

    Amounts (``clv_*``, ``paid_*``) are minor units of the shop's currency. ``tags`` and
    ``products`` are ids within the shop; a customer matches with any one of them.
    """

    query: str = ""
    stages: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    clv_min: int | None = None
    clv_max: int | None = None
    paid_min: int | None = None
    paid_max: int | None = None
    countries: tuple[str, ...] = ()
    consent: bool | None = None
    tags: tuple[int, ...] = ()
    products: tuple[int, ...] = ()
    purchased: bool | None = None
    include_erased: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return the criteria that are set, as JSON-ready values (tuples become lists)."""
        default = SegmentFilter()
        stored = {}
        for name, value in asdict(self).items():
            if value == getattr(default, name):
                continue
            stored[name] = list(value) if isinstance(value, tuple) else value
        return stored

    @classmethod
    def from_dict(cls, data: Any) -> SegmentFilter:
        """Return the filter stored as ``data``; unreadable criteria are left unset."""
        if not isinstance(data, dict):
            return cls()
        values: dict[str, Any] = {}
        for field in fields(cls):
            if field.name in data:
                value = _READERS[field.name](data[field.name])
                if value is not None:
                    values[field.name] = value
        return cls(**values)

    @property
    def is_empty(self) -> bool:
        """Return whether no criterion is set (every customer who is not erased matches)."""
        return self == SegmentFilter()

    @property
    def needs_score(self) -> bool:
        """Return whether a criterion reads the customer's RFM score or predicted value."""
        return bool(self.segments) or any(
            value is not None
            for value in (self.clv_min, self.clv_max, self.paid_min, self.paid_max)
        )

    def only_stages(self) -> bool:
        """Return whether the stage is the only criterion set (per-stage counts then apply)."""
        return SegmentFilter(stages=self.stages) == self

    def apply(self, queryset: QuerySet[Customer], shop: Shop) -> QuerySet[Customer]:
        """Return ``queryset`` narrowed to the shop's customers that meet every criterion."""
        # A search's condition holds the shop's own (see search_condition).
        qs = queryset.filter(search_condition(self.query, shop) if self.query else Q(shop=shop))
        if not self.include_erased:
            qs = qs.filter(erased_at__isnull=True)
        if self.stages:
            qs = qs.filter(stage__in=self.stages)
        if self.countries:
            qs = qs.filter(country__in=self.countries)
        if self.consent is not None:
            qs = qs.filter(email_marketing=self.consent)
        if self.needs_score:
            qs = qs.filter(self._score_condition(shop))
        if self.tags:
            qs = qs.filter(Exists(_tagged(shop, self.tags)))
        if self.products:
            qs = qs.filter(Exists(_paid_orders(shop).filter(ItemsNameProduct(self.products))))
        if self.purchased is not None:
            bought = Exists(_paid_orders(shop))
            qs = qs.filter(bought if self.purchased else ~bought)
        return qs

    def _score_condition(self, shop: Shop) -> Q:
        # One filter() call: every condition lands on the same (inner) join to the score.
        condition = Q(score__shop=shop)
        if self.segments:
            condition &= Q(score__segment__in=self.segments)
        bounds = (
            ("score__clv__gte", self.clv_min),
            ("score__clv__lte", self.clv_max),
            ("score__monetary__gte", self.paid_min),
            ("score__monetary__lte", self.paid_max),
        )
        for lookup, value in bounds:
            if value is not None:
                condition &= Q(**{lookup: value})
        return condition


def search_condition(query: str, shop: Shop, *, few: int = FEW_MATCHES) -> Q:
    """Return the condition for a search box text: the shop's customers it finds.

    - A whole e-mail address finds that customer, through the shop's unique index on the
      lower-cased address: one index probe among a million customers.
    - Three characters or more find every customer whose address or name contains the text,
      in any case: exactly Django's ``icontains`` on either, served by a trigram index (FTS5's
      ``trigram`` tokenizer on SQLite, ``pg_trgm`` GIN indexes of a search table on
      PostgreSQL; migration 0010).
    - One or two characters are too short for trigrams (a Korean given name often has two
      syllables, "민수"): they find the customers whose name or address *starts* with the text,
      in any case (``istartswith``), through the btree indexes of the lower-cased name and
      address on SQLite and the trigram indexes on PostgreSQL. "민수" finds "민수" and "민수 Kim"
      but not "김민수"; "김민" finds "김민수".

    Where PostgreSQL has no ``pg_trgm`` the same conditions read every customer of the shop.

    SQLite keeps no statistics, so for any query that names the shop its planner walks the shop's
    index on the list's sort column, through every customer when few of them match. The index's
    candidates (in every shop for the trigram index, in this one for a start) are therefore
    counted first, up to ``few``, which takes a few milliseconds: when there are fewer, the
    condition reads them by id and compares the shop outside any index; otherwise it is the
    usual shop condition, and the walk in sort order soon meets a page of matches. Both forms
    give the same customers. (A sort by a score column still walks the scores: the limit of
    SQLite's planner without statistics that every narrow filter meets.)
    """
    text = _UNSTORABLE.sub("", query).strip()[:MAX_QUERY_LENGTH]
    in_shop = Q(shop=shop)
    if not text:
        return in_shop
    if _EMAIL.match(text):
        # ``email <> ''`` repeats the unique index's condition, which lets the database use it.
        return in_shop & ~Q(email="") & Q(Exact(Lower("email"), normalize_email(text)))
    if len(text) >= TRIGRAM:
        matches = Q(email__icontains=text) | Q(name__icontains=text)
    else:
        matches = Q(email__istartswith=text) | Q(name__istartswith=text)
    if connection.vendor == "postgresql":
        return in_shop & Q(pk__in=RawSQL(*_postgresql_candidates(text, shop))) & matches
    if connection.vendor == "sqlite":
        sql, params = _sqlite_candidates(text, shop)
        if _count_up_to(sql, params, few) < few:
            ids = RawSQL(sql, params)
            return Q(pk__in=ids) & Q(Exact(Unindexed(F("shop_id")), shop.pk)) & matches
    return in_shop & matches


class Unindexed(Func):
    """SQLite's unary ``+``: the same value, which the planner does not look up in an index."""

    template = "+%(expressions)s"
    arity = 1


def _sqlite_candidates(text: str, shop: Shop) -> tuple[str, list[Any]]:
    """Return SQL for the ids of the customers the index finds for ``text``, and its parameters.

    A superset of the matches (the trigram index folds the case of every letter, ``icontains``
    of ASCII letters only), which the caller narrows with the exact condition.
    """
    if len(text) >= TRIGRAM:
        # One FTS5 string: every character is plain text, none is query syntax.
        phrase = '"' + text.replace('"', '""') + '"'
        return f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH %s", [phrase]
    # SQLite's LOWER() and LIKE fold ASCII letters only: the bounds are folded the same way.
    start = text.translate(_ASCII_LOWER)
    end = _prefix_end(start)
    prefix = "LOWER({0}) >= %s" + (" AND LOWER({0}) < %s" if end else "")
    bounds = [start, end] if end else [start]
    # The name through (shop, LOWER(name)), the address through the unique index of addresses.
    sql = (
        f"SELECT id FROM crm_customer WHERE shop_id = %s AND {prefix.format('name')} UNION ALL "
        f"SELECT id FROM crm_customer WHERE shop_id = %s AND NOT (email = '') "
        f"AND {prefix.format('email')}"
    )
    return sql, [shop.pk, *bounds, shop.pk, *bounds]


def _postgresql_candidates(text: str, shop: Shop) -> tuple[str, list[Any]]:
    """Return SQL for the ids of the shop's customers whose upper-cased address or name holds
    ``text`` (starts with it, below three characters), and its parameters: the very comparison
    of ``icontains``/``istartswith``, read from the search table's trigram indexes."""
    like = connection.ops.prep_for_like_query(text)
    pattern = "'%%' || UPPER(%s) || '%%'" if len(text) >= TRIGRAM else "UPPER(%s) || '%%'"
    sql = (
        f"SELECT customer_id FROM {SEARCH_TABLE} WHERE shop_id = %s"
        f" AND (email LIKE {pattern} OR name LIKE {pattern})"
    )
    return sql, [shop.pk, like, like]


def _prefix_end(prefix: str) -> str | None:
    """Return the least text after every text that starts with ``prefix``, in code point order
    (SQLite's order of UTF-8 text); None when there is none."""
    while prefix:
        point = ord(prefix[-1]) + 1
        if 0xD800 <= point <= 0xDFFF:  # surrogates are no characters
            point = 0xE000
        if point <= sys.maxunicode:
            return prefix[:-1] + chr(point)
        prefix = prefix[:-1]
    return None


def _count_up_to(sql: str, params: list[Any], limit: int) -> int:
    """Return how many rows ``sql`` gives, counting no further than ``limit``."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM ({sql}) LIMIT %s)", [*params, limit])
        return cursor.fetchone()[0]


def _tagged(shop: Shop, tag_ids: tuple[int, ...]) -> QuerySet:
    through = Customer.tags.through
    return through.objects.filter(
        customer_id=OuterRef("pk"), tag_id__in=tag_ids, tag__shop=shop
    ).values("pk")


def _paid_orders(shop: Shop) -> QuerySet[Interaction]:
    return Interaction.objects.filter(
        shop=shop, customer_id=OuterRef("pk"), kind=Interaction.Kind.ORDER_PAID
    ).values("pk")


class ItemsNameProduct(Func):
    """True for an interaction whose ``data["items"]`` names one of ``product_ids``.

    Order events carry ``items: [{"product_id": .., "sku": .., ...}]``. Django's JSON lookups
    cannot look inside an array of objects on every database, so both SQL dialects are written
    here: SQLite walks the array with ``json_each``, PostgreSQL with ``jsonb_array_elements``
    (a missing or non-array ``items`` names nothing on both). Ids are compared as integers on
    SQLite and as text on PostgreSQL, so ``5`` and ``"5"`` both match product 5.
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, product_ids: tuple[int, ...], data: str = "data"):
        super().__init__(F(data))
        self.product_ids = tuple(int(pk) for pk in product_ids)

    def _placeholders(self) -> str:
        return ", ".join(["%s"] * len(self.product_ids))

    def as_sql(self, compiler, connection, **extra):
        """PostgreSQL: an EXISTS over the array's elements."""
        column, params = compiler.compile(self.source_expressions[0])
        items = f"({column} -> 'items')"
        sql = (
            f"EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof({items}) = "
            f"'array' THEN {items} ELSE '[]'::jsonb END) AS item "
            f"WHERE item ->> 'product_id' IN ({self._placeholders()}))"
        )
        return sql, (*params, *params, *(str(pk) for pk in self.product_ids))

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        sql = (
            f"EXISTS (SELECT 1 FROM json_each({column}, '$.items') AS item "
            f"WHERE json_type({column}, '$.items') = 'array' AND item.type = 'object' "
            f"AND CAST(json_extract(item.value, '$.product_id') AS INTEGER) "
            f"IN ({self._placeholders()}))"
        )
        return sql, (*params, *params, *self.product_ids)


# --- Reading stored criteria back: each returns None for a value it cannot use. ---------------


def _text(value: Any) -> str | None:
    return value.strip()[:MAX_QUERY_LENGTH] if isinstance(value, str) and value.strip() else None


def _choices(allowed: list[str]):
    def read(value: Any) -> tuple[str, ...] | None:
        if not isinstance(value, list | tuple):
            return None
        picked = tuple(dict.fromkeys(v for v in value if v in allowed))
        return picked or None

    return read


def _amount(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _ids(value: Any) -> tuple[int, ...] | None:
    if not isinstance(value, list | tuple):
        return None
    ids = tuple(
        dict.fromkeys(v for v in value if isinstance(v, int) and not isinstance(v, bool) and v > 0)
    )
    return ids[:MAX_IDS] or None


def _countries(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list | tuple):
        return None
    codes = tuple(dict.fromkeys(v for v in value if isinstance(v, str) and _COUNTRY.match(v)))
    return codes[:MAX_IDS] or None


_READERS = {
    "query": _text,
    "stages": _choices(Stage.values),
    "segments": _choices(Segment.values),
    "clv_min": _amount,
    "clv_max": _amount,
    "paid_min": _amount,
    "paid_max": _amount,
    "countries": _countries,
    "consent": _flag,
    "tags": _ids,
    "products": _ids,
    "purchased": _flag,
    "include_erased": _flag,
}
