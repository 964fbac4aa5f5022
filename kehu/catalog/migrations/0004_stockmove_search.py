"""The stock ledger's search (an order's number, a reason) through the search index."""

from django.db import migrations

from kehu.core.search import search_index_operation


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_category_parent_index")]
    operations = [search_index_operation("catalog_stockmove", ["document_label", "reason"])]
