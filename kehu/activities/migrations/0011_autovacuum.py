from django.db import migrations

from kehu.core.statistics import autovacuum_operation


class Migration(migrations.Migration):
    """PostgreSQL's autovacuum visits these tables after 1-2 % of their rows changed instead of
    10-20 % (kehu/core/statistics.py)."""

    dependencies = [
        ("activities", "0010_followup_pending_walk"),
    ]

    operations = [
        autovacuum_operation("activities_followup", "activities_task"),
    ]
