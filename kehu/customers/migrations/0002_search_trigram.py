"""PostgreSQL only: a trigram GIN index serves `search_text LIKE '%term%'` (Chinese included)."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS cust_search_trgm ON customers_customer "
        "USING gin (search_text gin_trgm_ops) WHERE deleted_at IS NULL"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS contact_name_trgm ON customers_contact "
        "USING gin (name gin_trgm_ops) WHERE deleted_at IS NULL"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS cust_search_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS contact_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
