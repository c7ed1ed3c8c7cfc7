"""A synthetic shop's customers and timeline for the CRM benchmark: drawn in NumPy, bulk-loaded.

Drawn with a fixed seed over the two years before ``NOW``:

* customers join at a steady pace (ids follow the joining time). ``BUYER_SHARE`` of them buy,
  their first order on the day they join; the others arrive through a download, a follow or a
  sign-up, and most of them never do more;
* buyers' repeat orders follow the BG/NBD process (purchase rate λ ~ Gamma(r, α) per week,
  dropout after each repeat purchase with probability p ~ Beta(a, b)) and each order's value the
  Gamma-Gamma one; an order is an ``order_placed`` and an ``order_paid`` row, most are shipped
  and a few refunded a few days later;
* the other rows, up to the number asked for, are everyday activity spread over the fans by an
  activity rate drawn from a Gamma (many quiet fans, a few busy ones): the shop's newsletters,
  downloads, follows, replies, uploads, and a few community actions.

The rows go in in time order, so that ids grow with time as in a live shop, with the tables'
secondary indexes dropped for the load and built again after it: ``executemany`` on SQLite,
``COPY`` on PostgreSQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

NOW = np.datetime64("2026-06-01T00:00:00", "s")
HISTORY_DAYS = 730
DAY = 86_400
WEEK = 7 * DAY
BUYER_SHARE = 0.25
BGNBD = {"r": 0.8, "alpha": 12.0, "a": 1.0, "b": 4.0}  # α in weeks
GAMMAGAMMA = {"p": 6.0, "q": 4.0, "gamma": 15.0}  # order values in dollars
SHIPPED_SHARE = 0.6
REFUNDED_SHARE = 0.02
FIRST_CONTACT = {"download": 0.6, "follow": 0.25, "account_created": 0.15}
ACTIVITY = {  # kind: share of the everyday rows
    "message_sent": 0.52,
    "download": 0.32,
    "follow": 0.05,
    "reply": 0.02,
    "upload": 0.03,
    "dates_given": 0.005,
    "note": 0.01,
    "rsvp": 0.02,
    "post": 0.012,
    "referral": 0.008,
    "group_joined": 0.005,
}
KINDS = sorted(
    {*FIRST_CONTACT, *ACTIVITY, "order_placed", "order_paid", "order_shipped", "order_refunded"}
)
CODE = {kind: code for code, kind in enumerate(KINDS)}
SOURCE = {"message_sent": "system", "note": "dashboard", "order_paid": "payment"}
COUNTRIES = ["KR", "US", "JP", "DE", "GB", "FR", "BR", "CA", "AU", "NL"]
BATCH = 50_000


@dataclass(frozen=True)
class Timeline:
    """The drawn shop: per customer the joining time; per row (in time order) who, what, when.

    Times are seconds since the epoch (UTC); ``order`` is the order number of order rows (-1 for
    the others) and ``total`` the paid amount in cents of ``order_paid`` rows (0 for the others).
    """

    joined: np.ndarray
    who: np.ndarray
    kind: np.ndarray
    at: np.ndarray
    order: np.ndarray
    total: np.ndarray

    @property
    def customers(self) -> int:
        return len(self.joined)

    def __len__(self) -> int:
        return len(self.who)

    def kind_counts(self) -> dict[str, int]:
        counts = np.bincount(self.kind, minlength=len(KINDS))
        return {kind: int(counts[code]) for kind, code in CODE.items()}


def draw(customers: int, interactions: int, seed: int) -> Timeline:
    """Draw the customers and ``interactions`` timeline rows (fewer only if orders alone exceed)."""
    rng = np.random.default_rng(seed)
    end = int(NOW.astype(np.int64))
    joined = np.sort(rng.integers(end - HISTORY_DAYS * DAY, end - DAY, customers))
    buyers = np.flatnonzero(rng.random(customers) < BUYER_SHARE)
    parts = [_orders(rng, buyers, joined, end)]
    fans = np.setdiff1d(np.arange(customers), buyers, assume_unique=True)
    parts.append(_rows(fans, _kinds(rng, FIRST_CONTACT, len(fans)), joined[fans]))
    fixed = sum(len(part[0]) for part in parts)
    if fixed > interactions:
        keep = np.sort(rng.choice(fixed, interactions, replace=False))
        parts = [tuple(np.concatenate(column)[keep] for column in zip(*parts, strict=True))]
    else:
        parts.append(_activity(rng, joined, interactions - fixed, end))
    who, kind, at, order, total = (np.concatenate(column) for column in zip(*parts, strict=True))
    by_time = np.argsort(at, kind="stable")
    return Timeline(
        joined, who[by_time], kind[by_time], at[by_time], order[by_time], total[by_time]
    )


def _rows(who, kind, at, order=None, total=None) -> tuple[np.ndarray, ...]:
    n = len(who)
    return (
        who.astype(np.int32),
        np.asarray(kind, dtype=np.int8),
        at.astype(np.int64),
        np.full(n, -1, np.int64) if order is None else order,
        np.zeros(n, np.int64) if total is None else total,
    )


def _kinds(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    codes = np.array([CODE[kind] for kind in shares], dtype=np.int8)
    weights = np.array(list(shares.values()))
    return rng.choice(codes, n, p=weights / weights.sum())


def _purchase_times(rng, first: np.ndarray, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (buyer index, time) of every purchase drawn from the BG/NBD process."""
    n = len(first)
    rate = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], n) / WEEK
    dropout = rng.beta(BGNBD["a"], BGNBD["b"], n)
    clock = first.astype(np.float64)
    owners, times = [np.arange(n)], [clock.copy()]
    active = np.arange(n)
    while active.size:
        later = clock[active] + rng.exponential(1.0 / rate[active])
        inside = later < end
        active = active[inside]
        clock[active] = later[inside]
        owners.append(active)
        times.append(clock[active])
        active = active[rng.random(active.size) >= dropout[active]]
    return np.concatenate(owners), np.concatenate(times).astype(np.int64)


