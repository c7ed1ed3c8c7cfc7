"""Customer share: what each fan owns of a shop's catalogue, and what fans like them bought that
they have not. Pure computations (NumPy/SciPy, no queries): ``kinfolk.crm.services.share`` reads
the shop's orders in batch into a model it stores (see "The stored model" below), the selectors in
``kinfolk.crm.selectors.share`` read that model and one fan's own orders, and the caller passes
the catalogue in, since the CRM never reads the catalogue itself.

Definitions, in the words the pages use:

* **Counted orders** are the shop's standing paid orders (``stage_rules.purchase_filter``) whose
  ``order_paid`` interaction lists its ``items``. Orders without items (recorded before items were
  kept, or imported without lines) count for nothing here; the pages say how many there are.
* A **buyer** has at least one counted order. A fan **owns** a product when a counted order of
  theirs has it, in any quantity.
* A product is known by its id. Its name and category are the catalogue's while it is in the
  catalogue (in any status); a deleted product keeps the name and category of its latest order.
  Only **active** products are on sale: they make up the catalogue a fan can own a share of.
* **Share of the catalogue**: active products owned / active products; per category, the same
  within the category.
* **Bought together** ``both(A, B)``: how many buyers own both A and B, the off-diagonal of
  XᵀX for the binary buyer × product matrix X (sparse: a buyer owns a handful of products, and a
  shop may have a million buyers); the diagonal is ``buyers(A)``.
* **Confidence** ``P(B|A) = both(A, B) / buyers(A)``; **lift** ``P(B|A) / P(B)`` with
  ``P(B) = buyers(B) / buyers``: how much likelier A's buyers are to own B than buyers at large.
* A pair counts only when at least ``MIN_PAIR_BUYERS`` fans bought both: one fan's two purchases
  are that fan's taste, not a pattern.
* A fan's **cross-sell gaps** are active products they do not own. Each is scored by the highest
  confidence over the products A the fan owns (A names the reason: "of fans who bought A, 38 %
  also bought B"); ties go to the higher lift, then to more fans who bought both.
* The shop's **top gaps** are pairs (A, B), B active: ``missing = buyers(A) − both(A, B)`` fans
  bought A but not B, ranked by ``missing × P(B|A)``, the fans among them who would own B if they
  followed the fans who did; ties go to the higher confidence, then lift.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np
from scipy import sparse

MIN_PAIR_BUYERS = 2
# "Products per fan" lists 1, 2, ... and gathers every fan with this many or more in one row.
PRODUCTS_PER_FAN_ROWS = 10
# The share-of-catalogue buckets, whole percent from and to: none, 1–24 %, ..., all of it.
SHARE_BUCKETS = ((0, 0), (1, 24), (25, 49), (50, 74), (75, 99), (100, 100))


@dataclass(frozen=True)
class CatalogueProduct:
    """A product of the shop's catalogue as the caller passes it in (any status)."""

    product_id: int
    name: str
    category: str
    active: bool
    # True for a product no longer in the catalogue, named from its latest order.
    deleted: bool = False


class Item(NamedTuple):
    """One line of a paid order as its interaction recorded it."""

    product_id: int
    quantity: int
    name: str
    category: str


@dataclass(frozen=True)
class PaidOrder:
    """One counted order: whose, when it was paid, and the items that name a product."""

    customer_id: int
    paid_at: dt.datetime
    items: tuple[Item, ...]


@dataclass(frozen=True)
class OwnedProduct:
    product: CatalogueProduct
    quantity: int
    orders: int
    last_bought_at: dt.datetime


@dataclass(frozen=True)
class CategoryShare:
    """A fan's purchases in one category, and how much of its active products they own."""

    category: str
    products: int  # distinct products owned, on sale or not
    quantity: int
    last_bought_at: dt.datetime | None
    active_owned: int
    active_total: int

    @property
    def percent(self) -> float | None:
        return 100 * self.active_owned / self.active_total if self.active_total else None


