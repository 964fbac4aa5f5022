from django.db import migrations

# (name, name_en, order, probability, is_won, is_lost): the seed's default pipeline
STAGES = [
    ("初步意向", "Initial intent", 10, 10, False, False),
    ("需求确认", "Needs confirmed", 20, 30, False, False),
    ("方案报价", "Proposal", 30, 50, False, False),
    ("商务谈判", "Negotiation", 40, 70, False, False),
    ("签约", "Signing", 50, 90, False, False),
    ("赢单", "Won", 60, 100, True, False),
    ("输单", "Lost", 70, 0, False, True),
]


def create_stages(apps, schema_editor):
    Stage = apps.get_model("sales", "Stage")
    if Stage.objects.exists():
        return
    for name, name_en, order, probability, is_won, is_lost in STAGES:
        Stage.objects.create(name=name, name_en=name_en, order=order, probability=probability, is_won=is_won,
                             is_lost=is_lost)


def remove_stages(apps, schema_editor):
    Stage = apps.get_model("sales", "Stage")
    Stage.objects.filter(name__in=[s[0] for s in STAGES], opportunities__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]
    operations = [migrations.RunPython(create_stages, remove_stages)]
