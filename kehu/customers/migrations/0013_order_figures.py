"""The customer's kept order figures (kehu/orders/figures.py).

Added without copying the table: Django's SQLite schema editor adds a NOT NULL column with a
default by rebuilding the whole table, which would copy every customer and drop the triggers that
keep the search index (customers_customer_fts) and would leave search finding nothing new. SQLite's
own `ALTER TABLE … ADD COLUMN … NOT NULL DEFAULT …` adds them in place; on PostgreSQL the schema
editor's ADD COLUMN with a constant default is in place already."""

from decimal import Decimal

from django.db import migrations, models

import kehu.core.money


def _fields():
    money = dict(default=Decimal("0.00"), editable=False)
    return [
        ("first_order_on", models.DateField(blank=True, editable=False, null=True, verbose_name="first order")),
        ("last_order_on", models.DateField(blank=True, editable=False, null=True, verbose_name="last order")),
        ("order_count", models.PositiveIntegerField(default=0, editable=False, verbose_name="orders")),
        ("revenue", kehu.core.money.MoneyField(verbose_name="lifetime revenue", **money)),
        ("gross_profit", kehu.core.money.MoneyField(verbose_name="gross profit", **money)),
        ("amount_received", kehu.core.money.MoneyField(verbose_name="amount received", **money)),
        ("receivables", kehu.core.money.MoneyField(verbose_name="outstanding receivables", **money)),
    ]


SQLITE = {"first_order_on": "date NULL", "last_order_on": "date NULL",
          "order_count": "integer unsigned NOT NULL DEFAULT 0 CHECK (\"order_count\" >= 0)",
          "revenue": "decimal NOT NULL DEFAULT 0", "gross_profit": "decimal NOT NULL DEFAULT 0",
          "amount_received": "decimal NOT NULL DEFAULT 0", "receivables": "decimal NOT NULL DEFAULT 0"}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name, sql in SQLITE.items():
            schema_editor.execute(f'ALTER TABLE "customers_customer" ADD COLUMN "{name}" {sql}')
        return
    Customer = apps.get_model("customers", "Customer")
    for name, field in _fields():
        field.set_attributes_from_name(name)
        schema_editor.add_field(Customer, field)


def backwards(apps, schema_editor):
    for name, _field in reversed(_fields()):
        schema_editor.execute(f'ALTER TABLE "customers_customer" DROP COLUMN "{name}"')


class Migration(migrations.Migration):
    dependencies = [("customers", "0012_money_fields")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddField(model_name="customer", name=name, field=field)
                              for name, field in _fields()],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