@dataclass(frozen=True)
class Gap:
    """Product ``product`` (B), not owned, and the product ``because`` (A) that suggests it."""

    product: CatalogueProduct
    because: CatalogueProduct
    both: int
    because_buyers: int
    confidence: float
    lift: float

    @property
    def missing(self) -> int:
        """How many of A's buyers do not own B."""
        return self.because_buyers - self.both

    @property
    def percent(self) -> float:
        return 100 * self.confidence


@dataclass(frozen=True)
class CustomerShare:
    products: list[OwnedProduct]  # last bought first
    categories: list[CategoryShare]  # the catalogue's categories and any other bought
    active_owned: int
    active_total: int
    gaps: list[Gap]
    orders_counted: int
    orders_without_items: int

    @property
    def percent(self) -> float | None:
        return 100 * self.active_owned / self.active_total if self.active_total else None


@dataclass(frozen=True)
class CategoryPenetration:
    category: str
    buyers: int
    percent: float  # of all buyers
    active_products: int


@dataclass(frozen=True)
class Row:
    """One row of a distribution: a label's bounds, how many fans, and their share of buyers."""

    low: int
    high: int | None  # None: "low or more"
    fans: int
    percent: float


@dataclass(frozen=True)
class ShopShare:
    buyers: int
    orders_counted: int
    orders_without_items: int
    active_total: int
    products_per_fan: list[Row]
    share_of_catalogue: list[Row]  # percent buckets; empty when nothing is on sale
    mean_products: float
    mean_percent: float | None
    whole_catalogue: int  # buyers who own every active product
    categories: list[CategoryPenetration]
    gaps: list[Gap]


def paid_order(customer_id: int, paid_at: dt.datetime, items: object) -> PaidOrder | None:
    """Return the order with those of ``items`` that name a product; None if none does.

    Items come from the timeline and may have been written by an import: anything without an
    integer product id is skipped, a missing or odd quantity counts as one.
    """
    found = []
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        product_id = item.get("product_id")
        if not isinstance(product_id, int) or isinstance(product_id, bool):
            continue
        quantity = item.get("quantity")
        found.append(
            Item(
                product_id,
                quantity if isinstance(quantity, int) and quantity > 0 else 1,
                str(item.get("name") or item.get("sku") or f"#{product_id}"),
                str(item.get("category") or ""),
            )
        )
    return PaidOrder(customer_id, paid_at, tuple(found)) if found else None


def _note_latest(latest: dict[int, tuple[dt.datetime, Item]], order: PaidOrder) -> None:
    """Keep, per product, the item of its latest order (on a tie, the one read last)."""
    for item in order.items:
        seen = latest.get(item.product_id)
        if seen is None or order.paid_at >= seen[0]:
            latest[item.product_id] = (order.paid_at, item)


def known_products(
    catalogue: Iterable[CatalogueProduct],
    orders: Iterable[PaidOrder] = (),
    *,
    latest: dict[int, tuple[dt.datetime, Item]] | None = None,
) -> dict[int, CatalogueProduct]:
    """Return every product by id: the catalogue's, and deleted ones named by their latest order.

    ``latest`` (product id → paid at and item) carries what orders read earlier named; ``orders``
    are read after them.
    """
    products = {product.product_id: product for product in catalogue}
    named = dict(latest or {})
    for order in orders:
        _note_latest(named, order)
    for product_id, (_at, item) in named.items():
        if product_id not in products:
            products[product_id] = CatalogueProduct(
                product_id, item.name, item.category, active=False, deleted=True
            )
    return products


def _active_mask(columns: np.ndarray, products: dict[int, CatalogueProduct]) -> np.ndarray:
    """Return, per column, whether its product is on sale (unknown products are not)."""
    return np.fromiter(
        (pid in products and products[pid].active for pid in columns.tolist()),
        dtype=bool,
        count=len(columns),
    )


