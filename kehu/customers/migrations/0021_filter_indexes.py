"""The customers' categorical filters in the list's order (docs/decisions.md, "A filtered page…",
stop 45): `(column, id)` indexes with the owner beside the key. Five of them take the place of the
dictionary foreign keys' own single-column indexes, which are dropped by name.

The foreign keys' `db_index=False` is state only: Django's SQLite schema editor alters a field by
rebuilding the whole table, which would copy every customer and drop the triggers that keep the
search index (customers_customer_fts), so search would find nothing new (as 0013 explains). The
old indexes are dropped with `DROP INDEX` on both databases instead."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FOREIGN_KEYS = ("industry", "level", "region", "source", "type")
TABLE = "customers_customer"


def _old_index(schema_editor, name):
    return schema_editor._create_index_name(TABLE, [f"{name}_id"], suffix="")


def drop_foreign_key_indexes(apps, schema_editor):
    for name in FOREIGN_KEYS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{_old_index(schema_editor, name)}"')


def create_foreign_key_indexes(apps, schema_editor):
    for name in FOREIGN_KEYS:
        schema_editor.execute(f'CREATE INDEX "{_old_index(schema_editor, name)}" ON "{TABLE}" ("{name}_id")')


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0010_backuprun'),
        ('customers', '0020_pool_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customer',
                    name='industry',
                    field=models.ForeignKey(blank=True, db_index=False, limit_choices_to={'active': True, 'kind': 'industry'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.dictitem', verbose_name='industry'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='level',
                    field=models.ForeignKey(blank=True, db_index=False, limit_choices_to={'active': True, 'kind': 'customer_level'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.dictitem', verbose_name='level'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='region',
                    field=models.ForeignKey(blank=True, db_index=False, limit_choices_to={'active': True, 'kind': 'region'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.dictitem', verbose_name='sales region'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='source',
                    field=models.ForeignKey(blank=True, db_index=False, limit_choices_to={'active': True, 'kind': 'customer_source'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.dictitem', verbose_name='source'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='type',
                    field=models.ForeignKey(blank=True, db_index=False, limit_choices_to={'active': True, 'kind': 'customer_type'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.dictitem', verbose_name='customer type'),
                ),
            ],
            database_operations=[migrations.RunPython(drop_foreign_key_indexes, create_foreign_key_indexes)],
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['type', 'id'], include=('owner', 'deleted_at'), name='cust_type_id_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['level', 'id'], include=('owner', 'deleted_at'), name='cust_level_id_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['industry', 'id'], include=('owner', 'deleted_at'), name='cust_industry_id_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['source', 'id'], include=('owner', 'deleted_at'), name='cust_source_id_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['region', 'id'], include=('owner', 'deleted_at'), name='cust_region_id_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['status', 'id'], include=('owner',), name='cust_status_id_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['grade', 'id'], include=('owner',), name='cust_grade_id_idx'),
        ),
    ]
