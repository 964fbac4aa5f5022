from django.db import migrations

from kehu.core.statistics import autovacuum_operation


class Migration(migrations.Migration):
    """PostgreSQL's autovacuum visits these tables after 1-2 % of their rows changed instead of
    10-20 % (kehu/core/statistics.py)."""

    dependencies = [
        ("sales", "0009_money_amount"),
    ]

    operations = [
        autovacuum_operation("sales_opportunity"),
    ]
