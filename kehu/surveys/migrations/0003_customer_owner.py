"""A survey keeps a copy of its customer's owner (CarriesCustomerOwner), filled from the customers,
so that its data scope is a column of its own table (issue 17)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from kehu.core.statistics import analyze_indexes_operation


class Migration(migrations.Migration):

    dependencies = [
        ('activities', '0011_autovacuum'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('customers', '0023_place_created_indexes'),
        ('surveys', '0002_search_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='survey',
            name='survey_owner_idx',
        ),
        migrations.AddField(
            model_name='survey',
            name='customer_owner',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name="customer's owner"),
        ),
        migrations.RunSQL(
            "UPDATE surveys_survey SET customer_owner_id = (SELECT c.owner_id FROM customers_customer c "
            "WHERE c.id = surveys_survey.customer_id)", migrations.RunSQL.noop, elidable=False),
        migrations.AddIndex(
            model_name='survey',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['owner', 'id'], include=('customer_owner',), name='survey_owner_idx'),
        ),
        migrations.AddIndex(
            model_name='survey',
            index=models.Index(fields=['customer_owner', 'id'], include=('deleted_at',), name='survey_customer_owner_idx'),
        ),
        analyze_indexes_operation("survey_owner_idx", "survey_customer_owner_idx"),
    ]