class BoughtTogether:
    """How many buyers own each product and each pair of products: all that a fan's gaps and the
    shop's top gaps are computed from, given the products' names and whether they are on sale.

    ``together`` is XᵀX (see the module doc) over ``columns``, the product ids in ascending order;
    a stored model keeps only its diagonal and the pairs of at least ``MIN_PAIR_BUYERS``, since
    the others never count.
    """

    def __init__(self, columns: np.ndarray, together: sparse.spmatrix, buyers: int):
        self.columns = columns
        self.together = together.tocsr()
        self.buyers_of = self.together.diagonal().astype(np.int64)
        self.buyers = buyers

    @classmethod
    def from_pairs(
        cls,
        *,
        buyers: int,
        buyers_of: dict[int, int],
        pairs: tuple[Sequence[int], Sequence[int], Sequence[int]],
    ) -> BoughtTogether:
        """Return the model of ``buyers`` fans, buyers per product id and pairs (a, b, both)."""
        columns = np.array(sorted(buyers_of), dtype=np.int64)
        diagonal = np.arange(len(columns))
        counts = np.array([buyers_of[pid] for pid in columns.tolist()], dtype=np.int64)
        a = np.searchsorted(columns, np.asarray(pairs[0], dtype=np.int64))
        b = np.searchsorted(columns, np.asarray(pairs[1], dtype=np.int64))
        both = np.asarray(pairs[2], dtype=np.int64)
        together = sparse.csr_matrix(
            (
                np.concatenate([counts, both, both]),
                (np.concatenate([diagonal, a, b]), np.concatenate([diagonal, b, a])),
            ),
            shape=(len(columns), len(columns)),
        )
        return cls(columns, together, buyers)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return product ids ``a < b`` and how many buyers own both, for the pairs that count."""
        upper = sparse.triu(self.together, k=1).tocoo()
        keep = upper.data >= MIN_PAIR_BUYERS
        return (
            self.columns[upper.row[keep]],
            self.columns[upper.col[keep]],
            upper.data[keep].astype(np.int64),
        )

    def gaps_for(
        self, owned_ids: set[int], products: dict[int, CatalogueProduct], limit: int
    ) -> list[Gap]:
        """Return the best ``limit`` active products not in ``owned_ids`` (see the module doc)."""
        owned_ids = sorted(owned_ids)
        owned = np.searchsorted(self.columns, np.array(owned_ids, dtype=np.int64))
        # Products nobody had bought when the model was computed have no pairs to go by.
        owned = owned[np.isin(np.array(owned_ids, dtype=np.int64), self.columns)]
        if not len(owned) or not self.buyers:
            return []
        both = self.together[owned].toarray()  # owned products × all products
        confidence = both / np.maximum(self.buyers_of[owned], 1)[:, None]
        confidence[both < MIN_PAIR_BUYERS] = 0.0
        # Per candidate B, the owned product A with the highest confidence names the reason.
        best = confidence.argmax(axis=0)
        score = confidence[best, np.arange(len(self.columns))]
        candidate = _active_mask(self.columns, products) & (score > 0)
        candidate[owned] = False
        gaps = [
            self._gap(int(owned[best[b]]), int(b), int(both[best[b], b]), products)
            for b in np.flatnonzero(candidate)
        ]
        gaps.sort(key=lambda g: (-g.confidence, -g.lift, -g.both, g.product.name))
        return gaps[:limit]

    def top_gaps(self, products: dict[int, CatalogueProduct], limit: int) -> list[Gap]:
        """Return the shop's ``limit`` most promising pairs (see the module doc)."""
        pairs = self.together.tocoo()
        a, b, both = pairs.row, pairs.col, pairs.data.astype(np.int64)
        active = _active_mask(self.columns, products)
        keep = (a != b) & (both >= MIN_PAIR_BUYERS) & active[b] & (self.buyers_of[a] > both)
        a, b, both = a[keep], b[keep], both[keep]
        confidence = both / self.buyers_of[a]
        lift = confidence * self.buyers / self.buyers_of[b]
        expected = (self.buyers_of[a] - both) * confidence
        # The last key sorts first: expected fans, confidence, lift, then columns for stability
        # (product ids, whatever the columns of the model).
        order = np.lexsort((b, a, -lift, -confidence, -expected))[:limit]
        return [self._gap(int(a[i]), int(b[i]), int(both[i]), products) for i in order]

    def _gap(self, a: int, b: int, both: int, products: dict[int, CatalogueProduct]) -> Gap:
        """Return the gap of column ``b`` because of column ``a``, which ``both`` buyers own."""
        confidence = both / int(self.buyers_of[a])
        lift = confidence / (int(self.buyers_of[b]) / self.buyers)
        return Gap(
            product=products[int(self.columns[b])],
            because=products[int(self.columns[a])],
            both=both,
            because_buyers=int(self.buyers_of[a]),
            confidence=confidence,
            lift=lift,
        )


