"""The default warehouse 默认仓库 (exactly one warehouse is the default) and the product search index."""

from django.db import migrations

from kehu.core.search import search_index_operation


def default_warehouse(apps, schema_editor):
    Warehouse = apps.get_model("catalog", "Warehouse")
    if not Warehouse.objects.filter(is_default=True).exists():
        Warehouse.objects.update_or_create(code="MAIN", defaults={
            "name": "默认仓库", "name_en": "Main warehouse", "is_default": True, "active": True})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [
        migrations.RunPython(default_warehouse, migrations.RunPython.noop),
        search_index_operation("catalog_product", ["search_text"]),
    ]
