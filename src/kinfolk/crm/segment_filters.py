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
from dataclasses import asdict, dataclass, fields
from typing import Any

from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet
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
        qs = queryset.filter(shop=shop)
        if not self.include_erased:
            qs = qs.filter(erased_at__isnull=True)
        if self.query:
            qs = qs.filter(search_condition(self.query))
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


def search_condition(query: str) -> Q:
    """Return the condition for a search box text: part of the e-mail address or of the name.

    A whole e-mail address is looked up through the shop's unique index on the lower-cased
    address, so finding one fan among a million takes one index probe; any other text is
    matched anywhere in the address or the name, case-insensitively.
    """
    query = query.strip()[:MAX_QUERY_LENGTH]
    if _EMAIL.match(query):
        # ``email <> ''`` repeats the unique index's condition, which lets the database use it.
        return ~Q(email="") & Q(Exact(Lower("email"), normalize_email(query)))
    return Q(email__icontains=query) | Q(name__icontains=query)


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
