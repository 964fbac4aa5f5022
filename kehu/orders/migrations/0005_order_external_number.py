"""The order's external number (外部单号: the number in the system an order was imported from, or the
customer's purchase order number), with a partial index of the numbers given.

Added without copying the table: Django's SQLite schema editor adds a NOT NULL column with a
default by rebuilding the table, which drops the triggers that keep its search index
(orders_order_fts), so search stopped finding new orders. SQLite's own `ALTER TABLE … ADD COLUMN
… NOT NULL DEFAULT ''` adds it in place (as customers/0013)."""

from django.db import migrations, models

HELP = "The order's number in the system it came from, or the customer's purchase order number."


def _field():
    return models.CharField(blank=True, help_text=HELP, max_length=64, verbose_name="external number")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("ALTER TABLE \"orders_order\" ADD COLUMN \"external_number\" varchar(64) NOT NULL DEFAULT ''")
        return
    Order = apps.get_model("orders", "Order")
    field = _field()
    field.set_attributes_from_name("external_number")
    schema_editor.add_field(Order, field)


def backwards(apps, schema_editor):
    schema_editor.execute('ALTER TABLE "orders_order" DROP COLUMN "external_number"')


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0004_payment_invoice_owner'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddField(model_name="order", name="external_number", field=_field())],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True), models.Q(('external_number', ''), _negated=True)), fields=['external_number'], name='order_external_idx'),
        ),
    ]
