"""The industry and region filters with a created-date range read from their own indexes (issue 17)."""

from django.conf import settings
from django.db import migrations, models

from kehu.core.statistics import analyze_indexes_operation


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0010_backuprun'),
        ('customers', '0023_place_created_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['industry', 'created_at', 'id'], name='cust_industry_created_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['region', 'created_at', 'id'], name='cust_region_created_idx'),
        ),
        analyze_indexes_operation("cust_industry_created_idx", "cust_region_created_idx"),
    ]
