"""Indexes of a payment's and an invoice's order and contract hold only the rows that have one (see the models)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0010_backuprun'),
        ('customers', '0016_name_key'),
        ('orders', '0005_order_external_number'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='invoice',
            name='invoice_order_idx',
        ),
        migrations.RemoveIndex(
            model_name='invoice',
            name='invoice_contract_idx',
        ),
        migrations.RemoveIndex(
            model_name='payment',
            name='payment_order_idx',
        ),
        migrations.RemoveIndex(
            model_name='payment',
            name='payment_contract_idx',
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True), ('order__isnull', False)), fields=['order', 'id'], name='invoice_order_idx'),
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True), ('contract__isnull', False)), fields=['contract', 'id'], name='invoice_contract_idx'),
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True), ('order__isnull', False)), fields=['order', 'id'], name='payment_order_idx'),
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True), ('contract__isnull', False)), fields=['contract', 'id'], name='payment_contract_idx'),
        ),
    ]