class CoPurchases:
    """The binary buyer × product matrix of a shop and its bought-together counts."""

    def __init__(
        self,
        customer_ids: np.ndarray,
        product_ids: np.ndarray,
        products: dict[int, CatalogueProduct],
        latest: dict[int, tuple[dt.datetime, Item]] | None = None,
    ):
        """Build the model from one (customer, product) entry per item line of the counted
        orders; ``products`` names every product they mention, ``latest`` holds each product's
        latest item (kept with a stored model)."""
        self.products = products
        self.latest = latest or {}
        self.columns = np.array(sorted(products), dtype=np.int64)
        self.customers, rows = np.unique(customer_ids, return_inverse=True)
        cols = np.searchsorted(self.columns, product_ids)
        shape = (len(self.customers), len(self.columns))
        owned = sparse.csr_matrix(
            (np.ones(len(cols), dtype=np.int32), (rows.reshape(-1), cols)), shape=shape
        )
        owned.data[:] = 1  # the constructor summed repeat purchases; owning is yes or no
        self.owned = owned
        self.bought = BoughtTogether(self.columns, owned.T @ owned, len(self.customers))
        self.active = _active_mask(self.columns, products)

    @property
    def buyers(self) -> int:
        return len(self.customers)

    @property
    def together(self) -> sparse.csr_matrix:
        return self.bought.together

    @property
    def buyers_of(self) -> np.ndarray:
        return self.bought.buyers_of

    def gaps_for(self, owned_ids: set[int], limit: int) -> list[Gap]:
        """Return the best ``limit`` active products not in ``owned_ids`` (see the module doc)."""
        return self.bought.gaps_for(owned_ids, self.products, limit)

    def top_gaps(self, limit: int) -> list[Gap]:
        """Return the shop's ``limit`` most promising pairs (see the module doc)."""
        return self.bought.top_gaps(self.products, limit)


class OrderTally:
    """A shop's counted orders taken one at a time, for a model of any size.

    What it keeps is two integer arrays, who and what (16 bytes per item line), and the latest
    item of each product, never an object per order: a million fans' orders fit in tens of
    megabytes, and the orders can be read from the database in chunks.
    """

    def __init__(self) -> None:
        self.orders = 0
        self.latest: dict[int, tuple[dt.datetime, Item]] = {}
        self._customers = array("q")
        self._products = array("q")

    def add(self, order: PaidOrder) -> None:
        self.orders += 1
        for item in order.items:
            self._customers.append(order.customer_id)
            self._products.append(item.product_id)
        _note_latest(self.latest, order)

    def model(self, catalogue: Iterable[CatalogueProduct]) -> CoPurchases:
        """Return the bought-together model of the orders taken, against ``catalogue``."""
        return CoPurchases(
            np.array(self._customers, dtype=np.int64),
            np.array(self._products, dtype=np.int64),
            known_products(catalogue, latest=self.latest),
            latest=self.latest,
        )


def co_purchases(orders: Sequence[PaidOrder], catalogue: Iterable[CatalogueProduct]) -> CoPurchases:
    """Return the bought-together model of a shop's counted orders and catalogue."""
    tally = OrderTally()
    for order in orders:
        tally.add(order)
    return tally.model(catalogue)


class ShareModel(Protocol):
    """What a fan's share is computed against: the products by id, and their gaps."""

    products: dict[int, CatalogueProduct]

    def gaps_for(self, owned_ids: set[int], limit: int) -> list[Gap]: ...


