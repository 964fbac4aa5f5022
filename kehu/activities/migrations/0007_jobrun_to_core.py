"""JobRun moved to core (kehu/core/scheduler.py): its rows are copied to core_jobrun, so a daily
job that ran today does not run again, then the activities table is dropped."""

from django.db import migrations


def copy_to_core(apps, schema_editor):
    Old = apps.get_model("activities", "JobRun")
    New = apps.get_model("core", "JobRun")
    for run in Old.objects.all():
        New.objects.update_or_create(name=run.name, defaults={"last_run_at": run.last_run_at})


def copy_back(apps, schema_editor):
    Old = apps.get_model("activities", "JobRun")
    New = apps.get_model("core", "JobRun")
    for run in New.objects.all():
        Old.objects.update_or_create(name=run.name, defaults={"last_run_at": run.last_run_at})


class Migration(migrations.Migration):

    dependencies = [
        ('activities', '0006_search_indexes'),
        ('core', '0007_jobrun'),
    ]

    operations = [
        migrations.RunPython(copy_to_core, copy_back),
        migrations.DeleteModel(
            name='JobRun',
        ),
    ]
