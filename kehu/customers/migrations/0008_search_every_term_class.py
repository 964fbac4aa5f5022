"""Search indexes for every term class (issue 17).

- Every Chinese character of a customer's `search_text` also becomes a word of its own
  (`normalize.with_unigrams`), so a one-character search (" 王 ") has a trigram the existing indexes
  serve (FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL) instead of scanning the table.
- Contacts get their own `search_text` (migration 0007), filled here, and the same indexes as
  customers: an FTS5 trigram table kept by triggers on SQLite, a trigram GIN index and a finer
  statistics sample on PostgreSQL.

Existing rows are rewritten in batches of 2,000 (the pinyin of each distinct contact name is
computed once).
"""

import functools

from django.db import migrations

from kehu.customers import normalize

BATCH = 2000

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS customers_contact_fts USING fts5("
    "search_text, content='customers_contact', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS customers_contact_fts_ai AFTER INSERT ON customers_contact BEGIN "
    "INSERT INTO customers_contact_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS customers_contact_fts_ad AFTER DELETE ON customers_contact BEGIN "
    "INSERT INTO customers_contact_fts(customers_contact_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS customers_contact_fts_au AFTER UPDATE OF search_text ON customers_contact "
    "BEGIN INSERT INTO customers_contact_fts(customers_contact_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO customers_contact_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO customers_contact_fts(customers_contact_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS customers_contact_fts_ai",
    "DROP TRIGGER IF EXISTS customers_contact_fts_ad",
    "DROP TRIGGER IF EXISTS customers_contact_fts_au",
    "DROP TABLE IF EXISTS customers_contact_fts",
]
PG_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS contact_search_trgm ON customers_contact "
    "USING gin (search_text gin_trgm_ops) WHERE deleted_at IS NULL",
    "ALTER TABLE customers_contact ALTER COLUMN search_text SET STATISTICS 1000",
]
PG_DROP = ["DROP INDEX IF EXISTS contact_search_trgm"]


def _batches(cursor, table, columns):
    last = 0
    while True:
        cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > %s ORDER BY id LIMIT {BATCH}",
                       [last])
        rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    pinyin = functools.lru_cache(maxsize=100_000)(normalize.pinyin_forms)
    with connection.cursor() as read, connection.cursor() as write:
        for rows in _batches(read, "customers_contact", ["name", "mobile", "phone", "email", "wechat"]):
            write.executemany(
                "UPDATE customers_contact SET search_text = %s WHERE id = %s",
                [(normalize.contact_search_text(*row[1:], pinyin=pinyin), row[0]) for row in rows])
        for rows in _batches(read, "customers_customer", ["search_text"]):
            changed = [(new, pk) for pk, text in rows if (new := normalize.with_unigrams(text or "")) != text]
            if changed:
                write.executemany("UPDATE customers_customer SET search_text = %s WHERE id = %s", changed)
    if connection.vendor == "sqlite":
        for sql in SQLITE_CREATE:
            schema_editor.execute(sql)
    elif connection.vendor == "postgresql":
        for sql in PG_CREATE:
            schema_editor.execute(sql)
        schema_editor.execute("ANALYZE customers_contact")
        schema_editor.execute("ANALYZE customers_customer")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql)
    elif schema_editor.connection.vendor == "postgresql":
        for sql in PG_DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    atomic = False  # a million rows: each batch commits on its own (autocommit)
    dependencies = [("customers", "0007_search_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
