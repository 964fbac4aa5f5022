"""Customer.name_key (normalize.name_key: the name without legal form, its place moved behind), filled
for every customer, and its index; the data-quality scan's similar-name kind (issue 15).

The column is added without copying the table, as in 0013: Django's SQLite schema editor would
rebuild customers_customer for a NOT NULL column with a default, copying every customer and dropping
the triggers of the search index. The keys are written in batches of 2,000, each batch its own
transaction (a million customers: a few hundred commits, not a million), and the index is built
after them. QualityDismissal: the groups someone said are not duplicates. QualityIssue.kind grows to 12 characters ("dup_similar"): SQLite does not enforce a
varchar's length, so only PostgreSQL's column is altered (no table copy either way)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models, transaction

BATCH = 2000


def _kind_field():
    return models.CharField(choices=[
        ("dup_phone", "Same phone"), ("dup_email", "Same e-mail"), ("dup_name", "Same name"),
        ("dup_similar", "Similar name"), ("bad_phone", "Invalid phone"), ("bad_email", "Invalid e-mail")],
        max_length=12)


def add_column(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("ALTER TABLE \"customers_customer\" ADD COLUMN \"name_key\" varchar(200) NOT NULL DEFAULT ''")
        return
    Customer = apps.get_model("customers", "Customer")
    field = models.CharField(max_length=200, editable=False, default="", blank=True)
    field.set_attributes_from_name("name_key")
    schema_editor.add_field(Customer, field)
    QualityIssue = apps.get_model("customers", "QualityIssue")
    old = QualityIssue._meta.get_field("kind")
    new = _kind_field()
    new.set_attributes_from_name("kind")
    schema_editor.alter_field(QualityIssue, old, new)


def drop_column(apps, schema_editor):
    schema_editor.execute("ALTER TABLE \"customers_customer\" DROP COLUMN \"name_key\"")


def fill_keys(apps, schema_editor):
    from kehu.customers.normalize import name_key

    connection = schema_editor.connection
    last = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(f"SELECT id, name FROM customers_customer WHERE id > %s ORDER BY id LIMIT {BATCH}", [last])
            rows = cursor.fetchall()
            if not rows:
                return
            keys = [(name_key(name or ""), pk) for pk, name in rows]
            with transaction.atomic(using=connection.alias):
                if connection.vendor == "postgresql":  # one statement a batch, not 2,000
                    cursor.execute("UPDATE customers_customer c SET name_key = v.k FROM unnest(%s::text[], %s::bigint[])"
                                   " AS v(k, id) WHERE c.id = v.id", [[k for k, _pk in keys], [pk for _k, pk in keys]])
                else:
                    cursor.executemany("UPDATE customers_customer SET name_key = %s WHERE id = %s", keys)
            last = rows[-1][0]


class Migration(migrations.Migration):
    atomic = False  # a million customers: each batch commits on its own
    dependencies = [("customers", "0015_contact_numbers_given"), migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(model_name="customer", name="name_key",
                                    field=models.CharField(blank=True, default="", editable=False, max_length=200)),
                migrations.AlterField(model_name="qualityissue", name="kind", field=_kind_field()),
            ],
            database_operations=[migrations.RunPython(add_column, drop_column)],
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.CreateModel(
            name="QualityDismissal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", _kind_field()),
                ("key", models.CharField(max_length=320)),
                ("customers", models.JSONField(default=list)),
                ("dismissed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("dismissed_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                   related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={"indexes": [models.Index(fields=["kind", "key"], name="quality_dismissal_idx")]},
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(condition=models.Q(("deleted_at__isnull", True)), fields=["name_key", "id"],
                               name="cust_name_key_idx"),
        ),
    ]