def _orders(rng, buyers: np.ndarray, joined: np.ndarray, end: int) -> tuple[np.ndarray, ...]:
    """Return the rows of every order: placed, paid, and for some shipped or refunded."""
    owner, paid_at = _purchase_times(rng, joined[buyers], end)
    by_time = np.argsort(paid_at, kind="stable")
    owner, paid_at = owner[by_time], paid_at[by_time]
    who = buyers[owner]
    number = np.arange(1, len(who) + 1, dtype=np.int64)
    nu = rng.gamma(GAMMAGAMMA["q"], 1.0 / GAMMAGAMMA["gamma"], len(buyers))
    cents = np.round(rng.gamma(GAMMAGAMMA["p"], 1.0 / nu[owner]) * 100).astype(np.int64) + 100
    placed_at = np.maximum(paid_at - rng.integers(5, 600, len(who)), joined[who])
    rows = [
        _rows(who, np.full(len(who), CODE["order_placed"]), placed_at, number),
        _rows(who, np.full(len(who), CODE["order_paid"]), paid_at, number, cents),
    ]
    for kind, share, delay_days in (
        ("order_shipped", SHIPPED_SHARE, (1, 4)),
        ("order_refunded", REFUNDED_SHARE, (1, 21)),
    ):
        later = paid_at + rng.integers(delay_days[0] * DAY, delay_days[1] * DAY, len(who))
        chosen = (rng.random(len(who)) < share) & (later < end)
        rows.append(
            _rows(who[chosen], np.full(chosen.sum(), CODE[kind]), later[chosen], number[chosen])
        )
    return tuple(np.concatenate(column) for column in zip(*rows, strict=True))


def _activity(rng, joined: np.ndarray, n: int, end: int) -> tuple[np.ndarray, ...]:
    """Return ``n`` rows of everyday activity, busier fans having more of them."""
    weights = rng.gamma(0.5, 1.0, len(joined))
    who = rng.choice(len(joined), n, p=weights / weights.sum())
    at = joined[who] + (rng.random(n) * (end - joined[who])).astype(np.int64)
    return _rows(who, _kinds(rng, ACTIVITY, n), at)


