"""The customers list's search box: three characters or more find exactly what a case-insensitive
substring match on the address or the name finds, shorter texts find names and addresses that
start with them, any text is plain text (never query syntax), and the search index follows every
write to the customers (migration 0010)."""

from __future__ import annotations

import importlib
import os
import random

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.urls import reverse

from kinfolk.core import clock
from kinfolk.crm.models import Customer
from kinfolk.crm.segment_filters import _EMAIL, SegmentFilter, search_condition
from kinfolk.crm.selectors.customers import customers_matching
from kinfolk.crm.services import customer_get_or_create
from kinfolk.crm.services.merges import customer_merge
from kinfolk.crm.services.privacy import customer_erase

pytestmark = pytest.mark.django_db

migration = importlib.import_module("kinfolk.crm.migrations.0010_customer_search")
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm")

NAMES = [
    "김민수", "이서연", "박지훈", "민수", "민수 Kim", "최 민준", "황서윤", "김민지",
    "Kim Minji", "KIM MINJI", "kim minji", "Minsu Park", "O'Brien", "Dwayne \"The Rock\" Johnson",
    "50% Off Fan", "100%", "under_score", "back\\slash", "Zoë Ångström", "ZOË", "Straße",
    "Дмитрий", "ДМИТРИЙ", "NEAR(a b)", "a OR b", "x AND y", "NOT this", "star*", "col:umn",
    "^caret", "{braces}", "+plus -minus", "Ünal", "Łukasz", "ﬁnance", "日本語の名前", "",
]  # fmt: skip
DOMAINS = ["example.com", "gmail.com", "naver.com", "Daum.NET", "xn--9n2bp8q.kr"]
LOCAL_PARTS = [
    "minsu", "minsu.kim", "seoyeon", "o'brien", "percent%sign", "under_score", "star*", "near(",
    "or", "Mixed.Case", "zoe", "fan", "dmitri", "quote\"d",
]  # fmt: skip
SPECIAL_TEXTS = [
    '"', '""', '"""', '" OR "', "*", "**", "OR", " OR ", "a OR b", "NEAR(", "NEAR(a b)",
    "NEAR(a b, 2)", "AND", "NOT", "NOT this", "'", "''", "' OR 1=1 --", "%", "%%", "50%",
    "_", "__", "under_", "\\", "back\\", "o'b", '"the', 'k"', "star*", "^ca", "col:", "col:umn",
    "{br", "+plus", "-minus", "(", ")", "()", ":", "-", "^", "민", "민수", "김민", "김민수",
    "서윤", "민수 k", "Дми", "дмитрий", "ZOË", "zoë", "zo", "straße", "STRASSE", "ﬁn", "fin",
    "ünal", "ÜNAL", "łuk", "日本", "日本語", "ki", "KI", "m", "M", "%m", "_i", "a", "@", ".",
    "@e", "com", ".com", "@naver", "net", "xn--", "   kim   ", "gmail.com", "a\x00b",
]  # fmt: skip


def fans(shop, count: int, seed: int) -> list[Customer]:
    """Return ``count`` customers of ``shop`` with names and addresses drawn from the lists,
    some in upper case or with suffixes, as an import of old records may have left them."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        name = rng.choice(NAMES)
        if rng.random() < 0.3:
            name = f"{name} {rng.choice(NAMES)}".strip()
        if rng.random() < 0.1:
            name = name.swapcase()
        local = rng.choice(LOCAL_PARTS)
        email = f"{local}{n}@{rng.choice(DOMAINS)}" if rng.random() < 0.95 else ""
        rows.append(Customer(shop=shop, email=email, name=name[:150], created_at=clock.now()))
    return Customer.objects.bulk_create(rows)


def texts_to_try(customers: list[Customer], count: int, seed: int) -> list[str]:
    """Return the special texts and ``count`` parts of names and addresses (some in the other
    case), of one to eight characters."""
    rng = random.Random(seed)
    texts = list(SPECIAL_TEXTS)
    sources = [c.name for c in customers if c.name] + [c.email for c in customers if c.email]
    while len(texts) < len(SPECIAL_TEXTS) + count:
        source = rng.choice(sources)
        size = rng.randint(1, min(8, len(source)))
        start = rng.randint(0, len(source) - size)
        part = source[start : start + size]
        texts.append(part.swapcase() if rng.random() < 0.3 else part)
    return texts


def found(shop, text: str, **options) -> set[int]:
    return set(
        Customer.objects.filter(search_condition(text, shop, **options)).values_list(
            "pk", flat=True
        )
    )


def expected(shop, text: str) -> set[int]:
    """The plain answer, read without any index: icontains (istartswith below 3 characters)."""
    text = text.replace("\x00", "").strip()
    lookup = "icontains" if len(text) >= 3 else "istartswith"
    condition = Q(**{f"email__{lookup}": text}) | Q(**{f"name__{lookup}": text})
    return set(Customer.objects.filter(shop=shop).filter(condition).values_list("pk", flat=True))


@pytest.fixture
def other(make_shop):
    return make_shop("other-shop")


def test_every_text_finds_what_a_plain_case_insensitive_match_finds(shop, other):
    """Given 300 customers with Korean, mixed-case, accented and quoted names and addresses
    holding %, _, quotes and FTS5 syntax, and another shop with the same kind of customers,
    when searching 200 parts of them and texts made of query syntax, then each finds exactly the
    shop's customers whose address or name contains it in any case (starts with it, below
    three characters), whether the matches are read by id or by walking the shop's customers."""
    customers = fans(shop, 300, seed=1)
    fans(other, 100, seed=2)
    for text in texts_to_try(customers, 200, seed=3):
        if _EMAIL.match(text.strip()):
            continue  # a whole address is an exact look-up (test_segment_filters)
        want = expected(shop, text)
        assert found(shop, text) == want, text
        assert found(shop, text, few=0) == want, text  # the usual shop condition
        assert found(shop, text, few=10**9) == want, text  # the matches by id


