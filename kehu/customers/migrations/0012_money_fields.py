"""annual_revenue and deal_amount become MoneyFields (kehu/core/money.py): the same numeric(18, 2)
column, so only the migration state changes. An AlterField would make SQLite copy the whole table
(and drop the search triggers with it) for no change of the column."""

from decimal import Decimal

import django.core.validators
from django.db import migrations

import kehu.core.money


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0011_last_activity_sort"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="customer",
                    name="annual_revenue",
                    field=kehu.core.money.MoneyField(
                        blank=True, null=True, validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="annual revenue"),
                ),
                migrations.AlterField(
                    model_name="customer",
                    name="deal_amount",
                    field=kehu.core.money.MoneyField(
                        blank=True, null=True, validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="deal amount"),
                ),
            ],
            database_operations=[],
        ),
    ]
