# The late filter read newest first: the open orders by id, with the promise and the owner tested
# in the index (kehu/orders/models.py, Order.Meta.indexes).

from django.db import migrations, models

from kehu.core.statistics import analyze_indexes_operation


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0007_owner_covering_search'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True), ('status__in', ('created', 'processing', 'shipped'))), fields=['id', 'promised_date', 'owner'], name='order_open_late_idx'),
        ),
        analyze_indexes_operation("order_open_late_idx"),
    ]
