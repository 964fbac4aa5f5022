"""Search indexes for the opportunity and plan-step lists (kehu/core/search.py, issue 17): an
opportunity search for a rare term walked all 1M opportunities in id order (seconds)."""

from django.db import migrations

from kehu.core.search import search_index_operation


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL builds the GIN indexes, SQLite fills the FTS tables, outside one long transaction

    dependencies = [("sales", "0007_pipeline_totals")]
    operations = [
        search_index_operation("sales_opportunity", ["number", "title", "prospect_name"]),
        search_index_operation("sales_planstep", ["action", "result"]),
    ]