def test_the_list_finds_the_same_customers_and_leaves_out_the_erased(shop):
    customers = fans(shop, 60, seed=4)
    erased = customers[0]
    Customer.objects.filter(pk=erased.pk).update(erased_at=clock.now())
    for text in ["kim", "민수", "%", "NEAR(", '"', "k", "ki"]:
        shown = customers_matching(shop=shop, spec=SegmentFilter(query=text))
        assert set(shown.values_list("pk", flat=True)) == expected(shop, text) - {erased.pk}


def test_short_texts_find_names_and_addresses_that_start_with_them(shop):
    """Given Korean names, when searching two syllables, then the names that start with them are
    found, in any case for Latin letters, and the ones that only contain them are not."""
    for email, name in [
        ("a@example.com", "민수"),
        ("b@example.com", "민수 Kim"),
        ("c@example.com", "김민수"),
        ("minsu@example.com", "Park"),
        ("d@example.com", "Min-jun"),
    ]:
        customer_get_or_create(shop=shop, email=email, name=name)

    def names(text: str) -> set[str]:
        return {c.name for c in Customer.objects.filter(search_condition(text, shop))}

    assert names("민수") == {"민수", "민수 Kim"}
    assert names("김민") == {"김민수"}
    assert names("MI") == {"Park", "Min-jun"}  # minsu@... and Min-jun
    assert names("민수 ") == {"민수", "민수 Kim"}  # trimmed
    assert names("민수 K") == {"민수 Kim"}  # three characters: anywhere
    assert names("수 K") == {"민수 Kim"}


def test_the_index_follows_inserts_changes_erasures_merges_and_deletes(shop):
    """Given customers found by their names, when one is renamed, one erased, one merged into
    another and one deleted, then each is found by what it holds now and by nothing it held."""
    kept = customer_get_or_create(shop=shop, email="kept@example.com")
    assert found(shop, "kept@") == {kept.pk}
    # A name given later (the service fills a blank one).
    customer_get_or_create(shop=shop, email="kept@example.com", name="Yoon Haneul")
    assert found(shop, "haneul") == {kept.pk}
    Customer.objects.filter(pk=kept.pk).update(name="윤하늘")
    assert found(shop, "haneul") == set()
    assert found(shop, "윤하늘") == {kept.pk}

    erased = customer_get_or_create(shop=shop, email="erased@example.com", name="Seo Erased")
    customer_erase(shop=shop, customer=erased, requested_by="fan")
    assert found(shop, "erased") == set()
    assert found(shop, "Seo Er") == set()

    merged = customer_get_or_create(shop=shop, email="twin@example.com", name="Twin Record")
    customer_merge(shop=shop, source=merged, target=kept)
    assert found(shop, "twin") == set()

    gone = customer_get_or_create(shop=shop, email="gone@example.com", name="Gone Away")
    Customer.objects.filter(pk=gone.pk).delete()
    assert found(shop, "gone") == set()
    assert found(shop, "away") == set()
    assert found(shop, "kept@example") == {kept.pk}
    if connection.vendor == "sqlite":
        fts_integrity_check()