def customer_share(
    *,
    co: ShareModel,
    orders: Sequence[PaidOrder],
    orders_without_items: int = 0,
    gap_limit: int = 5,
) -> CustomerShare:
    """Return one fan's products, categories, share of the catalogue and gaps.

    ``orders`` are the fan's own counted orders; ``co`` is the shop's model (built from orders
    that include them, or a stored model with the products named as they are now).
    """
    bought: dict[int, list] = {}  # product id -> [quantity, orders, last bought]
    for order in orders:
        for product_id, quantity, _name, _category in order.items:
            entry = bought.setdefault(product_id, [0, set(), order.paid_at])
            entry[0] += quantity
            entry[1].add(id(order))
            entry[2] = max(entry[2], order.paid_at)
    products = [
        OwnedProduct(co.products[pid], quantity, len(seen), last)
        for pid, (quantity, seen, last) in bought.items()
    ]
    products.sort(key=lambda p: (p.last_bought_at, p.product.name), reverse=True)
    active = [p for p in co.products.values() if p.active]
    return CustomerShare(
        products=products,
        categories=_categories_of(products, active),
        active_owned=sum(1 for p in products if p.product.active),
        active_total=len(active),
        gaps=co.gaps_for(set(bought), gap_limit),
        orders_counted=len(orders),
        orders_without_items=orders_without_items,
    )


def _categories_of(
    products: list[OwnedProduct], active: list[CatalogueProduct]
) -> list[CategoryShare]:
    names = {p.category for p in active} | {p.product.category for p in products}
    shares = []
    for name in names:
        mine = [p for p in products if p.product.category == name]
        shares.append(
            CategoryShare(
                category=name,
                products=len(mine),
                quantity=sum(p.quantity for p in mine),
                last_bought_at=max((p.last_bought_at for p in mine), default=None),
                active_owned=sum(1 for p in mine if p.product.active),
                active_total=sum(1 for p in active if p.category == name),
            )
        )
    # Named categories alphabetically, products without a category last.
    shares.sort(key=lambda c: (c.category == "", c.category.casefold()))
    return shares


def shop_share(
    *, co: CoPurchases, orders_counted: int, orders_without_items: int = 0, gap_limit: int = 10
) -> ShopShare:
    """Return the shop's distribution of catalogue share, category penetration and top gaps."""
    buyers = co.buyers
    owned_counts = np.asarray(co.owned.sum(axis=1)).ravel()
    active_total = int(co.active.sum())
    active_owned = np.asarray(co.owned[:, np.flatnonzero(co.active)].sum(axis=1)).ravel()
    percents = 100 * active_owned / active_total if active_total else None
    return ShopShare(
        buyers=buyers,
        orders_counted=orders_counted,
        orders_without_items=orders_without_items,
        active_total=active_total,
        products_per_fan=_products_per_fan(owned_counts),
        share_of_catalogue=_share_buckets(active_owned, active_total),
        mean_products=float(owned_counts.mean()) if buyers else 0.0,
        mean_percent=float(percents.mean()) if buyers and percents is not None else None,
        whole_catalogue=int((active_owned == active_total).sum()) if active_total else 0,
        categories=_penetration(co),
        gaps=co.top_gaps(gap_limit),
    )


def _row(low: int, high: int | None, fans: int, buyers: int) -> Row:
    return Row(low, high, fans, 100 * fans / buyers if buyers else 0.0)


def _products_per_fan(owned_counts: np.ndarray) -> list[Row]:
    buyers = len(owned_counts)
    if not buyers:
        return []
    top = min(int(owned_counts.max()), PRODUCTS_PER_FAN_ROWS)
    rows = [_row(k, k, int((owned_counts == k).sum()), buyers) for k in range(1, top)]
    last = int((owned_counts >= top).sum())
    rows.append(_row(top, None if top == PRODUCTS_PER_FAN_ROWS else top, last, buyers))
    return rows


