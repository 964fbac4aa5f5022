"""SQLite only: an FTS5 trigram index over customers' search_text, kept in sync by triggers.

It serves `LIKE '%term%'` for terms of three characters or more (pinyin initials, phone digits,
names), which SQLite otherwise answers with a scan of the whole table. PostgreSQL uses the
pg_trgm GIN index of migration 0002 instead.
"""

from django.db import migrations

CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS customers_customer_fts USING fts5("
    "search_text, content='customers_customer', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS customers_customer_fts_ai AFTER INSERT ON customers_customer BEGIN "
    "INSERT INTO customers_customer_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS customers_customer_fts_ad AFTER DELETE ON customers_customer BEGIN "
    "INSERT INTO customers_customer_fts(customers_customer_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS customers_customer_fts_au AFTER UPDATE OF search_text ON customers_customer "
    "BEGIN INSERT INTO customers_customer_fts(customers_customer_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO customers_customer_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO customers_customer_fts(customers_customer_fts) VALUES ('rebuild')",
]
DROP = [
    "DROP TRIGGER IF EXISTS customers_customer_fts_ai",
    "DROP TRIGGER IF EXISTS customers_customer_fts_ad",
    "DROP TRIGGER IF EXISTS customers_customer_fts_au",
    "DROP TABLE IF EXISTS customers_customer_fts",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in CREATE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_pool_rules")]
    operations = [migrations.RunPython(forwards, backwards)]