def fts_integrity_check() -> None:
    """Raise DatabaseError unless the FTS5 index holds exactly the table's text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_customer_search(crm_customer_search, rank) "
            "VALUES ('integrity-check', 1)"
        )


@on_sqlite
def test_the_integrity_check_notices_a_write_the_index_missed(shop):
    """Given the check passes, when a name changes while the update trigger is away, then the
    check fails: it is a real test of the index against the table."""
    customer = customer_get_or_create(shop=shop, email="x@example.com", name="Before")
    fts_integrity_check()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER crm_customer_search_update")
        Customer.objects.filter(pk=customer.pk).update(name="After")
        with pytest.raises(DatabaseError), transaction.atomic():
            fts_integrity_check()
        transaction.set_rollback(True)


@pytest.mark.parametrize("text", ['"', "NEAR(", "a OR b", "*", "%", "_", "' OR 1=1 --", "민"])
def test_the_list_page_takes_any_text(client, make_user, make_shop, text):
    owner = make_user()
    shop = make_shop("searched", owner=owner)
    customer_get_or_create(shop=shop, email="near@example.com", name='NEAR(a b) "quoted" 100%')
    client.force_login(owner)
    url = reverse("dashboard:customers", kwargs={"shop": shop.slug})
    response = client.get(url, {"f": "1", "q": text})
    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_migration_goes_back_and_forth_and_indexes_existing_customers(make_shop):
    """Given customers made before the index, when migration 0010 is unapplied and applied
    again, then they are found through the new index, and new writes are followed."""
    shop = make_shop("migrated")
    customer = customer_get_or_create(shop=shop, email="old@example.com", name="Old Customer")
    try:
        call_command("migrate", "crm", "0009", verbosity=0)
        assert search_index_names() == set()
    finally:
        call_command("migrate", "crm", verbosity=0)
    assert found(shop, "customer", few=10**9) == {customer.pk}
    Customer.objects.filter(pk=customer.pk).update(name="Renamed")
    assert found(shop, "customer") == set()
    if connection.vendor == "sqlite":
        fts_integrity_check()
    assert search_index_names() == (SQLITE_NAMES if connection.vendor == "sqlite" else PG_NAMES)


SQLITE_NAMES = {
    "crm_customer_search",
    "crm_customer_search_insert",
    "crm_customer_search_update",
    "crm_customer_search_delete",
    "crm_customer_shop_lower_name",
}
PG_NAMES = {"crm_customer_search", "crm_customer_search_email", "crm_customer_search_name"}


def search_index_names() -> set[str]:
    """Return which of the search's table, triggers and indexes the database holds."""
    names = SQLITE_NAMES if connection.vendor == "sqlite" else PG_NAMES
    catalogue = (
        "SELECT name FROM sqlite_master WHERE name = %s"
        if connection.vendor == "sqlite"
        else "SELECT relname FROM pg_class WHERE relname = %s"
    )
    with connection.cursor() as cursor:
        held = set()
        for name in names:
            cursor.execute(catalogue, [name])
            held.update(row[0] for row in cursor.fetchall())
        return held


@on_postgresql
def test_without_pg_trgm_the_migration_succeeds_and_search_still_works(shop):
    """Given a database without pg_trgm, and a user who owns the customers' table but may not
    create extensions, when the migration's step runs as that user, then it succeeds without
    the trigram indexes (with the address statistics), and the search finds the same customers
    by reading them all. (All undone with the test's transaction.)"""
    role = f"kinfolk_no_extensions_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute("DROP EXTENSION pg_trgm CASCADE")  # its indexes with it
        cursor.execute("DROP FUNCTION crm_customer_search_sync() CASCADE")  # and the triggers
        cursor.execute("DROP TABLE crm_customer_search")
        cursor.execute("DROP STATISTICS crm_customer_lower_email")
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"ALTER TABLE crm_customer OWNER TO {role}")
        cursor.execute(f"GRANT CREATE ON SCHEMA public TO {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
    with connection.schema_editor() as editor:
        migration.search_index_create(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT stxname FROM pg_statistic_ext WHERE stxname LIKE 'crm_customer%%'")
        assert cursor.fetchall() == [("crm_customer_lower_email",)]
    assert search_index_names() == {"crm_customer_search"}  # the table, without trigram indexes
    customers = fans(shop, 40, seed=5)
    for text in texts_to_try(customers, 20, seed=6)[-30:]:
        assert found(shop, text) == expected(shop, text), text