def _share_buckets(active_owned: np.ndarray, active_total: int) -> list[Row]:
    buyers = len(active_owned)
    if not buyers or not active_total:
        return []
    # Whole percent, but owning anything is at least 1 % and only everything is 100 %.
    percent = np.floor(100 * active_owned / active_total).astype(np.int64)
    percent = np.where(active_owned > 0, np.clip(percent, 1, 99), 0)
    percent[active_owned == active_total] = 100
    return [
        _row(low, high, int(((percent >= low) & (percent <= high)).sum()), buyers)
        for low, high in SHARE_BUCKETS
    ]


def _penetration(co: CoPurchases) -> list[CategoryPenetration]:
    """Return, per category, how many buyers bought anything in it, most bought first."""
    names = sorted({co.products[int(pid)].category for pid in co.columns})
    index = {name: i for i, name in enumerate(names)}
    column_category = np.array(
        [index[co.products[int(pid)].category] for pid in co.columns], dtype=np.int64
    )
    membership = sparse.csr_matrix(
        (np.ones(len(co.columns), dtype=np.int32), (np.arange(len(co.columns)), column_category)),
        shape=(len(co.columns), len(names)),
    )
    buyers_in = np.asarray(((co.owned @ membership) > 0).sum(axis=0)).ravel()
    active_in = np.bincount(column_category[co.active], minlength=len(names))
    found = [
        CategoryPenetration(
            category=name,
            buyers=int(buyers_in[i]),
            percent=100 * int(buyers_in[i]) / co.buyers if co.buyers else 0.0,
            active_products=int(active_in[i]),
        )
        for i, name in enumerate(names)
        if buyers_in[i] or active_in[i]
    ]
    found.sort(key=lambda c: (-c.buyers, c.category == "", c.category.casefold()))
    return found


# --- The stored model --------------------------------------------------------------------------
#
# A shop's model is computed in batch and kept as one JSON document (``crm.ShareSnapshot.data``),
# so that a fan's page reads that document and the fan's own orders, and the shop's page the
# document alone. The definitions above do not change; what is kept is what they need:
#
# * ``buyers``, and per product bought (by id, as text): ``buyers`` and the ``name``,
#   ``category`` and ``last_bought_at`` of its latest order (a deleted product's name);
# * ``pairs``: three lists ``a``, ``b``, ``both`` of the pairs a < b that at least
#   MIN_PAIR_BUYERS fans bought (the others never count);
# * ``catalogue``: ``[id, name, category, active]`` of each product of the catalogue then;
# * ``shop``: the shop-wide figures, which need every buyer's products: ``active_total``,
#   ``products_per_fan`` and ``share_of_catalogue`` as ``[low, high, fans]`` rows,
#   ``mean_products``, ``mean_percent``, ``whole_catalogue`` and ``categories`` as
#   ``[category, buyers, active products]``. The top gaps are worked out from the pairs.
#
# A fan's own products, categories and share come from their own orders and the catalogue as it
# is when they are read; only their gaps' counts come from the document. The shop's figures are
# all as of the document.

LAYOUT_VERSION = 1


def model_data(co: CoPurchases, figures: ShopShare) -> dict:
    """Return the JSON document of a shop's model and figures (layout ``LAYOUT_VERSION``)."""
    a, b, both = co.bought.pairs()
    buyers_of = dict(zip(co.columns.tolist(), co.buyers_of.tolist(), strict=True))
    return {
        "version": LAYOUT_VERSION,
        "buyers": co.buyers,
        "products": {
            str(pid): {
                "buyers": buyers_of[pid],
                "name": item.name,
                "category": item.category,
                "last_bought_at": at.isoformat(),
            }
            for pid, (at, item) in sorted(co.latest.items())
        },
        "pairs": {"a": a.tolist(), "b": b.tolist(), "both": both.tolist()},
        "catalogue": [
            [p.product_id, p.name, p.category, p.active]
            for p in sorted(co.products.values(), key=lambda p: p.product_id)
            if not p.deleted
        ],
        "shop": {
            "active_total": figures.active_total,
            "products_per_fan": [[r.low, r.high, r.fans] for r in figures.products_per_fan],
            "share_of_catalogue": [[r.low, r.high, r.fans] for r in figures.share_of_catalogue],
            "mean_products": figures.mean_products,
            "mean_percent": figures.mean_percent,
            "whole_catalogue": figures.whole_catalogue,
            "categories": [[c.category, c.buyers, c.active_products] for c in figures.categories],
        },
    }


