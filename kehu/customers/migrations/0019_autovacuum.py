from django.db import migrations

from kehu.core.statistics import autovacuum_operation


class Migration(migrations.Migration):
    """PostgreSQL's autovacuum visits these tables after 1-2 % of their rows changed instead of
    10-20 % (kehu/core/statistics.py)."""

    dependencies = [
        ("customers", "0018_customer_place_indexes"),
    ]

    operations = [
        autovacuum_operation("customers_customer", "customers_contact"),
    ]