def timestamps(seconds: np.ndarray, suffix: str = "") -> list[str]:
    """Return 'YYYY-MM-DD HH:MM:SS' (UTC, plus ``suffix``) strings, as the databases read them."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s").astype("S19")
    chars = text.view(np.uint8).reshape(-1, 19).copy()
    chars[:, 10] = ord(" ")
    strings = chars.view("S19").reshape(-1).astype("U19")
    return [value + suffix for value in strings.tolist()] if suffix else strings.tolist()


def customer_rows(shop_id: int, timeline: Timeline, ts_suffix: str, seed: int) -> Iterator[list]:
    """Yield lists of crm_customer rows (shop, email, name, country, created_at, stage, consent)."""
    rng = np.random.default_rng(seed + 1)
    country = rng.integers(0, len(COUNTRIES), timeline.customers)
    consent = rng.random(timeline.customers) < 0.4
    for start in range(0, timeline.customers, BATCH):
        stop = min(start + BATCH, timeline.customers)
        created = timestamps(timeline.joined[start:stop], ts_suffix)
        yield [
            (
                shop_id,
                f"fan{n}@bench.example",
                f"Fan {n}",
                COUNTRIES[country[n]],
                created[n - start],
                "awareness",
                bool(consent[n]),
            )
            for n in range(start, stop)
        ]


def interaction_rows(
    shop_id: int, first_customer_id: int, timeline: Timeline, ts_suffix: str
) -> Iterator[list]:
    """Yield lists of crm_interaction rows (shop, customer, kind, occurred_at, source, subject
    type, subject id, data)."""
    paid, currency = CODE["order_paid"], ', "currency": "USD"}'
    for start in range(0, len(timeline), BATCH):
        stop = min(start + BATCH, len(timeline))
        at = timestamps(timeline.at[start:stop], ts_suffix)
        who = (timeline.who[start:stop] + first_customer_id).tolist()
        kind = timeline.kind[start:stop].tolist()
        order = timeline.order[start:stop].tolist()
        total = timeline.total[start:stop].tolist()
        rows = []
        for i in range(stop - start):
            name = KINDS[kind[i]]
            is_order = order[i] >= 0
            rows.append(
                (
                    shop_id,
                    who[i],
                    name,
                    at[i],
                    SOURCE.get(name, "storefront"),
                    "order" if is_order else "",
                    f"B{order[i]:07d}" if is_order else "",
                    '{"total": ' + str(total[i]) + currency if kind[i] == paid else "{}",
                )
            )
        yield rows


CUSTOMER_COLUMNS = "shop_id, email, name, country, created_at, stage, email_marketing"
INTERACTION_COLUMNS = (
    "shop_id, customer_id, kind, occurred_at, source, subject_type, subject_id, data"
)


def load(shop_id: int, timeline: Timeline, log: Callable[[str], None]) -> int:
    """Insert the drawn customers and timeline for the shop; return the first customer's id."""
    from django.db import connection

    suffix = "+00" if connection.vendor == "postgresql" else ""
    with _bulk_session(), _indexes_dropped(["crm_customer", "crm_interaction"], log):
        _insert("crm_customer", CUSTOMER_COLUMNS, customer_rows(shop_id, timeline, suffix, 0), log)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT min(id), max(id), count(*) FROM crm_customer WHERE shop_id = %s", [shop_id]
            )
            first, last, count = cursor.fetchone()
        if last - first + 1 != count or count != timeline.customers:
            raise RuntimeError("customer ids are not consecutive: the load cannot map rows")
        _insert(
            "crm_interaction",
            INTERACTION_COLUMNS,
            interaction_rows(shop_id, first, timeline, suffix),
            log,
        )
    with connection.cursor() as cursor:
        # VACUUM marks the pages all-visible, as autovacuum has in a database that has been in
        # use: PostgreSQL's index-only scans depend on it.
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    return first


def _insert(table: str, columns: str, batches: Iterator[list], log) -> None:
    from django.db import connection, transaction

    placeholders = ", ".join(["%s"] * len(columns.split(",")))
    inserted = 0
    for rows in batches:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)
        inserted += len(rows)
        if inserted % (BATCH * 20) == 0:
            log(f"{table}: {inserted:,} rows")
    log(f"{table}: {inserted:,} rows in all")


@contextlib.contextmanager
def _bulk_session() -> Iterator[None]:
    """Give the loading connection room to sort (and, on PostgreSQL, skip per-row FK triggers:
    the rows are consistent by construction); put the settings back afterwards."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size")
            before = cursor.fetchone()[0]
            cursor.execute("PRAGMA cache_size = -1048576")
            try:
                yield
            finally:
                cursor.execute(f"PRAGMA cache_size = {int(before)}")
        else:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            try:
                cursor.execute("SET session_replication_role = replica")
            except DatabaseError:  # not a superuser: the triggers run, only slower
                pass
            try:
                yield
            finally:
                cursor.execute("RESET session_replication_role")
                cursor.execute("RESET maintenance_work_mem")


@contextlib.contextmanager
def _indexes_dropped(tables: list[str], log) -> Iterator[None]:
    """Drop the tables' secondary indexes (not those behind constraints) and build them again."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                f" AND tbl_name IN ({', '.join(['%s'] * len(tables))})",
                tables,
            )
        else:
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x"
                " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
                " WHERE t.relname = ANY(%s) AND NOT x.indisprimary AND NOT EXISTS"
                " (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                [tables],
            )
        indexes = cursor.fetchall()
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    yield
    with connection.cursor() as cursor:
        for name, sql in indexes:
            cursor.execute(sql)
            log(f"index {name} built")
