from django.db import migrations, models

from kehu.core.statistics import analyze_indexes_operation


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0017_contact_scope_by_own_owner'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['province', 'id'], name='cust_province_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['city', 'id'], name='cust_city_idx'),
        ),
        analyze_indexes_operation("cust_province_idx", "cust_city_idx"),
    ]
