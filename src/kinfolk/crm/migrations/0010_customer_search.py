"""The customers list's search box: an index of the customers' e-mail addresses and names that
finds any part of three characters or more without reading every customer, one per database
(``kinfolk.crm.segment_filters.search_condition`` reads it).

SQLite: ``crm_customer_search``, an FTS5 table with the ``trigram`` tokenizer (case-insensitive)
over ``crm_customer (email, name)`` as external content: it stores only the index, the text stays
in ``crm_customer``. Three triggers keep it in step with every write to the table, whoever makes
it (services, imports, raw SQL): an insert, a change of the address or the name (an erasure
blanks both), a delete (a merge deletes the merged customer). The rows already there are indexed
here ("rebuild"). Short texts (one or two characters) are looked up by their start, through
``crm_customer_shop_lower_name`` and the unique index on the lower-cased address.

The triggers belong to ``crm_customer``: a later migration that makes SQLite rebuild that table
(Django copies it to a new one and drops the old one, triggers included) must create them again
with ``sqlite_triggers_create``; the search tests fail until it does. A trigger's write costs
FTS5 0.1-0.5 ms per statement (it stores its pending terms at the end of each one), against
about 15 us per row for a "rebuild": a bulk load of many rows one statement each is faster with
the triggers dropped and a "rebuild" after (as ``benchmarks/customers_list.py`` does).

PostgreSQL: ``crm_customer_search`` is a plain table of each customer's upper-cased address
and name (``UPPER(col::text)``, what Django's ``icontains`` and ``istartswith`` compare), kept in
step by triggers on the same three writes, with GIN indexes of ``pg_trgm``'s ``gin_trgm_ops``.
Not indexes on ``crm_customer`` itself: PostgreSQL adds an entry to every index of a table for
every row an UPDATE writes anew, whatever column changed, and the batches that move a million
customers' stages or scores would pay the trigram indexes of text they never touch (about a
third of a shop's first stage recomputation). ``pg_trgm`` ships with PostgreSQL and is a
trusted extension (13+): a database owner without superuser rights may create it. Where it
cannot be created (not installed on the server, or the user may not create extensions), this
migration still succeeds with the table but without its trigram indexes, and searching reads
the whole table. Once a superuser has run ``CREATE EXTENSION pg_trgm`` in the database,
migrating back to 0009 and forward again creates the indexes. Statistics on ``LOWER(email)``
are created either way (see ``POSTGRESQL_STATISTICS``) and the tables analysed.

At a million customers this took 11-30 s on SQLite (the index: about 105 MB) and 11-46 s on
PostgreSQL (about 55 MB) on two shared cores, during which writes to ``crm_customer`` wait.
"""

from django.db import DatabaseError, migrations, transaction

FTS_TABLE = "crm_customer_search"

SQLITE_CREATE = [
    (
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(email, name, content='crm_customer', "
        "content_rowid='id', tokenize='trigram case_sensitive 0')"
    ),
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
    # Short texts: "names starting with" on the lower-cased name (the address has its own).
    "CREATE INDEX crm_customer_shop_lower_name ON crm_customer (shop_id, LOWER(name))",
]
# An external-content index is told the old text to remove it: the values it indexed.
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON crm_customer BEGIN
        INSERT INTO {FTS_TABLE}(rowid, email, name) VALUES (new.id, new.email, new.name);
    END""",
    f"""CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON crm_customer BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, email, name)
        VALUES ('delete', old.id, old.email, old.name);
    END""",
    # Most saves write every column: only a change of the text itself touches the index.
    f"""CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF email, name ON crm_customer
    WHEN old.email IS NOT new.email OR old.name IS NOT new.name BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, email, name)
        VALUES ('delete', old.id, old.email, old.name);
        INSERT INTO {FTS_TABLE}(rowid, email, name) VALUES (new.id, new.email, new.name);
    END""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_update",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
    "DROP INDEX IF EXISTS crm_customer_shop_lower_name",
]