@dataclass(frozen=True)
class FanModel:
    """A stored model seen from one fan's page: the products named as they are now."""

    products: dict[int, CatalogueProduct]
    bought: BoughtTogether

    def gaps_for(self, owned_ids: set[int], limit: int) -> list[Gap]:
        return self.bought.gaps_for(owned_ids, self.products, limit)


class StoredModel:
    """A shop's model read back from its document (``model_data``)."""

    def __init__(self, data: dict):
        """Read ``data``; raise ValueError when it is not of layout ``LAYOUT_VERSION``."""
        if not isinstance(data, dict) or data.get("version") != LAYOUT_VERSION:
            raise ValueError("not a customer-share model of this layout")
        products = data["products"]
        self.latest = {
            int(pid): (
                dt.datetime.fromisoformat(p["last_bought_at"]),
                Item(int(pid), 1, p["name"], p["category"]),
            )
            for pid, p in products.items()
        }
        pairs = data["pairs"]
        self.bought = BoughtTogether.from_pairs(
            buyers=int(data["buyers"]),
            buyers_of={int(pid): int(p["buyers"]) for pid, p in products.items()},
            pairs=(pairs["a"], pairs["b"], pairs["both"]),
        )
        self.catalogue = [
            CatalogueProduct(int(pid), name, category, bool(active))
            for pid, name, category, active in data["catalogue"]
        ]
        self.figures = data["shop"]

    @property
    def buyers(self) -> int:
        return self.bought.buyers

    def customer_share(
        self,
        *,
        catalogue: Iterable[CatalogueProduct],
        orders: Sequence[PaidOrder],
        orders_without_items: int = 0,
        gap_limit: int = 5,
    ) -> CustomerShare:
        """Return a fan's share from their own ``orders`` and the ``catalogue`` as it is now,
        their gaps from the model's counts."""
        products = known_products(catalogue, orders, latest=self.latest)
        return customer_share(
            co=FanModel(products, self.bought),
            orders=orders,
            orders_without_items=orders_without_items,
            gap_limit=gap_limit,
        )

    def shop_share(
        self, *, orders_counted: int, orders_without_items: int = 0, gap_limit: int = 10
    ) -> ShopShare:
        """Return the shop's figures as they were when the model was computed."""
        figures, buyers = self.figures, self.buyers
        products = known_products(self.catalogue, latest=self.latest)
        return ShopShare(
            buyers=buyers,
            orders_counted=orders_counted,
            orders_without_items=orders_without_items,
            active_total=int(figures["active_total"]),
            products_per_fan=[_row(*row, buyers) for row in figures["products_per_fan"]],
            share_of_catalogue=[_row(*row, buyers) for row in figures["share_of_catalogue"]],
            mean_products=float(figures["mean_products"]),
            mean_percent=figures["mean_percent"],
            whole_catalogue=int(figures["whole_catalogue"]),
            categories=[
                CategoryPenetration(
                    category=category,
                    buyers=count,
                    percent=100 * count / buyers if buyers else 0.0,
                    active_products=active_products,
                )
                for category, count, active_products in figures["categories"]
            ],
            gaps=self.bought.top_gaps(products, gap_limit),
        )


def customer_share_without_model(
    *,
    catalogue: Iterable[CatalogueProduct],
    orders: Sequence[PaidOrder],
    orders_without_items: int = 0,
) -> CustomerShare:
    """Return a fan's products, categories and share, with no gaps: for a shop whose model is
    not computed yet."""
    nobody = BoughtTogether.from_pairs(buyers=0, buyers_of={}, pairs=((), (), ()))
    return customer_share(
        co=FanModel(known_products(catalogue, orders), nobody),
        orders=orders,
        orders_without_items=orders_without_items,
    )
