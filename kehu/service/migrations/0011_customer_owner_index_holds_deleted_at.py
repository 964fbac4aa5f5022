"""ticket_customer_owner_idx and feedback_customer_owner_idx hold deleted_at beside the id on
PostgreSQL (INCLUDE), so the listed scope reads a user's live ids from the index alone
(kehu.accounts.scope._listed_or_rowwise). SQLite has no INCLUDE and Django leaves it out there,
so the index would be rebuilt as it was: only PostgreSQL rebuilds it."""

from django.db import migrations, models

INDEXES = {
    "ticket": models.Index(fields=["customer_owner", "id"], include=("deleted_at",), name="ticket_customer_owner_idx"),
    "feedback": models.Index(fields=["customer_owner", "id"], include=("deleted_at",),
                             name="feedback_customer_owner_idx"),
}
BEFORE = {
    "ticket": models.Index(fields=["customer_owner", "id"], name="ticket_customer_owner_idx"),
    "feedback": models.Index(fields=["customer_owner", "id"], name="feedback_customer_owner_idx"),
}


def _swap(apps, schema_editor, old, new):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name in INDEXES:
        model = apps.get_model("service", model_name)
        schema_editor.remove_index(model, old[model_name])
        schema_editor.add_index(model, new[model_name])
        schema_editor.execute(f"ANALYZE {model._meta.db_table}")


def forwards(apps, schema_editor):
    _swap(apps, schema_editor, BEFORE, INDEXES)


def backwards(apps, schema_editor):
    _swap(apps, schema_editor, INDEXES, BEFORE)


class Migration(migrations.Migration):

    dependencies = [
        ("service", "0010_feedback_customer_owner"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="feedback", name="feedback_customer_owner_idx"),
                migrations.RemoveIndex(model_name="ticket", name="ticket_customer_owner_idx"),
                migrations.AddIndex(model_name="feedback", index=INDEXES["feedback"]),
                migrations.AddIndex(model_name="ticket", index=INDEXES["ticket"]),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
