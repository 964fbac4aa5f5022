"""The tickets' sort indexes (created, updated, resolution due) hold the scope's paths beside the
key on PostgreSQL (INCLUDE owner, handler, customer's owner), so a rep's page in those orders is
walked in the index alone (kehu.core.pagination._narrowed). SQLite has no INCLUDE and Django leaves
it out there, so the indexes would be rebuilt as they were: only PostgreSQL rebuilds them."""

from django.db import migrations, models

ALIVE = models.Q(deleted_at__isnull=True)
SCOPE = ["owner", "handler", "customer_owner"]
KEYS = {"ticket_created_idx": "created_at", "ticket_updated_idx": "updated_at", "ticket_due_idx": "resolution_due"}


def _index(name, include):
    return models.Index(fields=[KEYS[name], "id"], name=name, condition=ALIVE, include=include)


def _swap(apps, schema_editor, include):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("service", "ticket")
    for name in KEYS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
        schema_editor.add_index(model, _index(name, include))
    schema_editor.execute(f"ANALYZE {model._meta.db_table}")


def forwards(apps, schema_editor):
    _swap(apps, schema_editor, SCOPE)


def backwards(apps, schema_editor):
    _swap(apps, schema_editor, None)


class Migration(migrations.Migration):

    dependencies = [
        ("service", "0011_customer_owner_index_holds_deleted_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[op for name in KEYS for op in (
                migrations.RemoveIndex(model_name="ticket", name=name),
                migrations.AddIndex(model_name="ticket", index=_index(name, SCOPE)),
            )],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
