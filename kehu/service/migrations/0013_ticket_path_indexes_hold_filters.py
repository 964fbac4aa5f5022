"""The tickets' scope-path indexes (owner, handler, customer's owner) hold the list's usual filters
beside the key on PostgreSQL (INCLUDE status, priority, breached, type, channel), so a wide scope's
id-ordered page walks each path testing them in the index alone (kehu.core.pagination._narrowed).
SQLite has no INCLUDE and Django leaves it out there: only PostgreSQL rebuilds them."""

from django.db import migrations, models

ALIVE = models.Q(deleted_at__isnull=True)
FILTERS = ["status", "priority", "breached", "type", "channel"]


def _indexes(filters):
    return [
        models.Index(fields=["owner", "id"], name="ticket_owner_idx", condition=ALIVE, include=filters),
        models.Index(fields=["handler", "id"], name="ticket_handler_idx", condition=ALIVE, include=filters),
        models.Index(fields=["customer_owner", "id"], name="ticket_customer_owner_idx", include=["deleted_at", *filters]),
    ]


def _swap(apps, schema_editor, filters):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("service", "ticket")
    for index in _indexes(filters):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{index.name}"')
        schema_editor.add_index(model, index)
    schema_editor.execute(f"ANALYZE {model._meta.db_table}")


def forwards(apps, schema_editor):
    _swap(apps, schema_editor, FILTERS)


def backwards(apps, schema_editor):
    _swap(apps, schema_editor, [])


class Migration(migrations.Migration):

    dependencies = [
        ("service", "0012_ticket_sort_indexes_hold_scope"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[op for index in _indexes(FILTERS) for op in (
                migrations.RemoveIndex(model_name="ticket", name=index.name),
                migrations.AddIndex(model_name="ticket", index=index),
            )],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
