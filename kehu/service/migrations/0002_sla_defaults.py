import datetime

from django.db import migrations

# first response and resolution in business minutes, per priority, for any ticket type
POLICIES = {"urgent": (30, 240), "high": (60, 540), "normal": (240, 1620), "low": (480, 2700)}


def defaults(apps, schema_editor):
    WorkingHours = apps.get_model("service", "WorkingHours")
    SlaPolicy = apps.get_model("service", "SlaPolicy")
    for day in range(7):
        WorkingHours.objects.get_or_create(weekday=day, defaults={
            "working": day < 5, "starts": datetime.time(9), "ends": datetime.time(18)})
    for priority, (response, resolution) in POLICIES.items():
        SlaPolicy.objects.get_or_create(ticket_type=None, priority=priority, defaults={
            "response_minutes": response, "resolution_minutes": resolution, "remind_before_minutes": 30})


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]
    operations = [migrations.RunPython(defaults, migrations.RunPython.noop)]