# PostgreSQL: the upper-cased text of each customer in a table of its own, kept by triggers.
POSTGRESQL_TABLE = [
    f"""CREATE TABLE {FTS_TABLE} (
        customer_id bigint PRIMARY KEY,
        shop_id bigint NOT NULL,
        email text NOT NULL,
        name text NOT NULL
    )""",
    f"""CREATE FUNCTION {FTS_TABLE}_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM {FTS_TABLE} WHERE customer_id = OLD.id;
            RETURN OLD;
        END IF;
        INSERT INTO {FTS_TABLE} (customer_id, shop_id, email, name)
        VALUES (NEW.id, NEW.shop_id, UPPER(NEW.email::text), UPPER(NEW.name::text))
        ON CONFLICT (customer_id) DO UPDATE
        SET shop_id = EXCLUDED.shop_id, email = EXCLUDED.email, name = EXCLUDED.name;
        RETURN NEW;
    END
    $$""",
    f"""CREATE TRIGGER {FTS_TABLE}_insert_delete AFTER INSERT OR DELETE ON crm_customer
    FOR EACH ROW EXECUTE FUNCTION {FTS_TABLE}_sync()""",
    # Only a change of the text itself: a stage or a score moving writes nothing here.
    f"""CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF email, name, shop_id ON crm_customer
    FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email OR OLD.name IS DISTINCT FROM NEW.name
        OR OLD.shop_id IS DISTINCT FROM NEW.shop_id)
    EXECUTE FUNCTION {FTS_TABLE}_sync()""",
    f"""INSERT INTO {FTS_TABLE} (customer_id, shop_id, email, name)
    SELECT id, shop_id, UPPER(email::text), UPPER(name::text) FROM crm_customer""",
]
POSTGRESQL_INDEXES = [
    f"CREATE INDEX {FTS_TABLE}_email ON {FTS_TABLE} USING gin (email gin_trgm_ops)",
    f"CREATE INDEX {FTS_TABLE}_name ON {FTS_TABLE} USING gin (name gin_trgm_ops)",
]
POSTGRESQL_STATISTICS = [
    # The planner takes no statistics from a partial index such as the unique one on
    # (shop, LOWER(email)): without these it guesses that an address is shared by 0.5 % of the
    # customers and walks the shop's customers in list order to find a whole address.
    (
        "CREATE STATISTICS IF NOT EXISTS crm_customer_lower_email ON (LOWER(email::text))"
        " FROM crm_customer"
    ),
    "ANALYZE crm_customer",
    # So that the planner tells a common part ("GMAIL") from a rare one.
    f"ANALYZE {FTS_TABLE}",
]
# The extension stays: other tables may come to use it.
POSTGRESQL_DROP = [
    "DROP STATISTICS IF EXISTS crm_customer_lower_email",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_insert_delete ON crm_customer",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_update ON crm_customer",
    f"DROP FUNCTION IF EXISTS {FTS_TABLE}_sync()",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]


def sqlite_triggers_create(schema_editor) -> None:
    """Create the triggers that keep the search index in step with ``crm_customer``."""
    for statement in SQLITE_TRIGGERS:
        schema_editor.execute(statement)


def trigram_extension(schema_editor) -> bool:
    """Return whether ``pg_trgm`` is installed in the database, creating it when it may.

    The attempt runs in a savepoint, so that a refusal (no such extension on the server, no
    permission) leaves the migration's transaction usable.
    """
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT installed_version FROM pg_available_extensions WHERE name = 'pg_trgm'"
        )
        row = cursor.fetchone()
        if row is None:
            return False
        if row[0] is not None:
            return True
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:
            return False
    return True


def search_index_create(apps, schema_editor):
    """Create the database's search index (see the module's notes)."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        version = schema_editor.connection.Database.sqlite_version_info
        if version < (3, 34):
            raise RuntimeError(
                "The customers' search index needs SQLite 3.34 or later (FTS5's trigram "
                f"tokenizer); this is SQLite {'.'.join(map(str, version))}."
            )
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)
        sqlite_triggers_create(schema_editor)
    elif vendor == "postgresql":
        indexes = POSTGRESQL_INDEXES if trigram_extension(schema_editor) else []
        for statement in POSTGRESQL_TABLE + indexes + POSTGRESQL_STATISTICS:
            schema_editor.execute(statement)


def search_index_drop(apps, schema_editor):
    """Drop what ``search_index_create`` made, the pg_trgm extension excepted."""
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0009_erasure_digest_share_snapshot"),
    ]

    operations = [
        migrations.RunPython(search_index_create, search_index_drop),
    ]
