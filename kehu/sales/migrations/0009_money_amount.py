"""Opportunity.amount becomes a MoneyField (kehu/core/money.py): the same numeric(18, 2) column, so
only the migration state changes. An AlterField would make SQLite copy the table and drop its
triggers (the pipeline totals', migration 0007, and the search index's) for no change of the column."""

from decimal import Decimal

import django.core.validators
from django.db import migrations

import kehu.core.money


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0008_search_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="opportunity",
                    name="amount",
                    field=kehu.core.money.MoneyField(
                        blank=True, null=True, validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="amount"),
                ),
            ],
            database_operations=[],
        ),
    ]
